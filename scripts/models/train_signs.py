"""Train the traffic-sign classifier shipped as models/shipped/traffic-signs.onnx.

Data, all made here (nothing downloaded):
- sim views: `hardware.sim.sign_views` renders each sign from random distances,
  angles, heights, floors, walls and lighting (seed 1 for training);
- printed signs: the sign textures warped in perspective onto random
  backgrounds (paper edge, gradients, clutter), as a phone or Pi camera sees
  a printed sign held up in a room;
- "none": crops of sim camera frames of the sign-free worlds.
Every training picture is augmented again (brightness, contrast, colour cast,
blur, noise, small shifts). The held-out set uses other seeds (sign_views
seed 1000, other printed-sign and "none" seeds) that training never sees, and
the sign-road score uses crops of the robot's camera driving the sign-road world.

    .venv/bin/python scripts/models/train_signs.py [--quick]
"""

# ruff: noqa: T201 - a script reports what it does
from __future__ import annotations

import argparse
import math
import time

import cv2
import numpy as np
import torch
from common import SHIPPED, export, git_commit, machine, seed_everything, threads, write_manifest
from torch import nn

from hardware.sim import (
    SIGN_KINDS,
    BodySpec,
    CameraSpec,
    Pose,
    load_world,
    sign_texture,
    sign_views,
    world_path,
)
from rcbase import ConfigError
from rcbase.resize import resize

SIZE = 64
NONE = "none"
LABELS = [*SIGN_KINDS, NONE]
ZH = {
    "stop": "停车",
    "yield": "让行",
    "no_entry": "禁止驶入",
    "left": "向左转",
    "right": "向右转",
    "straight": "直行",
    "speed_20": "限速20",
    "speed_40": "限速40",
    "parking": "停车场",
    NONE: "没有标志",
    **{f"number_{d}": f"数字{d}" for d in range(10)},
}
EN = {
    "stop": "Stop",
    "yield": "Yield",
    "no_entry": "No entry",
    "left": "Turn left",
    "right": "Turn right",
    "straight": "Straight on",
    "speed_20": "Speed limit 20",
    "speed_40": "Speed limit 40",
    "parking": "Parking",
    NONE: "No sign",
    **{f"number_{d}": f"Number {d}" for d in range(10)},
}
SIGN_FREE_WORLDS = ("oval-track", "figure-eight", "obstacle-room", "colour-zones", "aruco-arena")


def sim_views(per_kind: int, seed: int) -> list[tuple[int, np.ndarray]]:
    return [(LABELS.index(k), img) for k, img in sign_views(per_kind, SIZE, seed)]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:  # plain wall or paper
        bg = np.full((size, size, 3), rng.integers(30, 250, 3), np.uint8)
    elif kind == 1:  # gradient
        a, b = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
        t = np.linspace(0, 1, size)[:, None, None]
        bg = (a * (1 - t) + b * t).astype(np.uint8).repeat(size, axis=1)
    else:  # clutter: random rectangles and lines
        bg = np.full((size, size, 3), rng.integers(60, 200, 3), np.uint8)
        for _ in range(int(rng.integers(3, 12))):
            p = rng.integers(0, size, 4)
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            if rng.random() < 0.5:
                cv2.rectangle(bg, (int(p[0]), int(p[1])), (int(p[2]), int(p[3])), colour, -1)
            else:
                cv2.line(
                    bg,
                    (int(p[0]), int(p[1])),
                    (int(p[2]), int(p[3])),
                    colour,
                    int(rng.integers(1, 5)),
                )
    noise = rng.normal(0, rng.uniform(0, 10), bg.shape)
    return np.clip(bg + noise, 0, 255).astype(np.uint8)


def printed(kind: str, rng: np.random.Generator) -> np.ndarray:
    """A printed sign (white paper margin) seen in perspective on a random background."""
    tex = sign_texture(kind, 96)
    paper = np.full((120, 120, 3), rng.integers(200, 256), np.uint8)
    alpha = tex[:, :, 3:4].astype(np.float32) / 255.0
    paper[12:108, 12:108] = (tex[:, :, :3] * alpha + paper[12:108, 12:108] * (1 - alpha)).astype(
        np.uint8
    )
    out = 160
    bg = _background(rng, out)
    side = rng.uniform(0.55, 0.95) * out
    cx, cy = out / 2 + rng.uniform(-0.08, 0.08) * out, out / 2 + rng.uniform(-0.08, 0.08) * out
    yaw = math.radians(rng.uniform(-45, 45))
    squeeze = math.cos(yaw)
    half = side / 2
    dst = np.array(
        [
            [-half * squeeze, -half],
            [half * squeeze, -half],
            [half * squeeze, half],
            [-half * squeeze, half],
        ],
        np.float32,
    )
    dst[:, 1] += np.array([-1, 1, -1, 1]) * 0 + np.sign(dst[:, 0]) * math.sin(yaw) * half * 0.25
    rot = math.radians(rng.uniform(-15, 15))
    r = np.array([[math.cos(rot), -math.sin(rot)], [math.sin(rot), math.cos(rot)]], np.float32)
    dst = dst @ r.T + np.array([cx, cy], np.float32)
    dst += rng.normal(0, side * 0.02, dst.shape).astype(np.float32)
    src = np.array([[0, 0], [119, 0], [119, 119], [0, 119]], np.float32)
    h = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(paper, h, (out, out), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((120, 120), 255, np.uint8), h, (out, out))
    img = np.where(mask[:, :, None] > 127, warped, bg)
    return resize(img, (SIZE, SIZE))


def printed_set(per_kind: int, seed: int) -> list[tuple[int, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(LABELS.index(k), printed(k, rng)) for k in SIGN_KINDS for _ in range(per_kind)]


def none_set(count: int, seed: int) -> list[tuple[int, np.ndarray]]:
    """Crops of camera frames from worlds without signs."""
    rng = np.random.default_rng(seed)
    out: list[tuple[int, np.ndarray]] = []
    worlds = []
    for name in SIGN_FREE_WORLDS:
        try:
            worlds.append(load_world(world_path(name)))
        except ConfigError as exc:  # a world being edited: use the others
            print(f"skipping world {name}: {exc}")
    per_world = math.ceil(count / len(worlds))
    for world in worlds:
        robot = world.add_robot(BodySpec())
        w, h = world.model.size
        for _ in range(per_world):
            robot.teleport(
                Pose(rng.uniform(0.2, w - 0.2), rng.uniform(0.2, h - 0.2), rng.uniform(0, 360))
            )
            spec = CameraSpec(
                width=320,
                height=240,
                tilt_deg=float(rng.uniform(-25, 5)),
                brightness=float(rng.uniform(0.6, 1.3)),
                seed=int(rng.integers(1 << 30)),
            )
            frame = robot.camera(spec).read()
            s = int(rng.integers(40, 200))
            x, y = int(rng.integers(0, 320 - s + 1)), int(rng.integers(0, 240 - s + 1))
            out.append(
                (
                    LABELS.index(NONE),
                    resize(frame[y : y + s, x : x + s], (SIZE, SIZE)),
                )
            )
    return out[:count] if len(out) > count else out


def sign_road_set(seed: int) -> list[tuple[int, np.ndarray]]:
    """Crops (around the projected sign plate) of camera frames driving the sign-road world."""
    rng = np.random.default_rng(seed)
    world = load_world(world_path("sign-road"))
    robot = world.add_robot(BodySpec())
    out: list[tuple[int, np.ndarray]] = []
    for sign in world.model.signs:
        f = math.radians(sign.facing)
        n = np.array([math.cos(f), math.sin(f)])
        t = np.array([-math.sin(f), math.cos(f)])
        centre = np.array(sign.at) + 0.014 * n
        for _ in range(40):
            d = rng.uniform(0.25, 0.9)
            side = math.radians(rng.uniform(-30, 30))
            view = np.array(
                [
                    n[0] * math.cos(side) - n[1] * math.sin(side),
                    n[0] * math.sin(side) + n[1] * math.cos(side),
                ]
            )
            x, y = np.array(sign.at) + d * view
            heading = math.degrees(math.atan2(sign.at[1] - y, sign.at[0] - x)) + rng.uniform(
                -15, 15
            )
            robot.teleport(Pose(float(x), float(y), heading))
            cam = robot.camera(
                CameraSpec(
                    width=320,
                    height=240,
                    tilt_deg=float(rng.uniform(-15, 0)),
                    seed=int(rng.integers(1 << 30)),
                )
            )
            frame = cam.read()
            half = sign.size / 2
            corners = np.array(
                [
                    [*(centre - t * half), sign.elevation],
                    [*(centre + t * half), sign.elevation],
                    [*(centre + t * half), sign.elevation + sign.size],
                    [*(centre - t * half), sign.elevation + sign.size],
                ]
            )
            uv, depth = cam.project(corners)
            if (depth <= 0.05).any():
                continue
            (u0, v0), (u1, v1) = uv.min(axis=0), uv.max(axis=0)
            s = max(u1 - u0, v1 - v0) * 1.25
            a, b = round((u0 + u1) / 2 - s / 2), round((v0 + v1) / 2 - s / 2)
            s = max(8, round(s))
            if a < 0 or b < 0 or a + s > 320 or b + s > 240:
                continue
            out.append(
                (
                    LABELS.index(sign.kind),
                    resize(frame[b : b + s, a : a + s], (SIZE, SIZE)),
                )
            )
    return out


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32)
    x = x * rng.uniform(0.6, 1.4) + rng.uniform(-40, 40)  # brightness and contrast
    x = x * rng.uniform(0.85, 1.15, 3)  # colour cast (white balance)
    x = np.clip(x, 0, 255)
    if rng.random() < 0.5:  # gamma
        x = 255.0 * (x / 255.0) ** rng.uniform(0.7, 1.4)
    out = x.astype(np.uint8)
    if rng.random() < 0.4:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    if rng.random() < 0.3:  # motion blur
        k = int(rng.integers(3, 7))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        out = cv2.filter2D(out, -1, kernel)
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), rng.uniform(-8, 8), rng.uniform(0.9, 1.1))
    m[:, 2] += rng.uniform(-4, 4, 2)
    out = cv2.warpAffine(out, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
    noise = rng.normal(0, rng.uniform(0, 8), out.shape)
    return np.clip(out + noise, 0, 255).astype(np.uint8)


def block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def network(classes: int) -> nn.Module:
    return nn.Sequential(
        block(3, 16, 2),  # 32
        block(16, 32, 2),  # 16
        block(32, 32, 1),
        block(32, 64, 2),  # 8
        block(64, 64, 1),
        block(64, 96, 2),  # 4
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(96, classes),
    )


def to_tensor(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return (x - 0.5) / 0.25


def accuracy(net: nn.Module, data: list[tuple[int, np.ndarray]]) -> float:
    net.eval()
    with torch.no_grad():
        x = to_tensor(np.stack([img for _, img in data]))
        y = np.array([label for label, _ in data])
        pred = net(x).argmax(1).numpy()
    return float((pred == y).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run to test the script")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    n_threads = threads()
    seed_everything(1)
    per_kind = 20 if args.quick else 300
    epochs = 2 if args.quick else args.epochs
    t0 = time.time()
    train = (
        sim_views(per_kind, seed=1)
        + printed_set(per_kind // 2, seed=2)
        + none_set(per_kind * 2, seed=3)
    )
    held_sim = sim_views(per_kind // 3, seed=1000)
    held_printed = printed_set(per_kind // 6, seed=1001)
    held_none = none_set(per_kind // 2, seed=1002)
    road = sign_road_set(seed=1003)
    print(
        f"data: {len(train)} training, {len(held_sim)}+{len(held_printed)}+{len(held_none)} held out, {len(road)} sign-road crops ({time.time() - t0:.0f} s)"
    )

    rng = np.random.default_rng(4)
    images = np.stack([img for _, img in train])
    labels = torch.tensor([label for label, _ in train])
    net = network(len(LABELS))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(train) / 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(train))
        total = 0.0
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            batch = np.stack([augment(images[j], rng) for j in idx])
            loss = loss_fn(net(to_tensor(batch)), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(
                f"epoch {epoch + 1}/{epochs}: loss {total / len(train):.3f}, held-out sim {accuracy(net, held_sim):.3f}"
            )

    scores = {
        "sim": accuracy(net, held_sim),
        "printed": accuracy(net, held_printed),
        "none": accuracy(net, held_none),
        "road": accuracy(net, road),
    }
    print("held-out accuracy:", scores)
    net.eval()
    onnx_path = SHIPPED / "traffic-signs.onnx"
    sha = export(net, SIZE, SIZE, onnx_path)
    manifest = {
        "name": "traffic-signs",
        "version": "1.1.0",
        "task": "classify",
        "title": {"en": "Traffic signs and numbers", "zh": "交通标志和数字"},
        "file": onnx_path.name,
        "sha256": sha,
        "input": {
            "width": SIZE,
            "height": SIZE,
            "layout": "NHWC",
            "colour": "BGR",
            "dtype": "uint8",
            "resize": "stretch",
            "normalise": "in-graph",
        },
        "output": {"format": "logits", "score": 0.5},
        "labels": [{"id": k, "en": EN[k], "zh": ZH[k]} for k in LABELS],
        "licence": "Apache-2.0",
        "source": "RoboClass: trained by the script below on pictures it renders; nothing downloaded",
        "made_by": {
            "script": "scripts/models/train_signs.py",
            "data": f"hardware.sim sign_views (seed 1, {per_kind}/sign), printed signs in perspective (seed 2), sign-free sim worlds (seed 3); {epochs} epochs, git {git_commit()}, {machine()}, {n_threads} thread(s), {time.time() - t0:.0f} s",
            "command": "make models",
        },
        "accuracy": [
            {
                "metric": "top1",
                "value": round(scores["sim"], 4),
                "dataset": "held-out sim sign views (seed 1000, never trained on)",
                "samples": len(held_sim),
            },
            {
                "metric": "top1",
                "value": round(scores["printed"], 4),
                "dataset": "held-out printed signs in perspective (seed 1001)",
                "samples": len(held_printed),
            },
            {
                "metric": "top1",
                "value": round(scores["none"], 4),
                "dataset": "held-out crops without signs (seed 1002)",
                "samples": len(held_none),
            },
            {
                "metric": "top1",
                "value": round(scores["road"], 4),
                "dataset": "sign-road world: robot camera crops around each sign (seed 1003)",
                "samples": len(road),
            },
        ],
    }
    write_manifest(SHIPPED / "traffic-signs.yaml", manifest)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and its manifest")


if __name__ == "__main__":
    main()

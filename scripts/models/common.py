"""Shared by the training scripts: seeds, ONNX export, manifest writing.

Training scripts are not runtime code: they need torch (`pip install -e '.[train]'`),
robots never run them. `make models` runs them all.
"""

from __future__ import annotations

import hashlib
import os
import platform
import random
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "shipped"
OPSET = 17  # onnxruntime 1.17+ runs it


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def threads() -> int:
    """Leave a core to the other engineers on a 2-core machine unless told otherwise."""
    n = int(os.environ.get("ROBOCLASS_TRAIN_THREADS", "1"))
    torch.set_num_threads(n)
    return n


class Uint8Input(torch.nn.Module):
    """Wraps a float NCHW network so the ONNX graph takes raw uint8 BGR NHWC pixels.

    The robot then only resizes a frame: no transpose, scaling or colour swap in Python.
    """

    def __init__(self, net: torch.nn.Module, mean: float = 0.5, std: float = 0.25) -> None:
        super().__init__()
        self.net = net
        self.mean = mean
        self.std = std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 3, 1, 2).float() * (1.0 / 255.0)
        return self.net((x - self.mean) / self.std)


def export(net: torch.nn.Module, height: int, width: int, path: Path) -> str:
    """Export ``Uint8Input(net)`` to ``path``; return the file's sha256."""
    model = Uint8Input(net).eval()
    dummy = torch.zeros(1, height, width, 3, dtype=torch.uint8)
    torch.onnx.export(
        model,
        (dummy,),
        str(path),
        input_names=["image"],
        output_names=["output"],
        opset_version=OPSET,
        dynamo=False,
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


def git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    header = "# Written by the script named in made_by; do not edit by hand: run `make models`.\n"
    path.write_text(header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100))


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}"

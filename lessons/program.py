"""The student's program, before and after its run: its folder, its rights, its models.

:func:`start_program` copies the program and the lesson's assets (never its
grader or solution) into a fresh work folder and starts it in a
:class:`~lessons.sandbox.Sandbox`, the robot on a file descriptor, with an
environment of its own: nothing of this process's is passed on. The
program's data folder (``OWN_DATA`` in its work folder) sees this
computer's models through links; a model it exports there is checked
(manifest, sha256, size) and kept by :func:`keep_exported_models` after the
run. :mod:`lessons.runner` runs and grades it::

    proc = start_program(work, lesson, student, kit=None, profile=profile, places=places,
                         fd=child_sock.fileno(), fast=True, limits=limits_for(30.0),
                         confined=must_confine(False))
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hardware.kit import KitProfile
from lessons.errors import RunnerError, SandboxError
from lessons.model import Lesson
from lessons.sandbox import Limits, Sandbox, SandboxedProcess, available, default_limits
from models import sha256_of
from models.manifest import load_manifest
from rcbase.files import write_atomic

__all__ = [
    "MAX_EXPORTED_MODEL",
    "OWN_DATA",
    "keep_exported_models",
    "kit_file",
    "limits_for",
    "must_confine",
    "start_program",
]

logger = logging.getLogger(__name__)

#: Where the program's own data folder is, inside its work folder.
OWN_DATA = ".roboclass"
#: The largest model file the runner keeps from a program's export.
MAX_EXPORTED_MODEL = 64 * 1024**2


def kit_file(lesson: Lesson, kit: str | None) -> Path | None:
    """The lesson's own kit profile (``hardware: {kit: kit.yaml}`` beside lesson.yaml), if any."""
    name = kit or lesson.model.hardware.kit
    if name.endswith((".yaml", ".yml")) and lesson.file(name).is_file():
        return lesson.file(name)
    return None


def _copy_in(work: Path, lesson: Lesson, student: Path) -> Path:
    """Copy the student's code and the lesson's assets (not its grader or solution) into ``work``."""
    entry = work / lesson.model.entry
    shutil.copyfile(student, entry)
    hidden = {"check.py", "solution.py", "lesson.yaml", lesson.model.entry}
    for extra in lesson.path.iterdir():
        if extra.is_file() and extra.name not in hidden:
            shutil.copyfile(extra, work / extra.name)
    return entry


def start_program(
    work: Path,
    lesson: Lesson,
    student: Path,
    *,
    kit: str | None,
    profile: KitProfile,
    places: dict[str, str],
    fd: int,
    fast: bool,
    limits: Limits,
    confined: bool,
) -> SandboxedProcess:
    """Copy the program into ``work`` and start it in a sandbox with the robot on ``fd``."""
    entry = _copy_in(work, lesson, student)
    box = Sandbox(work=work, read_only=_readable(places), limits=limits, confined=confined)
    own_kit = kit_file(lesson, kit)  # the child loads the lesson's kit from its copy
    kit_ref = str(box.inside(work / own_kit.name)) if own_kit else profile.name
    box.env = _child_env(kit_ref, fd, _own_data(box, places), box.inside(work), fast=fast)
    return box.start(
        [sys.executable, "-m", "hardware.child", str(box.inside(entry))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=(fd,),
    )


def limits_for(wall: float) -> Limits:
    """This computer's limits, with CPU time a little past the wall limit."""
    base = default_limits()
    return Limits(memory_bytes=base.memory_bytes, cpu_seconds=int(wall) + 5)


def must_confine(unconfined_ok: bool) -> bool:
    """Whether the program must run in a sandbox (:class:`SandboxError` when none can be made)."""
    found = available()
    if found.ok:
        return True
    if unconfined_ok and os.environ.get("CI", "").lower() != "true":
        return False
    raise SandboxError(
        f"no sandbox for the student's program: {found.reason}; fix: {found.fix} "
        "(roboclass doctor checks it)"
    )


def _own_data(box: Sandbox, places: dict[str, str]) -> dict[str, str]:
    """The program's data folder, inside its work folder: the models of this computer's data
    folder seen through links (read-only), and room for a model it exports. The cache stays
    where it is, read-only."""
    work = box.work
    if work is None:
        raise RunnerError("a lesson's sandbox needs a work folder")
    real = Path(places["ROBOCLASS_DATA_DIR"]) / "models"
    own = work / OWN_DATA / "models"
    own.mkdir(parents=True)
    if real.is_dir():
        for file in real.iterdir():
            if file.suffix == ".onnx":
                (own / file.name).symlink_to(file)
            elif file.suffix in (".yaml", ".yml") and file.is_file():
                shutil.copyfile(file, own / file.name)  # small; a program may write over its copy
    return {
        "ROBOCLASS_DATA_DIR": str(box.inside(work / OWN_DATA)),
        "ROBOCLASS_CACHE_DIR": places["ROBOCLASS_CACHE_DIR"],
    }


def _readable(places: dict[str, str]) -> list[Path]:
    """What the program may read besides Python and our packages: the models on this computer."""
    return [
        Path(places["ROBOCLASS_DATA_DIR"]) / "models",
        Path(places["ROBOCLASS_CACHE_DIR"]) / "models",
    ]


def keep_exported_models(own: Path, real: Path) -> None:
    """Keep the models the program exported (real files, not links), once checked here."""
    if not own.is_dir():
        return
    for manifest_path in sorted(own.glob("*.yaml")):
        try:
            manifest = load_manifest(manifest_path)
            model = own / manifest.file
            if (
                model.is_symlink()
                or not model.is_file()
                or model.parent != own
                or model.stat().st_size > MAX_EXPORTED_MODEL
            ):
                continue
            data = model.read_bytes()
            if sha256_of(data) != manifest.sha256:
                logger.warning(
                    "exported model %s does not match its manifest: not kept", model.name
                )
                continue
            text = manifest_path.read_bytes()
            old = real / manifest_path.name
            if old.is_file() and old.read_bytes() == text:
                continue  # the copy it was given, unchanged
        except (OSError, ValueError) as exc:
            logger.warning("exported model %s not kept: %s", manifest_path.name, exc)
            continue
        real.mkdir(parents=True, exist_ok=True)
        write_atomic(real / manifest.file, data)
        write_atomic(real / manifest_path.name, text)
        logger.info("kept the exported model %s (%d bytes)", manifest.name, len(data))


def _child_env(
    kit: str, fd: int, places: dict[str, str], home: Path, *, fast: bool
) -> dict[str, str]:
    """The program's whole environment (nothing of this process's own is passed on)."""
    return {
        **places,
        "ROBOCLASS_BACKEND": "remote",
        "ROBOCLASS_KIT": kit,
        "ROBOCLASS_REMOTE_FD": str(fd),
        "ROBOCLASS_SIM_FAST": "1" if fast else "0",
        "ROBOCLASS_CONFIG_DIR": str(home),  # no robot.yaml of this computer leaks in
        "PYTHONUNBUFFERED": "1",
    }

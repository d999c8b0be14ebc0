"""Fresh venvs installed from wheels only, as a school installs RoboClass.

``wheelhouse(wheel, extras)`` fetches the pinned dependencies of our wheel as
wheels for this computer once, into ``build/wheelhouse/KEY`` (KEY: the
requirements, constraints.txt, Python and machine); the only step that uses
the package index. ``fresh_venv`` installs from it with ``--no-index``, and
``clean_env`` is the environment for everything that runs there: no
PYTHONPATH (it would put this checkout in front of the installed package), no
pip configuration.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from roboclass.offline import OfflineError, Target, requirements_for
from roboclass.offline_pip import pip
from tests.conftest import IN_CI

__all__ = ["ROOT", "clean_env", "fresh_venv", "needs_index", "wheelhouse"]

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without PYTHONPATH, a venv or pip settings; plus ``extra``."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.update(extra)
    return env


@contextmanager
def needs_index() -> Iterator[None]:
    """A step that fetches from the package index, the one outside part these tests need:
    when it cannot be reached the test is skipped, except under ``CI=true`` (the error stands)."""
    try:
        yield
    except OfflineError as exc:
        if "cannot reach the package index" in str(exc) and not IN_CI:
            pytest.skip(str(exc))
        raise


def wheelhouse(wheel: Path, extras: Sequence[str]) -> Path:
    """The wheels of ``wheel``'s dependencies with ``extras``, pinned by constraints.txt."""
    requirements = requirements_for(wheel, extras, Target.here())
    facts = [requirements, CONSTRAINTS.read_text(encoding="utf-8"), sys.version, platform.machine()]
    key = hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]
    folder = ROOT / "build" / "wheelhouse" / key
    if (folder / ".complete").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        with needs_index():
            pip(
                ["wheel", "-q", "-w", str(work), "-c", str(CONSTRAINTS), *requirements],
                "fetching the dependencies' wheels",
            )
            (work / ".complete").write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
            if folder.exists():  # another run made it meanwhile
                shutil.rmtree(folder)
            work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def fresh_venv(folder: Path, wheel: Path, extras: Sequence[str], house: Path) -> Path:
    """A new venv in ``folder`` with ``wheel`` and ``extras``, installed with no index."""
    env = clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(folder)], env=env, check=True, timeout=300)
    # As /opt/roboclass/venv is: run as root, the lesson sandbox's program is another
    # user, who must read the venv (pytest makes its folders 0700).
    folder.chmod(0o755)
    version = parse_wheel_filename(wheel.name)[1]
    extra = f"[{','.join(extras)}]" if extras else ""
    install = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index"]
    install += ["--find-links", str(house), "--find-links", str(wheel.parent)]
    install += ["-c", str(CONSTRAINTS), f"roboclass{extra}=={version}"]
    done = subprocess.run(
        install, env=env, cwd=folder, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return folder / "bin"

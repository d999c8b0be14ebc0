"""The roboclass wheel, installed as a school installs it: not editable, from wheels only.

The editable install that ``make`` and the other tests use reads the data
files (lessons, worlds, kits, models, the console's pages) from the checkout,
so a wheel without them passes every other test. Here the wheel is built
from this checkout, installed into a fresh venv with ``--no-index`` from a
wheelhouse of the pinned dependencies, and the commands that read those files
run from the installed package, with the checkout out of sight: no
PYTHONPATH, another working folder.

Each check compares with the checkout's own folders, so a file added to them
later (a lesson, a page's script in a subfolder) must reach the wheel too.

The wheelhouse of the dependencies is fetched once (the only step that needs
the package index) and kept under ``build/wheelhouse/``, keyed by what it
holds; the install itself reads nothing else.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from roboclass.offline import build_own_wheel
from roboclass.offline_wheel import source_date_epoch
from tests.integration.wheelhouse import ROOT, clean_env, fresh_venv, wheelhouse

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

EXTRAS = ("console", "demo")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_own_wheel(ROOT, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def venv(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its `console` and `demo` extras; its bin folder."""
    house = wheelhouse(built, EXTRAS)
    return fresh_venv(tmp_path_factory.mktemp("venv"), built, EXTRAS, house)


@pytest.fixture
def run(venv: Path, tmp_path: Path) -> Iterator[RunInVenv]:
    yield RunInVenv(venv, tmp_path)


class RunInVenv:
    """``roboclass ...`` from the venv, in an empty folder, with its own data folders."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin = bin_dir
        self.folder = folder
        self.env = clean_env(
            ROBOCLASS_DATA_DIR=str(folder / "data"),
            ROBOCLASS_CACHE_DIR=str(folder / "cache"),
            ROBOCLASS_CONFIG_DIR=str(folder / "config"),
        )

    def command(self, *args: str) -> list[str]:
        return [str(self.bin / "roboclass"), "--lang", "en", *args]

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str, timeout: float = 120) -> object:
        done = self(*args, "--json", timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


def _source_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def test_the_wheel_holds_every_data_file_of_the_checkout(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        names = set(zf.namelist())
    folders = [
        "lessons/library",
        "hardware/kits",
        "hardware/sim/worlds",
        "models/shipped",
        "fleet/console/static",
        "firmware_bridge/firmware",
        "firmware_bridge/simboard",
    ]
    wanted = {p.relative_to(ROOT).as_posix() for f in folders for p in _source_files(ROOT / f)}
    assert wanted - names == set()
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert parse_wheel_filename(built.name)[0] == "roboclass"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_wheel_is_reproducible(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same checkout copied elsewhere (other paths, new file times): the same sha256."""
    epoch = source_date_epoch(ROOT)  # the last commit's time, as for `built`
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    copy = tmp_path / "elsewhere"
    skip = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".*cache")
    shutil.copytree(ROOT, copy, ignore=skip, copy_function=shutil.copy)  # new mtimes
    again = build_own_wheel(copy, tmp_path / "again")
    assert again.name == built.name
    assert _sha256(again) == _sha256(built)
    # and the time is an input: another SOURCE_DATE_EPOCH, another wheel
    when = epoch // 2 * 2 + 86400  # even: a zip keeps time in steps of 2 s
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(when))
    later = build_own_wheel(copy, tmp_path / "later")
    assert _sha256(later) != _sha256(built)
    with zipfile.ZipFile(later) as zf:
        assert {info.date_time for info in zf.infolist()} == {time.gmtime(when)[:6]}


def test_the_installed_package_is_the_wheel_not_the_checkout(run: RunInVenv) -> None:
    done = subprocess.run(
        [str(run.bin / "python"), "-c", "import lessons, roboclass; print(lessons.__file__)"],
        cwd=run.folder,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    where = Path(done.stdout.strip())
    assert where.is_relative_to(run.bin.parent), where
    assert not where.is_relative_to(ROOT), where


def test_lessons_list_and_a_vision_lesson_passes(run: RunInVenv) -> None:
    listed = run.json("lesson", "list")
    assert isinstance(listed, dict)
    ids = {lesson["id"] for lesson in listed["lessons"]}
    in_checkout = {p.parent.name for p in (ROOT / "lessons" / "library").glob("*/lesson.yaml")}
    assert ids == in_checkout
    assert "traffic-sign-reader" in ids
    graded = run.json("lesson", "run", "traffic-sign-reader", "--solution", timeout=300)
    assert isinstance(graded, dict)
    assert (graded["status"], graded["score"]) == ("passed", 100), graded


def test_worlds_kits_and_models_come_from_the_installed_package(run: RunInVenv) -> None:
    worlds = run.json("sim", "worlds")
    assert isinstance(worlds, list)
    in_checkout = {p.stem for p in (ROOT / "hardware" / "sim" / "worlds").glob("*.yaml")}
    assert {w["name"] for w in worlds} == in_checkout
    kits = run.json("hw", "kits")
    assert isinstance(kits, dict)
    in_checkout = {p.stem for p in (ROOT / "hardware" / "kits").glob("*.yaml")}
    assert {k["name"] for k in kits["kits"]} == in_checkout
    models = run.json("models", "verify")
    assert isinstance(models, dict)
    assert models["ok"] is True, models
    in_checkout = {p.stem for p in (ROOT / "models" / "shipped").glob("*.yaml")}
    assert {m["name"] for m in models["models"]} == in_checkout
    for model in models["models"]:
        assert Path(model["manifest"]).is_relative_to(run.bin.parent), model


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return int(answer.status), bytes(answer.read())


def test_the_console_serves_its_pages_and_every_static_file(run: RunInVenv) -> None:
    command = run.command(
        "console", "serve", "--port", "0", "--no-mdns", "--json", "--duration", "120"
    )
    with subprocess.Popen(
        command,
        cwd=run.folder,
        env=run.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as console:
        try:
            assert console.stdout is not None
            line = console.stdout.readline()
            assert line, console.stderr.read() if console.stderr else ""
            api = json.loads(line)["api"]
            status, page = _get(api + "/")
            assert status == 200 and b"<html" in page.lower()
            static = ROOT / "fleet" / "console" / "static"
            for path in _source_files(static):
                rel = path.relative_to(static).as_posix()
                status, body = _get(f"{api}/static/{rel}")
                assert (status, body) == (200, path.read_bytes()), rel
        finally:
            console.terminate()
            console.wait(30)


def test_the_demo_brings_a_robot_online(run: RunInVenv) -> None:
    report = run.json(
        *("demo", "--robots", "1", "--duration", "0", "--no-browser"),
        *("--port", "0", "--http-port", "0"),
        timeout=180,
    )
    assert isinstance(report, dict)
    assert report["robots"]["ready"] is True, report
    assert report["robots"]["devices"] == ["robot-01"]
    assert report["console"]["devices_listed"] == 1

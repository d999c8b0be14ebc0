"""A robot installed the way a school installs it, on an emulated 64-bit Raspberry Pi (issue 20).

Debian bookworm arm64 (what Raspberry Pi OS 12 is built on), made with
mmdebstrap and run through qemu-user-static (:mod:`tests.integration.robot_image`).
The offline robot bundle of this checkout (``offline bundle --robot-only``)
is installed inside with no network, as docs/offline-install.md says
(``cd .../robot && sudo ./install.sh --kit sim``); then, on the robot:
``roboclass doctor --json``, a simulator lesson that reads traffic signs
with the shipped vision model, and ``roboclass agent`` on the sim backend
against a Mosquitto broker on the host, which gets a job pushed by a console
and returns its result.

Two emulator limits are worked around, not ours: QEMU 7.2 shows the host's
/proc/cpuinfo (a Pi 4's is bound over it) and cannot make namespaces, so the
robot's ``bwrap`` is the host's (:meth:`EmulatedRobot.lend_sandbox`); every
other program on the robot is aarch64.

What it measured (the venv's size, import time, the idle agent's RSS,
the lesson's time; all emulated) goes to ``build/robot-image/figures.json``.
Nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.console.console import Console, ConsoleConfig
from fleet.core.signing import public_key_text
from lessons.bundle import pack_bundle
from roboclass.offline import build_bundle
from tests.conftest import missing
from tests.integration.robot_image import ROOT, EmulatedRobot, aarch64_binfmt, root_fs, unpack
from tests.integration.test_fleet_support import broker, wait_until
from tests.integration.wheelhouse import needs_index

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]

BUNDLE = "/media/usb/roboclass-bundle"
VENV = "/opt/roboclass/venv"
LESSON = "traffic-sign-reader"
FIGURES = ROOT / "build" / "robot-image" / "figures.json"


def _figure(name: str, value: object) -> None:
    figures = json.loads(FIGURES.read_text()) if FIGURES.is_file() else {}
    figures[name] = value
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=1) + "\n")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The robots' side of an offline bundle of this checkout (the package index's wheels)."""
    out = tmp_path_factory.mktemp("offline") / "bundle"
    started = time.monotonic()
    with needs_index():
        build_bundle(out, source=ROOT, sides=("robot",))
    _figure("bundle_s", round(time.monotonic() - started, 1))
    out.chmod(0o755)
    return out


@pytest.fixture(scope="module")
def robot(bundle: Path) -> Iterator[EmulatedRobot]:
    """The emulated robot with RoboClass installed from the bundle, with no network."""
    if os.geteuid() != 0:  # its files belong to root and others; bwrap binds them as root
        missing("the emulated robot needs root (its root file system has root's files)")
    aarch64_binfmt()
    tarball, took = root_fs()
    _figure("root_fs_s", None if took is None else round(took, 1))
    started = time.monotonic()
    made = unpack(tarball)
    try:
        made.lend_sandbox()  # qemu-user makes no namespaces: the host's bwrap stands in
        made.bind(bundle, BUNDLE)
        done = made.run(f"cd {BUNDLE}/robot && ./install.sh --kit sim")
        _figure("install_s", round(time.monotonic() - started, 1))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "install.sh: done" in done.stdout
        yield made
    finally:
        shutil.rmtree(made.root.parent, ignore_errors=True)


def test_it_is_an_arm64_debian_and_the_install_needed_no_network(robot: EmulatedRobot) -> None:
    done = robot.run(
        "uname -m; . /etc/os-release; echo $VERSION_CODENAME; "
        f"cat {VENV}/roboclass-install.json; {VENV}/bin/roboclass --version; "
        f"du -sk {VENV} | cut -f1"
    )
    assert done.returncode == 0, done.stderr
    machine, codename, facts, version, size_kb = done.stdout.splitlines()
    assert (machine, codename) == ("aarch64", "bookworm")
    assert json.loads(facts)["role"] == "robot" and json.loads(facts)["kit"] == "sim"
    assert version.startswith("roboclass, version ")
    _figure("venv_mb", round(int(size_kb) / 1024, 1))


def test_doctor_checks_what_a_robot_needs(robot: EmulatedRobot) -> None:
    done = robot.run(f"head -3 /proc/cpuinfo >&2; {VENV}/bin/roboclass --lang en doctor --json")
    checks = {e["check"]: e for e in json.loads(done.stdout)}
    said = json.dumps(checks, indent=1) + done.stderr
    assert checks["role"]["detail"] == "a robot, kit sim (from the offline bundle's install.sh)"
    assert "mosquitto" not in checks and "simavr" not in checks
    assert checks["python"]["status"] == "ok"
    # the Pi 4's cpuinfo: NEON, no int8 dot product
    assert checks["onnxruntime"]["status"] == "ok", said
    assert "NEON yes, int8 dot product no (Pi 4)" in checks["onnxruntime"]["detail"]
    assert checks["camera"]["status"] == "ok"  # the sim kit's camera needs no device
    assert checks["extras"]["status"] == "ok", checks["extras"]
    _figure("doctor", {name: e["status"] for name, e in checks.items()})


def test_import_time(robot: EmulatedRobot) -> None:
    script = (
        "import time; t = time.perf_counter(); "
        "import roboclass.cli, fleet.agent.agent, lessons.runner, vision; "
        "print(round(time.perf_counter() - t, 3))"
    )
    runs = [robot.run(f"{VENV}/bin/python -c '{script}'") for _ in range(3)]
    for done in runs:
        assert done.returncode == 0, done.stderr
    seconds = sorted(float(d.stdout) for d in runs)
    _figure("import_s_median", seconds[1])


def _patient(lesson: str, into: Path) -> Path:
    """The lesson with more wall time: emulated, the robot is some 100 times slower.

    Only ``wall_limit`` changes (150 s, a real Pi's margin); the robot-clock
    limit, the world, the grader and the model stay.
    """
    copy = into / lesson
    shutil.copytree(ROOT / "lessons" / "library" / lesson, copy)
    text = (copy / "lesson.yaml").read_text()
    assert "\nwall_limit: " in text
    patient = "\n".join(
        "wall_limit: 3000" if line.startswith("wall_limit:") else line for line in text.splitlines()
    )
    (copy / "lesson.yaml").write_text(patient + "\n")
    into.chmod(0o755)
    return copy


def test_a_vision_lesson_passes_on_the_robot(robot: EmulatedRobot, tmp_path: Path) -> None:
    lesson = (_patient(LESSON, tmp_path), f"/srv/lessons/{LESSON}")
    done = robot.run(
        f"{VENV}/bin/roboclass --lang en lesson run /srv/lessons/{LESSON} --solution --json",
        timeout=3300,
        binds=[lesson],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    graded = json.loads(done.stdout)
    assert (graded["status"], graded["score"]) == ("passed", 100), graded
    assert graded["metrics"]["signs_obeyed"] == 4
    _figure("lesson_wall_s", graded["wall_seconds"])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _agent_pid(parent: int) -> int | None:
    """The agent's process among ``parent``'s descendants (qemu runs it: its own pid)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo = list(children.get(parent, []))
    while todo:
        pid = todo.pop()
        try:
            argv = (Path(f"/proc/{pid}/cmdline").read_bytes()).split(b"\0")
        except OSError:
            continue
        if b"agent" in argv and b"--device" in argv:
            return pid
        todo += children.get(pid, [])
    return None


def test_the_agent_runs_a_pushed_job_and_returns_the_result(
    robot: EmulatedRobot, tmp_path: Path
) -> None:
    with broker("mosquitto") as (host, port):
        console = Console(ConsoleConfig(host, port, tmp_path / "console"))
        console.start()
        try:
            assert console.wait_connected(20)
            key = public_key_text(console.key.public_key)
            agent = robot.popen(
                f"exec {VENV}/bin/roboclass agent --device robot-01 --broker {host}:{port} "
                f"--console-key '{key}' --backend sim --no-mdns "
                "--state-dir /var/lib/roboclass/agent",
                tmp_path / "agent.log",
                network=True,  # the host's loopback, where the broker listens
            )
            try:
                try:
                    wait_until(
                        lambda: (
                            agent.poll() is not None
                            or "robot-01" in console.db.devices.ids(online_only=True)
                        ),
                        300,
                        "the emulated robot online",
                    )
                finally:
                    if agent.poll() is not None:
                        said = (tmp_path / "agent.log").read_text(errors="replace")
                        pytest.fail(f"the agent stopped ({agent.returncode}):\n{said}")
                time.sleep(5)  # idle: what a robot waiting for a job holds
                pid = _agent_pid(agent.pid)
                assert pid is not None
                _figure("agent_idle_rss_mb", round(_rss_kb(pid) / 1024, 1))
                lesson = _patient(LESSON, tmp_path / "lessons")
                sha = console.bundles.put(pack_bundle(lesson))
                code = (lesson / "solution.py").read_text()
                [job] = console.push(sha, LESSON, ["robot-01"], code=code, time_limit_s=600)
                wait_until(lambda: len(console.db.results.list()) == 1, 1800, "the result")
                [result] = console.db.results.list()
                assert result.job == job["job"] and result.device == "robot-01"
                assert result.result["status"] == "passed", result.result
                assert result.score == 100
                _figure("job_wall_s", result.result.get("wall_seconds"))
            finally:
                agent.terminate()
                try:
                    agent.wait(30)
                except Exception:
                    agent.kill()
                    agent.wait(30)
        finally:
            console.close()


def test_nothing_was_written_outside_the_robot(robot: EmulatedRobot) -> None:
    """The bundle was read-only inside: the robot's files are all in its own folder."""
    done = robot.run(f"touch {BUNDLE}/robot/x 2>/dev/null && echo wrote || echo refused")
    assert done.stdout.strip() == "refused"
    assert os.path.isdir(robot.root / "opt" / "roboclass" / "venv")

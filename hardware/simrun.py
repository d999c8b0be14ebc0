"""Run a student's script in the simulator: ``roboclass sim run SCRIPT``.

The script runs unchanged in a child process of its own. Its robot is the
simulated one (``ROBOCLASS_BACKEND=sim``) in the chosen world. In fast mode
the child's ``time.sleep``/``time.monotonic``/``time.time`` follow the
simulator (:mod:`hardware.simtime`), so a 60-second lesson takes seconds.
At the end the child writes a summary (JSON) that the parent returns: sim
and wall seconds, the real-time factor, and per robot its trail, distance,
collisions, laps and checkpoints. ``record`` writes the top-down view as a
video (.mp4) or an animated .gif, the robot's camera beside it.
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from rcbase.closeable import Closeable

__all__ = ["RunMode", "RunSummary", "ScriptStatus", "run_script"]

logger = logging.getLogger(__name__)

RECORD_FPS = 10.0  # frames per simulated second in recordings
RECORD_PX = 480


class RunMode(StrEnum):
    """How sim time passed."""

    FAST = "fast"  # lock-step: the world moves when the program waits or reads
    REALTIME = "realtime"  # a thread steps the world at wall-clock speed


class ScriptStatus(StrEnum):
    """How a simulated run's script ended."""

    OK = "ok"  # it ended by itself, with exit code 0
    ERROR = "error"  # it raised, exited with a code, or its process died
    TIME_UP = "time-up"  # the run's simulated seconds were over
    TIMEOUT = "timeout"  # it ran past the wall-clock limit and was killed
    INTERRUPTED = "interrupted"  # Ctrl+C


@dataclass
class RunSummary:
    """What happened in a simulated run."""

    script: str
    world: str
    mode: RunMode
    status: ScriptStatus
    exit_code: int
    sim_seconds: float
    wall_seconds: float
    error: str | None = None
    robots: list[dict[str, Any]] = field(default_factory=list)
    recording: str | None = None
    output: str = ""

    @property
    def real_time_factor(self) -> float:
        return self.sim_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["mode"], data["status"] = self.mode.value, self.status.value
        data["real_time_factor"] = round(self.real_time_factor, 2)
        return data


def run_script(
    script: str | Path,
    *,
    world: str | None = None,
    kit: str = "sim",
    fast: bool = True,
    duration: float | None = None,
    timeout: float = 300.0,
    record: str | Path | None = None,
    view_port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunSummary:
    """Run ``script`` in the simulator in a child process and return its summary.

    ``duration`` ends the run after that many simulated seconds; ``timeout``
    ends it after that many wall seconds (a student's endless loop).
    ``view_port`` serves the live view (:mod:`hardware.simview`) on that port.
    """
    path = Path(script).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such script: {script}")
    with tempfile.TemporaryDirectory(prefix="roboclass-simrun-") as tmp:
        report = Path(tmp) / "report.json"
        env = {
            **os.environ,
            "ROBOCLASS_KIT": kit,
            "ROBOCLASS_BACKEND": "sim",
            "ROBOCLASS_SIM_FAST": "1" if fast else "0",
            "ROBOCLASS_SIM_REPORT": str(report),
            **({"ROBOCLASS_SIM_WORLD": world} if world else {}),
            **({"ROBOCLASS_SIM_DURATION": str(duration)} if duration is not None else {}),
            **({"ROBOCLASS_SIM_RECORD": str(Path(record).resolve())} if record else {}),
            **({"ROBOCLASS_SIM_VIEW": str(view_port)} if view_port is not None else {}),
            **(extra_env or {}),
        }
        cmd = [sys.executable, "-m", "hardware.simrun", str(path)]
        try:
            proc = subprocess.run(
                cmd,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=path.parent,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = (
                exc.stdout.decode(errors="replace")
                if isinstance(exc.stdout, bytes)
                else (exc.stdout or "")
            )
            return RunSummary(
                str(path),
                world or "",
                RunMode.FAST if fast else RunMode.REALTIME,
                ScriptStatus.TIMEOUT,
                -9,
                0.0,
                timeout,
                error=f"the script ran longer than {timeout:g} s of wall time: an endless loop?",
                output=out,
            )
        if not report.exists():
            return RunSummary(
                str(path),
                world or "",
                RunMode.FAST if fast else RunMode.REALTIME,
                ScriptStatus.ERROR,
                proc.returncode,
                0.0,
                0.0,
                error=(proc.stderr.strip().splitlines() or ["the script's process died"])[-1],
                output=proc.stdout + proc.stderr,
            )
        data = json.loads(report.read_text(encoding="utf-8"))
        data["output"] = proc.stdout + proc.stderr
        data["exit_code"] = proc.returncode
        data["mode"], data["status"] = RunMode(data["mode"]), ScriptStatus(data["status"])
        return RunSummary(**data)


# -- the child process ------------------------------------------------------------


class _Recording(Closeable):
    """Adds the top-down view beside the robot's camera every 1/fps simulated seconds."""

    def __init__(self, path: Path, fps: float = RECORD_FPS) -> None:
        from hardware.sim import Recorder  # noqa: PLC0415

        self.video = Recorder(path, fps=fps)
        self.fps = fps
        self._camera: Any = None
        self._next = 0.0

    def __call__(self, backend: Any) -> None:
        from hardware.sim import compose_view  # noqa: PLC0415

        t = backend.world.time
        if t + 1e-9 < self._next:
            return
        self._next = t + 1.0 / self.fps
        if self._camera is None:
            self._camera = backend.body.sensors.camera()
        self.video.add(compose_view(backend.world, [self._camera.render()], height=RECORD_PX))

    def _close(self) -> None:
        self.video.close()


def _robot_summary(backend: Any) -> dict[str, Any]:
    from hardware.sim import truth_of  # noqa: PLC0415

    truth = truth_of(backend.world, backend.body)
    pose = backend.body.pose
    return {
        "kit": backend.kit.name,
        "world": truth.world,
        "final_pose": {
            "x": round(pose.x, 4),
            "y": round(pose.y, 4),
            "heading": round(pose.heading, 2),
        },
        "distance_m": round(truth.distance_m, 4),
        "trail_points": len(truth.trail),
        "collisions": [{"t": round(c.t, 3), "obstacle": c.obstacle} for c in truth.collisions],
        "laps": [round(t, 3) for t in truth.laps],
        "checkpoints": [
            {"t": round(e.t, 3), "checkpoint": e.checkpoint} for e in truth.checkpoints
        ],
        "zones": [{"t": round(e.t, 3), "zone": e.zone, "entered": e.entered} for e in truth.zones],
    }


def _run_student(script: str, backends: Sequence[Any]) -> tuple[ScriptStatus, int, str | None]:
    """Run the student's script here; returns (status, exit code, error line)."""
    from hardware import simtime  # noqa: PLC0415

    try:
        sys.argv = [script]
        runpy.run_path(script, run_name="__main__")
    except simtime.SimTimeUp:
        return ScriptStatus.TIME_UP, 0, None
    except KeyboardInterrupt:  # real time: the stepping thread interrupts when time is up
        if any(b.time_is_up for b in backends):
            return ScriptStatus.TIME_UP, 0, None
        return ScriptStatus.INTERRUPTED, 130, "stopped with Ctrl+C"
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return (ScriptStatus.OK if code == 0 else ScriptStatus.ERROR), code, None
    except BaseException as exc:  # the student's error: report it, do not crash the runner
        traceback.print_exc()
        return (
            ScriptStatus.ERROR,
            1,
            "".join(traceback.format_exception_only(type(exc), exc)).strip(),
        )
    return ScriptStatus.OK, 0, None


def child_main(argv: Sequence[str]) -> int:
    """Entry of the child: ``python -m hardware.simrun SCRIPT``."""
    from hardware import simtime  # noqa: PLC0415
    from hardware.backends.sim import SimBackend  # noqa: PLC0415

    script = argv[0]
    fast = os.environ.get("ROBOCLASS_SIM_FAST") == "1"
    duration = os.environ.get("ROBOCLASS_SIM_DURATION")
    record = os.environ.get("ROBOCLASS_SIM_RECORD")
    view_port = os.environ.get("ROBOCLASS_SIM_VIEW")
    backends: list[SimBackend] = []
    recorder = _Recording(Path(record)) if record else None
    views: list[Any] = []

    def on_create(backend: SimBackend) -> None:
        backends.append(backend)
        if view_port is not None and not views:
            from hardware.simview import SimView  # noqa: PLC0415

            views.append(SimView(backend, int(view_port)))
        if duration is not None:
            backend.time_limit = float(duration)
        if recorder is not None and len(backends) == 1:
            backend.add_step_listener(1.0 / recorder.fps, recorder)

    SimBackend.on_create = on_create
    if fast:
        simtime.install()
    wall0 = simtime.wall_clock()
    status, code, error = _run_student(script, backends)
    wall = simtime.wall_clock() - wall0
    for view in views:
        view.close()
    for backend in backends:
        backend.close()  # the robot ends stopped, even if the script forgot
    sim_seconds = max((b.world.time for b in backends), default=0.0)
    if recorder is not None:
        recorder.close()
    report = {
        "script": script,
        "world": backends[0].world.model.name
        if backends
        else os.environ.get("ROBOCLASS_SIM_WORLD", ""),
        "mode": (RunMode.FAST if fast else RunMode.REALTIME).value,
        "status": status.value,
        "exit_code": code,
        "sim_seconds": round(sim_seconds, 4),
        "wall_seconds": round(wall, 4),
        "error": error,
        "robots": [_robot_summary(b) for b in backends],
        "recording": record if recorder is not None and recorder.video.frames else None,
    }
    out = os.environ.get("ROBOCLASS_SIM_REPORT")
    if out:
        Path(out).write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))

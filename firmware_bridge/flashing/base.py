"""What every flashing backend shares: the problems, one board's job, logged subprocesses.

A backend (``avr``, ``uf2``, ``esp``) gets a :class:`Job` and either returns
the port the board's new firmware answers on (it may differ from the one it
started on: a Leonardo or an RP2040 comes back as a new USB device) or raises
:class:`Outcome` with a :class:`Problem` and advice in English and Chinese.
Nothing here sleeps-and-hopes: waits poll with a deadline (:meth:`Job.wait_for`)
and every subprocess has a timeout.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from firmware_bridge.boards import BoardKind
from firmware_bridge.ports import PortInfo
from rcbase.i18n import Text

if TYPE_CHECKING:
    from firmware_bridge.flashing.env import FlashEnv

__all__ = ["Job", "Outcome", "Problem", "run_logged"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Problem(StrEnum):
    """Why a board failed (``FlashResult.problem``)."""

    NO_PORT = "no_port"
    PERMISSION = "permission"
    PORT_BUSY = "port_busy"
    UNSUPPORTED = "unsupported"  # no backend for this kind of board (Nano Every)
    NO_FIRMWARE = "no_firmware"  # a backend, but no RoboClass firmware yet and no --firmware
    BAD_FIRMWARE = "bad_firmware"  # the file is not an image this board takes
    NO_BOOTLOADER = "no_bootloader"
    WRONG_BOARD = "wrong_board"
    VERIFY_FAILED = "verify_failed"
    LOST = "lost_connection"
    TIMEOUT = "timeout"
    AVRDUDE = "avrdude"
    TOOL = "tool_failed"  # esptool or picotool failed in a way we do not recognise
    TOOL_MISSING = "tool_missing"  # esptool / avrdude not installed
    HELLO_FAILED = "hello_failed"
    WRONG_VERSION = "wrong_version"
    NAME_FAILED = "name_failed"


class Outcome(Exception):
    """Ends one board's job with a problem; ``text`` is the advice in both languages."""

    def __init__(self, problem: Problem, error: str | Text) -> None:
        self.text = error if isinstance(error, Text) else Text(error, error)
        super().__init__(self.text.en)
        self.problem = problem
        self.error = self.text.en


@dataclass
class Job:
    """One board being flashed: where it is, what goes on it, its log and its progress.

    ``on_status(port, text)`` hears each step, ``on_progress(port, 0..1)`` the
    share of the current write (avrdude, esptool or the UF2 copy).
    """

    port: str
    kind: BoardKind
    firmware: Path
    log: Path
    env: FlashEnv
    info: PortInfo | None = None  # the port's USB identity when the job started
    timeout: float = 180.0
    on_status: Callable[[str, str], None] | None = None
    on_progress: Callable[[str, float], None] | None = None
    uf2_drive: Path | None = None
    baud: int | None = None  # the bootloader baud rate that answered (AVR)
    started: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return self.started + self.timeout

    def status(self, text: str) -> None:
        self.write(f"# {text}")
        if self.on_status is not None:
            self.on_status(self.port, text)

    def progress(self, share: float) -> None:
        if self.on_progress is not None:
            self.on_progress(self.port, max(0.0, min(1.0, share)))

    def write(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(text + "\n")

    def run(
        self,
        cmd: Sequence[str],
        parse: Callable[[str], float | None] | None = None,
        *,
        env: dict[str, str] | None = None,
        give_up: Callable[[str], bool] | None = None,
    ) -> tuple[bool, str]:
        """Run ``cmd`` into the log; (ok, output).

        ``parse`` turns its output so far into progress; ``give_up(output)``
        True stops it early (a tool that would retry a dead board for minutes).
        """
        self.write("$ " + " ".join(cmd))

        def seen(text: str) -> None:
            share = parse(text) if parse is not None else None
            if share is not None:
                self.progress(share)

        try:
            code, output = run_logged(
                cmd,
                self.log,
                timeout=max(1.0, self.deadline - time.monotonic()),
                on_text=seen,
                env=env,
                give_up=give_up,
            )
        except subprocess.TimeoutExpired:
            raise Outcome(
                Problem.TIMEOUT,
                Text(
                    f"{Path(cmd[0]).name} did not finish in {self.timeout:.0f} s on {self.port}",
                    f"{Path(cmd[0]).name} 在 {self.timeout:.0f} 秒内没有完成（{self.port}）",
                ),
            ) from None
        except FileNotFoundError:
            raise Outcome(
                Problem.TOOL_MISSING, f"{cmd[0]} is not installed (or not on PATH)"
            ) from None
        return code == 0, output

    def wait_for(self, found: Callable[[], T | None], seconds: float, *, what: str) -> T | None:
        """Poll ``found()`` every ``env.poll`` s until it returns something, or ``seconds`` pass.

        Also stops at the job's own deadline. Returns what was found, or None.
        """
        self.write(f"# waiting up to {seconds:.0f} s for {what}")
        until = min(time.monotonic() + seconds, self.deadline)
        while True:
            value = found()
            if value is not None:
                return value
            if time.monotonic() >= until:
                return None
            self.env.tick()


def run_logged(
    cmd: Sequence[str],
    log: Path,
    *,
    timeout: float,
    on_text: Callable[[str], None] | None = None,
    env: dict[str, str] | None = None,
    give_up: Callable[[str], bool] | None = None,
) -> tuple[int, str]:
    """Run ``cmd``, appending its output to ``log`` as it comes; (exit code, output).

    Output is read in chunks, not lines: avrdude draws its progress bar one
    ``#`` at a time and esptool rewrites a line, so ``on_text`` hears the
    output so far when each chunk arrives. When ``give_up(output)`` is True
    the process is killed (its exit code is then non-zero). Raises
    subprocess.TimeoutExpired (the process killed).
    """
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    stdout = proc.stdout
    if stdout is None:  # never: stdout=PIPE
        raise RuntimeError("no pipe from " + cmd[0])
    chunks: list[str] = []

    def pump() -> None:
        fd = stdout.fileno()
        with log.open("a", encoding="utf-8") as out:
            while data := os.read(fd, 4096):
                text = data.decode("utf-8", errors="replace")
                chunks.append(text)
                out.write(text)
                out.flush()
                if on_text is None and give_up is None:
                    continue
                so_far = "".join(chunks)
                if on_text is not None:
                    on_text(so_far)
                if give_up is not None and proc.poll() is None and give_up(so_far):
                    out.write("\n# stopped: the board went quiet\n")
                    proc.kill()

    reader = threading.Thread(target=pump, name=f"flash-output {Path(cmd[0]).name}", daemon=True)
    reader.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        raise
    finally:
        reader.join(timeout=10)
        stdout.close()
    return code, "".join(chunks)

"""AVR boards with avrdude: ATmega328P through the Arduino bootloader, ATmega32U4 through avr109.

>>> avrdude_command("/dev/ttyUSB0", Path("fw.hex"), baud=57600, kind=KINDS["nano-old"])[:6]
['avrdude', '-p', 'm328p', '-c', 'arduino', '-P']

UNO / Nano (``-c arduino``): opening the port resets the board (DTR) and the
bootloader listens for a moment; the kind's baud rates are tried in order
(optiboot 115200, then the old ATmegaBOOT at 57600).

Leonardo / Micro / Pro Micro (ATmega32U4, native USB, ``-c avr109``): the
1200-baud touch reboots the board into its Caterina bootloader, which is a
new USB serial port (another product id, often another name) for about
8 s; avrdude writes there at 57600, then the board's own port comes back
(:mod:`firmware_bridge.flashing.touch`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from firmware_bridge.boards import KINDS, BoardKind
from firmware_bridge.errors import FirmwareMissing
from firmware_bridge.flashing.base import Job, Outcome, Problem
from firmware_bridge.flashing.checks import permission_message
from firmware_bridge.flashing.touch import new_port, port_back, touch_1200
from rcbase.i18n import Text

__all__ = [
    "AUTO",
    "avrdude_command",
    "avrdude_program",
    "avrdude_progress",
    "classify_avrdude",
    "flash_avr109",
    "flash_avrdude",
]

# Unknown USB adapters and simulator ptys: optiboot first, then the old bootloader.
AUTO = BoardKind(
    "auto", "unknown ATmega328P board", "m328p", "arduino", (115200, 57600), "", "avrdude",
    KINDS["uno"].firmware,
)  # fmt: skip

BOOTLOADER_WAIT = 10.0  # s for a touched board's bootloader port to appear (the IDE waits 10)
APP_WAIT = 15.0  # s for the board's own port to come back after flashing


def avrdude_program() -> str:
    """avrdude to run: ``ROBOCLASS_AVRDUDE``, else the one on PATH."""
    found = os.environ.get("ROBOCLASS_AVRDUDE") or shutil.which("avrdude")
    if not found:
        raise FirmwareMissing("avrdude is not installed: sudo apt-get install avrdude")
    return found


def avrdude_command(
    port: str,
    hexfile: Path,
    *,
    baud: int = 115200,
    kind: BoardKind = AUTO,
    avrdude: str = "avrdude",
    attempts: int = 3,
) -> list[str]:
    """The avrdude command line for one board at one bootloader baud rate."""
    programmer = kind.programmer or "arduino"
    cmd = [avrdude, "-p", kind.mcu or "m328p", "-c", programmer, "-P", port, "-b", str(baud)]
    if programmer == "arduino":  # sync tries (10 by default, ~5 s each); avr109 has no -x
        cmd += ["-x", f"attempts={attempts}"]
    return [*cmd, "-D", "-U", f"flash:w:{hexfile}:i"]  # -D: the bootloader erases page by page


QUIET_LIMIT = 5  # "programmer is not responding" lines before avrdude is stopped


def went_quiet(output: str) -> bool:
    """avrdude has lost the bootloader mid-write (it would go on for minutes, page by page)."""
    return output.count("programmer is not responding") >= QUIET_LIMIT


_BAR = re.compile(r"(Writing|Reading) \|([ #]*)")


def avrdude_progress(output: str) -> float | None:
    """Share done from avrdude's bars (50 ``#`` each): writing is the first half, verifying the second."""
    bars = _BAR.findall(output)
    wrote = False
    share: float | None = None
    for label, marks in bars:
        done = marks.count("#") / 50
        if label == "Writing":
            wrote, share = True, 0.5 * done
        elif wrote:  # the verify read (a read before writing is the signature)
            share = 0.5 + 0.5 * done
    return share


# avrdude's output -> what happened. First match wins.
_AVRDUDE_PATTERNS: list[tuple[Problem, re.Pattern[str]]] = [
    (Problem.PERMISSION, re.compile(r"permission denied", re.I)),
    (Problem.PORT_BUSY, re.compile(r"device or resource busy", re.I)),
    (Problem.NO_PORT, re.compile(r"can(no|')t open (port|device).*no such file", re.I)),
    (Problem.WRONG_BOARD, re.compile(r"(invalid device signature|expected signature)", re.I)),
    (Problem.VERIFY_FAILED, re.compile(r"(verification error|verify error|mismatch at)", re.I)),
    (
        Problem.NO_BOOTLOADER,
        re.compile(r"(not in sync|not responding|protocol e|programmer did not respond)", re.I),
    ),
]
_SYNCED = re.compile(r"(device initialized|device signature =)", re.I)


def classify_avrdude(output: str) -> Problem:
    """What a failed avrdude run's output says went wrong."""
    # it answered (signature read, or no "not in sync"), then went quiet
    synced = bool(_SYNCED.search(output)) or not re.search(
        r"(not in sync|programmer did not respond)", output, re.I
    )
    for problem, pattern in _AVRDUDE_PATTERNS:
        if problem is Problem.NO_BOOTLOADER and synced and pattern.search(output):
            return Problem.LOST  # it answered, then went quiet
        if pattern.search(output):
            return problem
    return Problem.AVRDUDE


_ADVICE: dict[Problem, Text] = {
    Problem.WRONG_BOARD: Text(
        "{port} is not an {mcu} board ({last}): choose the right --board",
        "{port} 不是 {mcu} 板（{last}）：用 --board 选对板子类型",
    ),
    Problem.VERIFY_FAILED: Text(
        "{port}: the flash did not verify ({last}): try again, then another cable or USB port",
        "{port}：写入后校验失败（{last}）：再刷一次，仍失败就换一根线或换一个 USB 口",
    ),
    Problem.PORT_BUSY: Text(
        "{port} is busy ({last}): close the program using it and flash again",
        "{port} 正被占用（{last}）：关闭占用它的程序后再刷写",
    ),
    Problem.NO_PORT: Text(
        "{port} disappeared ({last}): was the board unplugged?",
        "{port} 消失了（{last}）：板子被拔掉了吗？",
    ),
    Problem.LOST: Text(
        "{port} answered at {baud} baud, then stopped in the middle twice ({last}): "
        "check the cable, use a powered hub, then flash again",
        "{port} 在 {baud} 波特应答后两次中途中断（{last}）：检查数据线，使用带电源的集线器，然后再刷写",
    ),
    Problem.AVRDUDE: Text(
        "avrdude failed on {port}: {last}. Check the cable and the port",
        "avrdude 在 {port} 上失败：{last}。检查数据线和端口",
    ),
}


def _last_error(output: str) -> str:
    lines = [x.strip() for x in output.splitlines() if x.strip()]
    return next((x for x in reversed(lines) if "error" in x.lower()), lines[-1] if lines else "")


def _advice(
    problem: Problem, port: str, kind: BoardKind, tried: Sequence[int], last: str, baud: int
) -> Text:
    if problem is Problem.NO_BOOTLOADER:
        other = "nano-old (57600)" if 57600 not in tried else "uno (115200)"
        bauds = " or ".join(str(b) for b in tried)
        return Text(
            f"the bootloader on {port} did not answer at {bauds} baud: press the board's reset "
            f"button just as flashing starts (clones without auto-reset), check the cable, "
            f"or try --board {other}",
            f"{port} 上的引导程序在 {bauds} 波特下没有应答：开始刷写时按一下板子的复位键"
            f"（没有自动复位的兼容板），检查数据线，或者试试 --board {other}",
        )
    if problem is Problem.PERMISSION:
        return permission_message(port)
    template = _ADVICE.get(problem, _ADVICE[Problem.AVRDUDE])
    return template.format(port=port, mcu=kind.mcu, last=last, baud=baud)


def flash_avrdude(job: Job) -> str:
    """UNO / Nano: avrdude at each of the kind's baud rates until one answers; the port.

    A board that answered and then went quiet mid-way (a bootloader timing
    out, a flaky hub) gets one more run at the same speed.
    """
    tried: list[int] = []
    avrdude = job.env.avrdude or avrdude_program()
    for baud in job.kind.bauds:
        tried.append(baud)
        for again in (False, True):
            job.status(f"flashing at {baud}" + (" (again)" if again else ""))
            cmd = avrdude_command(job.port, job.firmware, baud=baud, kind=job.kind, avrdude=avrdude)
            ok, output = job.run(cmd, avrdude_progress, give_up=went_quiet)
            if ok:
                job.baud = baud
                return job.port
            problem = classify_avrdude(output)
            if problem is not Problem.LOST:
                break  # else it answered at this speed: once more
        if problem is Problem.NO_BOOTLOADER and baud != job.kind.bauds[-1]:
            continue  # maybe the other bootloader
        raise Outcome(
            problem, _advice(problem, job.port, job.kind, tried, _last_error(output), baud)
        )
    raise Outcome(Problem.AVRDUDE, f"{job.kind.title} has no bootloader baud rate to try")


def flash_avr109(job: Job) -> str:
    """Leonardo / Pro Micro: 1200-baud touch, avrdude -c avr109 on the bootloader's new port.

    Returns the port the board's own firmware is on afterwards.
    """
    env, kind, origin = job.env, job.kind, job.info
    avrdude = job.env.avrdude or avrdude_program()
    before = env.list_ports()
    if origin is not None and (origin.vid, origin.pid) in kind.bootloader_ids:
        boot = origin  # already in its bootloader (reset pressed twice)
        env.claims.claim(boot.device)
    else:
        job.status("1200-baud touch")
        touch_1200(job.port, env.open_serial)
        found = job.wait_for(
            lambda: new_port(
                before, env.list_ports(), origin=origin, claims=env.claims, ids=kind.bootloader_ids
            ),
            BOOTLOADER_WAIT,
            what="the bootloader's port",
        )
        if found is None:
            raise Outcome(
                Problem.NO_BOOTLOADER,
                Text(
                    f"{job.port}: no bootloader port appeared within {BOOTLOADER_WAIT:.0f} s of "
                    "the 1200-baud touch: press the reset button twice quickly (the LED "
                    "pulses for 8 s) and flash again at once; check the cable",
                    f"{job.port}：1200 波特复位后 {BOOTLOADER_WAIT:.0f} 秒内没有出现引导程序端口："
                    "快速按两下复位键（指示灯会呼吸闪烁 8 秒），然后立刻再刷写；检查数据线",
                ),
            )
        boot = found
    job.write(f"# bootloader on {boot.device} ({boot.vid or 0:04x}:{boot.pid or 0:04x})")
    try:
        while_booted = env.list_ports()
        job.status(f"flashing {boot.device}")
        baud = kind.bauds[0] if kind.bauds else 57600
        cmd = avrdude_command(boot.device, job.firmware, baud=baud, kind=kind, avrdude=avrdude)
        ok, output = job.run(cmd, avrdude_progress, give_up=went_quiet)
        if not ok:
            problem = classify_avrdude(output)
            last = _last_error(output)
            if problem is Problem.NO_BOOTLOADER:
                raise Outcome(
                    problem,
                    Text(
                        f"the bootloader on {boot.device} stopped answering ({last}): it waits "
                        "only 8 s; press reset twice quickly and flash again",
                        f"{boot.device} 上的引导程序不再应答（{last}）：它只等 8 秒；"
                        "快速按两下复位键后再刷写",
                    ),
                )
            raise Outcome(problem, _advice(problem, boot.device, kind, [baud], last, baud))
        job.baud = baud
        job.status("waiting for the board's port")
        app = job.wait_for(
            lambda: port_back(
                while_booted,
                env.list_ports(),
                origin=origin,
                device=job.port,
                claims=env.claims,
                boot=boot,
            ),
            APP_WAIT,
            what="the board's own port",
        )
    finally:
        env.claims.release(boot.device)
    if app is None:
        raise Outcome(
            Problem.HELLO_FAILED,
            Text(
                f"flashed through {boot.device}, but the board's own serial port did not come "
                f"back within {APP_WAIT:.0f} s: does the new firmware use USB serial?",
                f"已通过 {boot.device} 刷写，但 {APP_WAIT:.0f} 秒内板子自己的串口没有回来："
                "新固件使用 USB 串口吗？",
            ),
        )
    return app.device

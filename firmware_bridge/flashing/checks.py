"""Before touching a board: does its port exist, may we open it, does another program hold it."""

from __future__ import annotations

import grp
import os
from pathlib import Path

from firmware_bridge.flashing.base import Problem
from rcbase.i18n import Text

__all__ = ["holders", "permission_message", "port_problem"]


def holders(device: str) -> list[tuple[int, str]]:
    """Processes that have ``device`` open (pid, command), like ``fuser``."""
    real = os.path.realpath(device)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
            comm = (entry / "comm").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if comm == "simboard":  # the simulator holds its own pty: that is the board, not a user
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == real:
                    found.append((int(entry.name), comm))
                    break
            except OSError:
                continue
    return found


def port_problem(device: str) -> tuple[Problem, Text] | None:
    """Why ``device`` cannot be flashed before trying: missing, no permission, in use."""
    if not os.path.exists(device):
        return Problem.NO_PORT, Text(
            f"{device} does not exist: is the board plugged in (with a data cable)? "
            "`roboclass bridge ports` lists the boards",
            f"{device} 不存在：板子插好了吗（要用能传数据的线）？"
            "`roboclass bridge ports` 可以列出所有板子",
        )
    if not os.access(device, os.R_OK | os.W_OK):
        return Problem.PERMISSION, permission_message(device)
    found = holders(device)
    if found:
        who = ", ".join(f"{comm} (pid {pid})" for pid, comm in found)
        return Problem.PORT_BUSY, Text(
            f"{device} is in use by {who}: close it (a serial monitor, the Arduino IDE, a "
            "running robot program, ModemManager or brltty) and flash again",
            f"{device} 正被 {who} 占用：关闭它（串口监视器、Arduino IDE、正在运行的机器人程序、"
            "ModemManager 或 brltty）后再刷写",
        )
    return None


def permission_message(device: str) -> Text:
    """Advice for a port we may not open: the group that owns it (dialout on Debian)."""
    try:
        group = grp.getgrgid(os.stat(device).st_gid).gr_name
    except (KeyError, OSError):
        group = "dialout"
    if group == "root":  # a udev rule is missing: the usual group is dialout
        group = "dialout"
    return Text(
        f"permission denied on {device}: join the `{group}` group "
        f"(sudo usermod -aG {group} $USER), then log out and in again",
        f"没有权限打开 {device}：加入 `{group}` 用户组"
        f"（sudo usermod -aG {group} $USER），然后注销并重新登录",
    )

"""``roboclass doctor``: check the things people actually trip over.

Each check looks at one part of this computer and answers ``ok``, ``warn`` or
``fail`` with one line of advice in Chinese or English. The checks read the
system only through :class:`System`, so tests can hand them any situation.
A robot, the hub and a maintainer's PC need different things
(:mod:`roboclass.doctor_roles`): :func:`run_checks` runs those of this
computer's role (:data:`ROLE_CHECKS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from packaging.requirements import Requirement

from rcbase.i18n import Text
from roboclass import __version__
from roboclass.doctor_base import Check, Result, Status, System
from roboclass.doctor_roles import PICAMERA_APT, Role

__all__ = ["CHECKS", "ROLE_CHECKS", "Check", "Result", "Status", "System", "run_checks"]

# A clock earlier than this release date is certainly wrong (TLS will fail).
RELEASE_DATE = dt.date(2026, 11, 1)
MIN_PYTHON = (3, 11)
DISK_FAIL_BYTES = 200 * 1024**2
DISK_WARN_BYTES = 1024**3


def check_python(s: System) -> Result:
    version = ".".join(map(str, s.python))
    if s.python[:2] < MIN_PYTHON:
        return Result(
            "python",
            Status.FAIL,
            Text(f"Python {version}", f"Python {version}"),
            Text(
                "RoboClass needs Python 3.11 or newer: use Raspberry Pi OS bookworm or later.",
                "RoboClass 需要 Python 3.11 或更新版本：请使用 Raspberry Pi OS bookworm 或更新系统。",
            ),
        )
    if s.pointer_bits != 64:
        return Result(
            "python",
            Status.FAIL,
            Text(f"Python {version}, 32-bit", f"Python {version}，32 位"),
            Text(
                "Install the 64-bit Raspberry Pi OS: onnxruntime has no 32-bit ARM build.",
                "请安装 64 位 Raspberry Pi OS：onnxruntime 没有 32 位 ARM 版本。",
            ),
        )
    return Result(
        "python", Status.OK, Text(f"Python {version}, 64-bit", f"Python {version}，64 位")
    )


def _unmet(requirements: Sequence[Requirement], s: System) -> list[str]:
    unmet = []
    for req in requirements:
        if (
            req.marker is not None
            and not req.marker.evaluate({"extra": ""})
            and not any(req.marker.evaluate({"extra": e}) for e in ("pi", "console", "dev"))
        ):
            continue  # e.g. lgpio only on ARM
        have = s.dist_version(req.name)
        if have is None or (req.specifier and not req.specifier.contains(have, prereleases=True)):
            unmet.append(f"{req.name}{req.specifier}" + ("" if have is None else f" (have {have})"))
    return unmet


def check_extras(s: System) -> Result:
    base: list[Requirement] = []
    extras: dict[str, list[Requirement]] = {}
    for line in s.requires():
        req = Requirement(line)
        extra = next(
            (e for e in ("pi", "console", "dev") if f'extra == "{e}"' in str(req.marker)), None
        )
        if extra is None:
            base.append(req)
        else:
            extras.setdefault(extra, []).append(req)
    missing_base = _unmet(base, s)
    if missing_base:
        return Result(
            "extras",
            Status.FAIL,
            Text("missing: " + ", ".join(missing_base), "缺少：" + ", ".join(missing_base)),
            Text(
                "Reinstall RoboClass: run `make` in the source folder, or `pip install roboclass`.",
                "请重新安装 RoboClass：在源码目录运行 `make`，或运行 `pip install roboclass`。",
            ),
        )
    installed = sorted(e for e, reqs in extras.items() if not _unmet(reqs, s))
    absent = sorted(set(extras) - set(installed))
    detail = Text(
        "base installed; extras: "
        + (", ".join(installed) or "none")
        + ("" if not absent else "; not installed: " + ", ".join(absent)),
        "基础部分已安装；附加部分："
        + ("、".join(installed) or "无")
        + ("" if not absent else "；未安装：" + "、".join(absent)),
    )
    if s.on_pi() and "pi" in absent:
        return Result(
            "extras",
            Status.WARN,
            detail,
            Text(
                "On a robot install the Pi extra: pip install 'roboclass[pi]'.",
                "在机器人上请安装 Pi 附加部分：pip install 'roboclass[pi]'。",
            ),
        )
    return Result(
        "extras",
        Status.OK,
        detail,
        Text(
            "The console extra is only needed on the teacher's PC or hub.",
            "console 附加部分只在教师电脑或教室主机上需要。",
        )
        if "console" in absent
        else Text("", ""),
    )


def check_onnxruntime(s: System) -> Result:
    try:
        version = s.module_version("onnxruntime")
    except Exception as exc:  # an import can fail in many ways (missing, bad wheel, CPU)
        return Result(
            "onnxruntime",
            Status.FAIL,
            Text(f"cannot import onnxruntime: {exc}", f"无法导入 onnxruntime：{exc}"),
            Text(
                "Reinstall it in the venv: .venv/bin/pip install --force-reinstall onnxruntime "
                "(64-bit OS needed).",
                "请在虚拟环境中重新安装：.venv/bin/pip install --force-reinstall onnxruntime"
                "（需要 64 位系统）。",
            ),
        )
    if s.machine in ("aarch64", "arm64"):
        flags = set()
        for line in (s.read_text("/proc/cpuinfo") or "").splitlines():
            if line.lower().startswith("features"):
                flags.update(line.split(":", 1)[1].split())
        if "asimd" not in flags:
            return Result(
                "onnxruntime",
                Status.WARN,
                Text(
                    f"onnxruntime {version}; this ARM CPU reports no NEON (asimd)",
                    f"onnxruntime {version}；此 ARM 处理器没有 NEON (asimd)",
                ),
                Text("Models will run very slowly here.", "模型在这里会运行得很慢。"),
            )
        dot = "asimddp" in flags
        return Result(
            "onnxruntime",
            Status.OK,
            Text(
                f"onnxruntime {version}; NEON yes, int8 dot product {'yes' if dot else 'no (Pi 4)'}",
                f"onnxruntime {version}；NEON 有，int8 点积指令{'有' if dot else '无（Pi 4）'}",
            ),
        )
    return Result(
        "onnxruntime", Status.OK, Text(f"onnxruntime {version}", f"onnxruntime {version}")
    )


def _picamera_missing(s: System) -> Result:
    kit = s.setup.kit or "this kit"
    detail = Text(
        f"{kit} has the Pi camera, and picamera2 cannot be imported",
        f"{kit} 使用树莓派摄像头，但无法导入 picamera2",
    )
    if s.read_text("/etc/rpi-issue") is not None:  # Raspberry Pi OS
        return Result(
            "camera",
            Status.FAIL,
            detail,
            Text(
                f"{PICAMERA_APT}; the venv must see it: make it with --system-site-packages "
                "(the bundle's install.sh does).",
                f"{PICAMERA_APT}；虚拟环境要能看到它：用 --system-site-packages 创建"
                "（离线包的 install.sh 就是这样做的）。",
            ),
        )
    return Result(
        "camera",
        Status.FAIL,
        detail,
        Text(
            f"python3-picamera2 comes only with Raspberry Pi OS ({PICAMERA_APT} there): install "
            "Raspberry Pi OS on this robot, or give it a USB camera (a kit with `source: usb`).",
            f"python3-picamera2 只有 Raspberry Pi OS 提供（在那里运行 {PICAMERA_APT}）："
            "请给机器人安装 Raspberry Pi OS，或改用 USB 摄像头（套件里写 `source: usb`）。",
        ),
    )


def check_camera(s: System) -> Result:
    """The camera the kit has: picamera2 only for the Pi camera module."""
    camera = s.setup.camera
    if camera in ("none", "sim", "file"):
        return Result(
            "camera",
            Status.OK,
            Text(f"{s.setup.kit}: no camera device needed", f"{s.setup.kit}：不需要摄像头设备"),
        )
    videos = sorted(s.glob("/dev/video*"))
    try:
        s.module_version("picamera2")
        picam = True
    except Exception:  # not installed, or libcamera missing: both mean "no picamera2"
        picam = False
    if picam and camera != "usb":
        return Result("camera", Status.OK, Text("picamera2 importable", "picamera2 可以导入"))
    if camera == "picamera2":
        return _picamera_missing(s)
    if videos:
        return Result(
            "camera",
            Status.OK,
            Text("video devices: " + ", ".join(videos), "视频设备：" + ", ".join(videos)),
        )
    if camera == "usb":
        return Result(
            "camera",
            Status.WARN,
            Text("no USB camera found (no /dev/video*)", "未找到 USB 摄像头（无 /dev/video*）"),
            Text(
                "Plug the kit's USB camera in; lessons still run with the simulator camera.",
                "请插上套件的 USB 摄像头；课程仍可使用模拟器摄像头。",
            ),
        )
    return Result(
        "camera",
        Status.WARN,
        Text(
            "no camera found (no picamera2, no /dev/video*)",
            "未找到摄像头（无 picamera2，无 /dev/video*）",
        ),
        Text(
            "Lessons still run with the simulator camera. For the Pi camera module on "
            f"Raspberry Pi OS: {PICAMERA_APT}, make the venv with --system-site-packages, check "
            "the ribbon cable. A USB camera needs none of this.",
            "课程仍可使用模拟器摄像头。使用树莓派摄像头模块时，在 Raspberry Pi OS 上："
            f"{PICAMERA_APT}，创建虚拟环境时加 --system-site-packages，并检查排线。"
            "USB 摄像头不需要这些。",
        ),
    )


def check_serial(s: System) -> Result:
    ports = sorted(s.glob("/dev/ttyUSB*") + s.glob("/dev/ttyACM*"))
    seen = Text(
        "serial ports: " + (", ".join(ports) or "none"), "串口：" + (", ".join(ports) or "无")
    )
    if s.is_root or "dialout" in s.groups():
        return Result("serial", Status.OK, seen)
    return Result(
        "serial",
        Status.FAIL if ports else Status.WARN,
        seen,
        Text(
            "You are not in the dialout group, so boards cannot be opened: "
            "sudo usermod -aG dialout $USER, then log out and back in.",
            "当前用户不在 dialout 组，无法打开开发板：sudo usermod -aG dialout $USER，然后重新登录。",
        ),
    )


def check_brltty(s: System) -> Result:
    if (
        s.which("brltty")
        or s.glob("/usr/lib/udev/rules.d/*brltty*")
        or s.glob("/lib/udev/rules.d/*brltty*")
    ):
        return Result(
            "brltty",
            Status.WARN,
            Text("brltty is installed", "已安装 brltty"),
            Text(
                "brltty grabs CH340/CP210x USB-serial adapters (Arduino clones): "
                "sudo apt remove brltty, unless someone here uses a braille display.",
                "brltty 会占用 CH340/CP210x USB 串口（兼容版 Arduino）：除非有人使用盲文显示器，"
                "请运行 sudo apt remove brltty。",
            ),
        )
    return Result("brltty", Status.OK, Text("brltty not installed", "未安装 brltty"))


def _tool_check(name: str, tools: Sequence[str], packages: str, purpose: Text) -> Check:
    def check(s: System) -> Result:
        missing = [t for t in tools if not (s.which(t) or s.which(f"/usr/sbin/{t}"))]
        if not missing:
            return Result(
                name, Status.OK, Text("found: " + ", ".join(tools), "已找到：" + ", ".join(tools))
            )
        return Result(
            name,
            Status.WARN,
            Text("not found: " + ", ".join(missing), "未找到：" + ", ".join(missing)),
            Text(
                f"{purpose.en}: sudo apt install {packages}",
                f"{purpose.zh}：sudo apt install {packages}",
            ),
        )

    check.__name__ = f"check_{name}"
    return check


check_mosquitto = _tool_check(
    "mosquitto",
    ["mosquitto"],
    "mosquitto",
    Text("Needed on the teacher's PC or hub Pi", "教师电脑或教室主机需要它"),
)
check_simavr = _tool_check(
    "simavr",
    ["simavr", "avr-gcc"],
    "simavr libsimavr-dev libsimavrparts1 gcc-avr avr-libc",
    Text(
        "Needed to build the firmware and run the simulated board",
        "编译固件和运行模拟开发板需要它",
    ),
)


def check_sandbox(s: System) -> Result:
    """Can a student's program be sandboxed here? Robots and consoles refuse pushed code if not."""
    found = s.sandbox()
    if found.ok:
        where = f"cgroup {found.cgroup}" if found.cgroup else "per-process limits, no cgroup"
        return Result(
            "sandbox", Status.OK, Text(f"bubblewrap works ({where})", f"bubblewrap 可用（{where}）")
        )
    return Result(
        "sandbox",
        Status.FAIL,
        Text(
            f"no sandbox for students' programs: {found.reason}",
            f"无法为学生程序建立沙箱：{found.reason}",
        ),
        Text(
            f"Pushed lessons will not run until it is fixed: {found.fix}",
            f"修复之前，推送的课程不会运行：{found.fix}",
        ),
    )


def check_disk(s: System) -> Result:
    where = s.data_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    free = s.disk_free(where)
    detail = Text(
        f"{free / 1024**3:.1f} GB free at {where}", f"{where} 剩余 {free / 1024**3:.1f} GB"
    )
    advice = Text(
        "Free some space: old datasets in the data folder, `sudo apt clean`, `journalctl --vacuum-size=50M`.",
        "请清理空间：数据目录中的旧数据集、`sudo apt clean`、`journalctl --vacuum-size=50M`。",
    )
    if free < DISK_FAIL_BYTES:
        return Result("disk", Status.FAIL, detail, advice)
    if free < DISK_WARN_BYTES:
        return Result("disk", Status.WARN, detail, advice)
    return Result("disk", Status.OK, detail)


def check_clock(s: System) -> Result:
    today = s.today()
    if today < RELEASE_DATE:
        return Result(
            "clock",
            Status.FAIL,
            Text(
                f"the clock says {today}, before this release ({RELEASE_DATE})",
                f"系统时间为 {today}，早于本版本发布日期（{RELEASE_DATE}）",
            ),
            Text(
                "Secure connections (TLS) will fail: set the time with `sudo date -s` or point "
                "the robot at the school's time server (`sudo timedatectl set-ntp true`).",
                "安全连接（TLS）将失败：请用 `sudo date -s` 设置时间，或让机器人使用学校的时间服务器"
                "（`sudo timedatectl set-ntp true`）。",
            ),
        )
    return Result("clock", Status.OK, Text(f"date {today}", f"日期 {today}"))


def check_role(s: System) -> Result:
    """Which computer this is: it decides which checks run (:data:`ROLE_CHECKS`)."""
    return Result("role", Status.OK, s.setup.describe())


CHECKS: tuple[Check, ...] = (
    check_role,
    check_python,
    check_extras,
    check_onnxruntime,
    check_camera,
    check_serial,
    check_brltty,
    check_mosquitto,
    check_simavr,
    check_sandbox,
    check_disk,
    check_clock,
)

#: What each role does not need: a robot runs no broker and builds no firmware; the hub
#: has no camera and no boards. A maintainer's PC needs everything.
_NOT_FOR = {
    Role.ROBOT: {check_mosquitto, check_simavr},
    Role.HUB: {check_camera, check_serial, check_brltty, check_simavr},
    Role.MAINTAINER: set(),
}
ROLE_CHECKS: dict[Role, tuple[Check, ...]] = {
    role: tuple(c for c in CHECKS if c not in unneeded) for role, unneeded in _NOT_FOR.items()
}


def run_checks(system: System | None = None, checks: Sequence[Check] | None = None) -> list[Result]:
    """Run the checks of the computer's role (or ``checks``); a crashing check is a failure."""
    s = system or System()
    results = []
    for check in ROLE_CHECKS[s.setup.role] if checks is None else checks:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check(s))
        except Exception as exc:  # one broken check must not hide the others
            results.append(
                Result(
                    name,
                    Status.FAIL,
                    Text(f"the check itself failed: {exc!r}", f"检查本身出错：{exc!r}"),
                    Text(
                        f"Please report this with `roboclass --version` ({__version__}).",
                        f"请报告此问题，并附上 `roboclass --version`（{__version__}）。",
                    ),
                )
            )
    return results

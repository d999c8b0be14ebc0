"""Which computer this is: a robot, the hub, or a maintainer's PC, and which kit.

``roboclass doctor`` checks only what the role needs: a robot has no broker
and flashes no boards, so Mosquitto and simavr are none of its business; a
hub drives no motors and has no camera. The role comes from, first to last:

1. ``--role`` (``roboclass doctor --role robot``),
2. ``ROBOCLASS_ROLE`` in the environment,
3. what the bundle said when ``install.sh`` installed this venv: it writes
   ``roboclass-install.json`` (:data:`INSTALL_FILE`) into the venv with the
   role, the kit and whether the kit has a Pi camera,
4. a RoboClass checkout (``make``): a maintainer's PC,
5. a guess: the console installed, the hub; on a Raspberry Pi, a robot;
   else a maintainer's PC (every check).

The kit (``--kit``, the install file, else the robot's settings:
``ROBOCLASS_KIT`` or ``robot.yaml``) says whether the robot has a Pi camera,
the one thing that needs ``python3-picamera2`` from Raspberry Pi OS::

    setup = find_setup(role="robot", kit="pi-uno-bridge")
    setup.camera      # "picamera2": the kit's camera is the Pi camera module
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rcbase.i18n import Text

__all__ = [
    "INSTALL_FILE",
    "PICAMERA_APT",
    "Role",
    "Setup",
    "camera_source",
    "find_setup",
    "install_facts",
]

logger = logging.getLogger(__name__)

#: Written into the venv (``sys.prefix``) by the bundle's install.sh.
INSTALL_FILE = "roboclass-install.json"
#: The exact command on Raspberry Pi OS; no other Debian has the package.
PICAMERA_APT = "sudo apt install -y python3-picamera2"


class Role(StrEnum):
    ROBOT = "robot"
    HUB = "hub"
    MAINTAINER = "maintainer"

    @property
    def label(self) -> Text:
        return {
            Role.ROBOT: Text("a robot", "机器人"),
            Role.HUB: Text("the hub or teacher's PC", "教室主机或教师电脑"),
            Role.MAINTAINER: Text("a maintainer's PC", "维护人员电脑"),
        }[self]


@dataclass(frozen=True)
class Setup:
    """This computer's role and kit, and where they were learnt (``how``)."""

    role: Role
    how: str  # flag, environment, bundle, checkout, guess
    kit: str | None = None
    #: The kit's camera: ``picamera2`` (the Pi camera module), ``usb``, ``sim``, ``file``,
    #: ``none``; ``other`` (not the Pi camera, install.sh --pi-camera no); None: unknown.
    camera: str | None = None

    @property
    def pi_camera(self) -> bool | None:
        """The kit has the Pi camera (True), not (False), unknown (None)."""
        return None if self.camera is None else self.camera == "picamera2"

    def describe(self) -> Text:
        kit = f", kit {self.kit}" if self.kit else ""
        hows = {
            "flag": ("--role", "--role"),
            "environment": ("ROBOCLASS_ROLE", "ROBOCLASS_ROLE"),
            "bundle": ("the offline bundle's install.sh", "离线包的 install.sh"),
            "checkout": ("a RoboClass checkout", "RoboClass 源码目录"),
            "guess": ("a guess; --role to choose", "推测；可用 --role 指定"),
        }
        en, zh = hows.get(self.how, (self.how, self.how))
        return Text(
            f"{self.role.label.en}{kit} (from {en})", f"{self.role.label.zh}{kit}（来自{zh}）"
        )


def install_facts(prefix: Path | None = None) -> dict[str, object]:
    """What install.sh wrote into the venv at ``prefix`` (``sys.prefix``); {} if nothing."""
    path = (prefix or Path(sys.prefix)) / INSTALL_FILE
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s: %s", path, exc)
        return {}
    return facts if isinstance(facts, dict) else {}


def camera_source(kit: str) -> str | None:
    """The kit's camera source (``picamera2``, ``usb``, ...); None: no camera. Raises KitError."""
    from hardware.kit import CameraSpec, load_kit  # noqa: PLC0415 - only when a kit is named

    for part in load_kit(kit).parts.values():
        if isinstance(part, CameraSpec):
            return part.source
    return None


def _settings_kit(environ: Mapping[str, str]) -> str | None:
    """The kit this robot's settings name, if they name one (the default ``sim`` does not count)."""
    from hardware.settings import load_settings, settings_files  # noqa: PLC0415

    if environ.get("ROBOCLASS_KIT") or any(p.is_file() for p in settings_files(environ)):
        try:
            return load_settings(environ).kit
        except Exception as exc:  # a broken settings file is the agent's error to report
            logger.warning("cannot read this robot's settings: %s", exc)
    return None


def _is_checkout() -> bool:
    return (Path(__file__).resolve().parents[1] / "setup.cfg").is_file()


def _guess(on_pi: bool, has_console: bool) -> Role:
    if has_console:
        return Role.HUB
    return Role.ROBOT if on_pi else Role.MAINTAINER


def find_setup(
    role: str | None = None,
    kit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    prefix: Path | None = None,
    checkout: Callable[[], bool] = _is_checkout,
    on_pi: Callable[[], bool] = lambda: False,
    has_console: Callable[[], bool] = lambda: False,
) -> Setup:
    """This computer's :class:`Setup`; ``role``/``kit`` (the flags) win over everything."""
    env = os.environ if environ is None else environ
    facts = install_facts(prefix)
    roles = {r.value for r in Role}
    if role:
        found, how = Role(role), "flag"
    elif env.get("ROBOCLASS_ROLE") in roles:
        found, how = Role(env["ROBOCLASS_ROLE"]), "environment"
    elif facts.get("role") in roles:
        found, how = Role(str(facts["role"])), "bundle"
    elif checkout():
        found, how = Role.MAINTAINER, "checkout"
    else:
        found, how = _guess(on_pi(), has_console()), "guess"
    said = facts.get("pi_camera")  # what install.sh was told (--pi-camera) or knew (--kit)
    told = facts.get("kit") if isinstance(facts.get("kit"), str) else None
    named = kit or told or _settings_kit(env)
    camera: str | None = None
    if named:
        try:
            camera = camera_source(str(named)) or "none"
        except Exception as exc:  # an unknown kit: say nothing about its camera
            logger.warning("kit %s: %s", named, exc)
    if (
        kit is None
        and isinstance(said, bool)
        and (camera is None or (camera == "picamera2") != said)
    ):
        camera = "picamera2" if said else "other"  # all install.sh knew, or it was told otherwise
    return Setup(found, how, str(named) if named else None, camera)

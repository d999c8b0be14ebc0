"""This robot's own settings: which kit it is, its backend, a speed cap.

``Robot()`` with no arguments reads them. The file is
``robot.yaml`` in the RoboClass config folder (``~/.config/roboclass``, or
``ROBOCLASS_CONFIG_DIR``), then ``/etc/roboclass/robot.yaml``::

    kit: generic-l298n
    backend: gpio      # optional: else the kit's backend
    speed_cap: 0.6     # optional: a fraction of full speed for everyone on this robot
    name: robot-07     # optional

Environment variables win over the file: ``ROBOCLASS_KIT``,
``ROBOCLASS_BACKEND``, ``ROBOCLASS_SPEED_CAP``. Without any of them a
robot is the simulated one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hardware.errors import KitError
from rcbase import ConfigError, load_yaml, paths

__all__ = ["DeviceSettings", "load_settings", "settings_files"]

SYSTEM_FILE = Path("/etc/roboclass/robot.yaml")


class DeviceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kit: str = "sim"
    backend: Literal["gpio", "bridge", "sim"] | None = None
    speed_cap: float | None = Field(None, gt=0, le=1)
    name: str | None = None
    port: str | None = None  # bridge: the microcontroller's serial port


def settings_files(environ: Mapping[str, str] | None = None) -> list[Path]:
    return [paths(environ).config / "robot.yaml", SYSTEM_FILE]


def load_settings(environ: Mapping[str, str] | None = None) -> DeviceSettings:
    """The first settings file found (else defaults), with environment variables applied."""
    env = os.environ if environ is None else environ
    settings = DeviceSettings()
    for path in settings_files(env):
        if path.is_file():
            try:
                settings = load_yaml(path, DeviceSettings)
            except ConfigError as exc:
                raise KitError(f"this robot's settings file is wrong:\n{exc}") from exc
            break
    update: dict[str, object] = {}
    if env.get("ROBOCLASS_KIT"):
        update["kit"] = env["ROBOCLASS_KIT"]
    if env.get("ROBOCLASS_BACKEND"):
        update["backend"] = env["ROBOCLASS_BACKEND"]
    return settings.model_copy(update=update) if update else settings

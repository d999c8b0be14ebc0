"""What an agent is told when it starts: :class:`AgentConfig`.

::

    config = AgentConfig(device="robot-07", host="192.168.1.10", port=1883,
                         state_dir=Path("~/.local/share/roboclass/agent"),
                         trusted_keys={kid: public_key})
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fleet.agent.jobs import JobRunner, lessons_runner
from fleet.core.protocol import Reassign

if TYPE_CHECKING:
    from hardware import Robot

__all__ = ["MAX_TELEMETRY_HZ", "AgentConfig"]

#: Telemetry messages a second, at most.
MAX_TELEMETRY_HZ = 5.0


@dataclass
class AgentConfig:
    """Who the robot is, where its broker is, whom it trusts, and how it runs jobs."""

    device: str
    host: str
    port: int
    state_dir: Path
    trusted_keys: dict[str, Ed25519PublicKey]
    site: str = "school"
    room: str = "room1"
    console_url: str | None = None
    backend: str = "sim"
    kit: str | None = None
    telemetry_hz: float = 1.0
    resend_s: float = 2.0
    keepalive: int = 10
    runner: JobRunner = field(default=lessons_runner)
    #: A classroom broker's TLS (``fleet.broker.config.Credentials.tls_context()``); None: plain.
    tls: ssl.SSLContext | None = None
    #: Takes a new name from the console (enrolment's credential folder checks and
    #: writes it); True when taken: the agent then ends (``reassigned``) to start again.
    on_reassign: Callable[[Reassign], bool] | None = None
    #: The robot's cache folder: models the console sends go to its ``models/`` (the
    #: registry's device cache), and lessons see it. None: ``ROBOCLASS_CACHE_DIR`` or XDG.
    cache_dir: Path | None = None
    #: Opens the robot again after a job that opened the kit itself (a runner with
    #: ``opens_robot``, on a real robot: the agent closed its own robot for the job,
    #: since GPIO pins and a serial port open only once). None: no robot after such a job.
    open_robot: Callable[[], Robot] | None = None
    #: Forgets this room's credentials when the console tells the robot to leave the room
    #: (it is moving to another); True when done: the agent then ends (``left_room``).
    #: None: the command is ignored.
    on_leave_room: Callable[[], bool] | None = None

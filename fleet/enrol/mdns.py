"""mDNS / DNS-SD for enrolment: an unclaimed robot announces itself, the console browses.

Both sides use the ``zeroconf`` package (pure Python with optional compiled
parts; about 1.4 MB as an aarch64 wheel). It is imported only here, and this
module only while a robot waits to be claimed or a console looks for robots.

::

    with Announcement("rc-7f3a9c", port=8764, hostname="pi-07", interfaces=["127.0.0.1"]):
        with RobotBrowser(interfaces=["127.0.0.1"]) as browser:
            browser.wait_for("rc-7f3a9c", timeout=5)

``interfaces=None`` means every interface (a classroom); the tests pass
``["127.0.0.1"]`` so nothing leaves the machine.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zeroconf import (
    InterfaceChoice,
    IPVersion,
    ServiceBrowser,
    ServiceInfo,
    ServiceStateChange,
    Zeroconf,
)

from fleet.enrol.protocol import SERVICE_TYPE, valid_robot_id
from rcbase.closeable import Closeable

__all__ = ["Announcement", "FoundRobot", "RobotBrowser"]

logger = logging.getLogger(__name__)

_TXT_MAX = 63


def _zeroconf(interfaces: Sequence[str] | None) -> Zeroconf:
    chosen: Any = InterfaceChoice.All if interfaces is None else list(interfaces)
    return Zeroconf(interfaces=chosen, ip_version=IPVersion.V4Only)


def _addresses(interfaces: Sequence[str] | None) -> list[str]:
    if interfaces is not None:
        return list(interfaces)
    import ifaddr  # noqa: PLC0415 - zeroconf's own dependency

    found = [
        ip.ip
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str) and not ip.ip.startswith("127.")
    ]
    return found or ["127.0.0.1"]


class Announcement(Closeable):
    """``{robot_id}._roboclass-enrol._tcp.local.`` while the robot waits; withdrawn on close."""

    def __init__(
        self,
        robot_id: str,
        *,
        port: int,
        hostname: str,
        interfaces: Sequence[str] | None = None,
        addresses: Sequence[str] | None = None,
    ) -> None:
        self.robot_id = robot_id
        self._zc = _zeroconf(interfaces)
        self.addresses = list(addresses) if addresses else _addresses(interfaces)
        self.info = ServiceInfo(
            SERVICE_TYPE,
            f"{robot_id}.{SERVICE_TYPE}",
            addresses=[socket.inet_aton(a) for a in self.addresses],
            port=port,
            properties={"v": "1", "id": robot_id, "host": hostname[:_TXT_MAX]},
            server=f"{robot_id}.local.",
        )
        try:
            self._zc.register_service(self.info, allow_name_change=False)
        except Exception:
            self._zc.close()
            raise
        logger.info("announced %s on %s port %d", robot_id, self.addresses, port)

    def _close(self) -> None:
        try:
            self._zc.unregister_service(self.info)
        finally:
            self._zc.close()


@dataclass(frozen=True)
class FoundRobot:
    """An unclaimed robot seen on the LAN."""

    robot_id: str
    hostname: str
    address: str
    port: int
    seen: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "robot": self.robot_id,
            "hostname": self.hostname,
            "address": f"{self.address}:{self.port}",
            "seen": self.seen,
        }


class RobotBrowser(Closeable):
    """Keeps the list of unclaimed robots announced on the LAN up to date."""

    def __init__(self, interfaces: Sequence[str] | None = None) -> None:
        self._zc = _zeroconf(interfaces)
        self._lock = threading.Condition()
        self._found: dict[str, FoundRobot] = {}
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._changed])

    def _changed(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        robot_id = name.removesuffix(f".{service_type}")
        if state_change is ServiceStateChange.Removed:
            with self._lock:
                self._found.pop(robot_id, None)
                self._lock.notify_all()
            return
        # Resolving waits for answers: not on zeroconf's own thread.
        threading.Thread(
            target=self._resolve, args=(service_type, name, robot_id), daemon=True
        ).start()

    def _resolve(self, service_type: str, name: str, robot_id: str) -> None:
        if self.closed:
            return
        info = self._zc.get_service_info(service_type, name, timeout=3000)
        if info is None or not info.parsed_addresses() or info.port is None:
            return
        props = {
            k.decode(errors="replace"): (v or b"").decode(errors="replace")
            for k, v in info.properties.items()
        }
        if props.get("id") != robot_id or not valid_robot_id(robot_id):
            logger.info("ignored an announcement that names itself %r", name)
            return
        found = FoundRobot(
            robot_id,
            props.get("host", "")[:_TXT_MAX],
            info.parsed_addresses()[0],
            info.port,
            time.time(),
        )
        with self._lock:
            self._found[robot_id] = found
            self._lock.notify_all()

    def robots(self) -> list[FoundRobot]:
        with self._lock:
            return sorted(self._found.values(), key=lambda r: r.robot_id)

    def get(self, robot_id: str) -> FoundRobot | None:
        with self._lock:
            return self._found.get(robot_id)

    def forget(self, robot_id: str) -> None:
        with self._lock:
            self._found.pop(robot_id, None)

    def wait_for(self, robot_id: str, timeout: float) -> FoundRobot | None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while robot_id not in self._found:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._lock.wait(left)
            return self._found[robot_id]

    def wait_gone(self, robot_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while robot_id in self._found:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _close(self) -> None:
        self._browser.cancel()
        self._zc.close()

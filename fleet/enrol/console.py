"""The console's side of enrolment: find unclaimed robots, claim one with its code, revoke.

The console needs the classroom folder that ``roboclass broker config`` made
(it holds the CA key and the ACL): ``roboclass console serve
--broker-folder DIR/console`` finds it one level up. Claiming a robot:

1. the teacher picks a robot the console found over mDNS (or types its
   address, where the Wi-Fi blocks multicast) and types its claim code;
2. the console runs :class:`fleet.enrol.protocol.ConsoleExchange` with the robot; a
   wrong code ends here (and counts: ``CLAIM_FAILURES`` a minute per teacher
   and robot);
3. it signs the robot's request as the name the teacher chose
   (:func:`fleet.broker.config.enrol_device`: certificate, ACL block) and
   waits until ``roboclass broker up`` has made Mosquitto read the new ACL;
4. it seals the grant (certificate, CA, its public key, name, room, broker
   address) for the robot, which installs it and joins the broker.

Revoking puts the robot's certificate on the CRL, takes its ACL block away
and waits for the broker's reload, then forgets the robot in the store.

::

    enroller = Enroller(Path("/srv/roboclass/broker"), console, interfaces=None)
    enroller.claim("rc-7f3a9c", "4821-0937", "robot-07", by="ms-li")
    enroller.revoke("robot-07", by="ms-li")
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fleet.broker.config import (
    Layout,
    acl_signature,
    enrol_device,
    load_settings,
    reissue_device,
    revoke_device,
)
from fleet.core.errors import BrokerError
from fleet.core.limits import FailureLimiter
from fleet.core.protocol import Reassign, encode, valid_id
from fleet.core.signing import public_key_text
from fleet.enrol.protocol import (
    BadMessage,
    ConsoleExchange,
    EnrolError,
    Grant,
    WrongCode,
    valid_robot_id,
)
from rcbase.closeable import Closeable

if TYPE_CHECKING:
    from fleet.console.console import Console
    from fleet.enrol.mdns import RobotBrowser

__all__ = ["CLAIM_FAILURES", "ClaimLimited", "Enroller", "NotFound", "classroom_root"]

logger = logging.getLogger(__name__)

#: Wrong codes a minute for one robot from one teacher.
CLAIM_FAILURES = 5
#: How long the console waits for the broker to read a changed ACL.
RELOAD_TIMEOUT_S = 10.0
#: How long a renamed robot has to come back under its new name.
RENAME_TIMEOUT_S = 30.0
#: How long a rename waits for the robot to be online before it gives up.
ONLINE_WAIT_S = 10.0
_HTTP_TIMEOUT_S = 15.0


class ClaimLimited(EnrolError):
    """Too many wrong codes: ``retry_after`` seconds until the next try."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after))
        super().__init__(
            f"too many wrong codes: wait {self.retry_after} s / 错误次数太多：请等 {self.retry_after} 秒"
        )


class NotFound(EnrolError, LookupError):
    """No such robot (unclaimed or enrolled)."""


def classroom_root(console_folder: Path) -> Path | None:
    """The classroom folder above a console's ``--broker-folder``, if it holds the CA key."""
    root = console_folder.resolve().parent
    layout = Layout(root)
    if layout.settings.is_file() and layout.ca_key.is_file():
        return root
    return None


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """POST JSON to a robot; (status, JSON answer). Network trouble is an EnrolError."""
    request = urllib.request.Request(  # noqa: S310 - http:// built from an address we checked
        url, data=json.dumps(body).encode(), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_S) as response:  # noqa: S310
            status, text = response.status, response.read(70_000)
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read(70_000)
    except (urllib.error.URLError, OSError) as exc:
        raise EnrolError(f"cannot reach the robot at {url}: {exc} / 连不上机器人") from exc
    try:
        answer = json.loads(text)
    except ValueError:
        raise BadMessage(f"the robot at {url} did not answer JSON") from None
    if not isinstance(answer, dict):
        raise BadMessage(f"the robot at {url} did not answer a JSON object")
    return status, answer


class Enroller(Closeable):
    """Claims, revokes and lists robots for one console and its classroom folder."""

    def __init__(
        self,
        root: Path,
        console: Console,
        *,
        interfaces: Sequence[str] | None = None,
        discover: bool = True,
        reload_timeout_s: float = RELOAD_TIMEOUT_S,
    ) -> None:
        self.root = root
        self.console = console
        self.reload_timeout_s = reload_timeout_s
        self._limiter = FailureLimiter(CLAIM_FAILURES, 60.0)
        self.browser: RobotBrowser | None = None
        if discover:
            from fleet.enrol.mdns import RobotBrowser  # noqa: PLC0415 - zeroconf only when browsing

            self.browser = RobotBrowser(interfaces)
        self._closing = threading.Event()  # ends a wait for the broker's reload

    # -- what the teacher sees -----------------------------------------------

    def robots(self) -> list[dict[str, Any]]:
        """Unclaimed robots announced on the LAN."""
        return [] if self.browser is None else [r.as_dict() for r in self.browser.robots()]

    # -- claiming --------------------------------------------------------------

    def _address(self, robot: str, address: str | None) -> str:
        if address:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise BadMessage(f"{address!r} is not host:port (e.g. 192.168.1.23:8764)")
            return address
        found = self.browser.get(robot) if self.browser is not None else None
        if found is None:
            raise NotFound(
                f"no unclaimed robot {robot} on the LAN: is it on and waiting? "
                "(type its address if the Wi-Fi blocks mDNS) / 局域网上找不到这台未认领的机器人："
                "它开着并在等待吗？（Wi-Fi 屏蔽 mDNS 时请输入它的地址）"
            )
        return f"{found.address}:{found.port}"

    def claim(
        self, robot: str, code: str, name: str, *, by: str, address: str | None = None
    ) -> dict[str, Any]:
        """Claim ``robot`` (its mDNS id) with the code it shows; it becomes ``name``."""
        if not valid_robot_id(robot):
            raise BadMessage(f"{robot!r} is not an unclaimed robot's id (rc-...)")
        if not valid_id(name):
            raise BadMessage(f"the name {name!r} may hold only letters, digits, - _ .")
        if name in self.devices():  # before the exchange: a typo costs the robot no try
            raise BadMessage(
                f"there is already a robot named {name}: choose another name / 已有同名机器人，请换一个名称"
            )
        key = ("claim", by, robot)
        wait = self._limiter.retry_after(key)
        if wait > 0:
            raise ClaimLimited(wait)
        base = f"http://{self._address(robot, address)}/enrol/v1"
        exchange = ConsoleExchange(code, robot_id=robot)
        status, reply = _post(f"{base}/start", exchange.start_message())
        if status == 429:
            raise ClaimLimited(60)
        if status != 200:
            raise EnrolError(f"the robot refused: {reply.get('error', status)} / 机器人拒绝了")
        try:
            csr_pem = exchange.check(reply)
        except WrongCode:
            self._limiter.failed(key)
            self.console.db.audit.add(by, "claim-failed", robot=robot)
            raise
        csr = x509.load_pem_x509_csr(csr_pem)
        settings, cert, ca_pem = enrol_device(self.root, name, csr)
        try:
            self._wait_reloaded()
            grant = Grant(
                identity=name,
                site=settings.site,
                room=settings.room,
                hosts=list(settings.hosts),
                port=settings.port,
                cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
                ca=ca_pem.decode(),
                console_key=public_key_text(self.console.key.public_key),
            )
            status, reply = _post(f"{base}/finish", exchange.seal(grant))
            if status != 200:
                raise EnrolError(f"the robot refused its grant: {reply.get('error', status)}")
            exchange.check_ack(reply)
        except EnrolError:
            revoke_device(self.root, name)  # nobody holds a working certificate for it
            raise
        self._limiter.succeeded(key)
        if self.browser is not None:
            self.browser.forget(robot)
        self.console.db.audit.add(
            by, "claim", robot=robot, device=name, serial=str(cert.serial_number)
        )
        logger.info("%s claimed robot %s as %s", by, robot, name)
        return {"device": name, "robot": robot, "site": settings.site, "room": settings.room}

    # -- after enrolment -----------------------------------------------------------

    def revoke(self, device: str, *, by: str, action: str = "revoke") -> dict[str, Any]:
        """Revoke the robot's certificate; the broker refuses it once it has reloaded."""
        try:
            revoke_device(self.root, device)
        except BrokerError as exc:
            raise NotFound(str(exc)) from exc
        reloaded = self._wait_reloaded(must=False)
        self.console.forget(device)
        self.console.db.audit.add(by, action, device=device)
        logger.warning("%s revoked %s (%s)", by, device, action)
        return {"device": device, "revoked": True, "broker_reloaded": reloaded}

    def move(self, device: str, *, by: str, timeout_s: float = RENAME_TIMEOUT_S) -> dict[str, Any]:
        """Let ``device`` go to another room: it forgets this one and waits to be claimed.

        A classroom broker serves one room, so a robot moves by being claimed
        again there (with the new claim code it shows). Here it is told to
        forget the room, then its certificate is revoked whether or not it
        listened (an offline robot that comes back is refused and must be reset).
        """
        if device not in self.devices():
            raise NotFound(f"{device} has no certificate of this room")
        devices = self.console.db.devices
        left = False
        if device in devices.ids(online_only=True):
            self.console.leave_room(device)
            left = self.console.wait_for(
                lambda: device not in devices.ids(online_only=True), timeout_s
            )
        return {**self.revoke(device, by=by, action="move"), "released": left}

    def rename(
        self, device: str, name: str, *, by: str, timeout_s: float = RENAME_TIMEOUT_S
    ) -> dict[str, Any]:
        """Give ``device`` the name ``name``: a new certificate for its own key, over the broker.

        The robot must be online: it checks the certificate against its CA and
        its key, starts again under the new name, and only then does the old
        name lose its certificate (and its student binding move over). If it
        does not come back in ``timeout_s``, the new name is revoked instead.
        """
        if not valid_id(name):
            raise BadMessage(f"the name {name!r} may hold only letters, digits, - _ .")
        if device not in self.devices():
            raise NotFound(f"{device} has no certificate of this room")
        db = self.console.db

        def online() -> bool:
            return device in db.devices.ids(online_only=True)

        if not self.console.wait_for(online, ONLINE_WAIT_S):  # a Wi-Fi blip passes
            raise EnrolError(
                f"{device} is offline: switch it on, then rename it / 机器人离线：请先开机再改名"
            )
        try:
            _, cert = reissue_device(self.root, device, name)
        except BrokerError as exc:
            raise BadMessage(str(exc)) from exc
        self._wait_reloaded()
        now = time.time()
        message = Reassign(
            device=device,
            name=name,
            cert=cert.public_bytes(serialization.Encoding.PEM).decode(),
            ts=now,
            expires=now + timeout_s,
        )
        self.console.link.publish(self.console.topics.reassign(device), encode(message))
        back = self.console.wait_for(lambda: name in db.devices.ids(online_only=True), timeout_s)
        if not back:
            revoke_device(self.root, name)
            self._wait_reloaded(must=False)
            raise EnrolError(
                f"{device} did not come back as {name} within {timeout_s:.0f} s: it keeps its "
                f"old name / 机器人没有以新名称重新连接，仍保留原名"
            )
        old = db.devices.get(device)
        if old is not None and old.student is not None:
            db.rosters.bind(name, old.student, old.roster)
        revoke_device(self.root, device)
        self._wait_reloaded(must=False)
        self.console.forget(device)
        db.audit.add(by, "rename", device=device, name=name)
        logger.info("%s renamed %s to %s", by, device, name)
        return {"device": name, "was": device}

    def devices(self) -> list[str]:
        settings, _ = load_settings(self.root)
        return list(settings.devices)

    def _wait_reloaded(self, *, must: bool = True) -> bool:
        """Wait until ``roboclass broker up`` has made Mosquitto read the ACL and CRL as they are."""
        layout = Layout(self.root)
        wanted = acl_signature(layout)
        deadline = time.monotonic() + self.reload_timeout_s
        while True:
            try:
                if layout.reloaded.read_text(encoding="utf-8").strip() == wanted:
                    return True
            except FileNotFoundError:
                pass
            if time.monotonic() > deadline or self._closing.wait(0.05):
                break
        message = (
            f"the broker did not reload within {self.reload_timeout_s:.0f} s: is "
            "`roboclass broker up` (the roboclass-broker service) running on this folder? / "
            "broker 没有重新加载：roboclass-broker 服务在运行吗？"
        )
        if must:
            raise EnrolError(message)
        logger.warning(message)
        return False

    # -- lifecycle -----------------------------------------------------------

    def _close(self) -> None:
        self._closing.set()
        if self.browser is not None:
            self.browser.close()

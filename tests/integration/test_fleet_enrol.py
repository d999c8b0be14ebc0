"""Enrolment end to end: unclaimed robots, mDNS, claim codes, the TLS broker, revocation.

Everything runs for real on this machine: Mosquitto with the generated
classroom configuration under ``roboclass broker up`` (which reloads it when
the console changes the ACL or the CRL), the console with its API, and robots
as ``roboclass agent --enrol`` processes. mDNS runs on 127.0.0.1 only (the
loopback interface carries multicast here), so nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fleet.broker.config import BrokerSettings, Credentials, Layout, load_settings, write_classroom
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.enrol.console import Enroller
from fleet.enrol.mdns import Announcement, RobotBrowser
from fleet.enrol.protocol import ConsoleExchange, Grant, WrongCode
from fleet.enrol.robot import PER_ADDRESS, Claim, CredentialFolder, EnrolServer, wait_for_claim
from tests.browser import launch_args
from tests.conftest import free_port, system_part
from tests.integration.test_broker_security import REFUSED, Client, Identity
from tests.integration.test_fleet_api import call
from tests.integration.test_fleet_support import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = ["127.0.0.1"]


@dataclass
class Classroom:
    layout: Layout
    broker: subprocess.Popen[bytes]
    console: Console
    server: ApiServer
    enroller: Enroller
    token: str

    @property
    def api(self) -> str:
        return f"{self.server.url}/api/v1"

    def call(self, path: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
        return call(f"{self.api}{path}", method, body, self.token)

    def close(self) -> None:
        self.server.close()
        self.enroller.close()
        self.console.close()
        self.broker.terminate()  # `broker up` passes it on to Mosquitto
        self.broker.wait(timeout=30)


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[Classroom]:
    system_part("mosquitto")
    port = free_port()
    settings = BrokerSettings(hosts=("localhost", "127.0.0.1"), port=port, bind="127.0.0.1")
    layout = write_classroom(settings, tmp_path / "broker")
    broker = subprocess.Popen(
        [sys.executable, "-m", "roboclass", "broker", "up", "--config", str(layout.root)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    wait_until(layout.reloaded.is_file, 20, "`broker up` to start watching")
    creds = Credentials.load(layout.console)
    console = Console(
        ConsoleConfig(
            creds.host, creds.port, tmp_path / "console", keepalive=2, tls=creds.tls_context()
        )
    )
    server = ApiServer(console).start()
    console.config.url = server.url
    enroller = Enroller(layout.root, console, interfaces=LOOPBACK)
    server.app.state.enroller = enroller
    console.start()
    console.db.accounts.add_teacher("ms-li", "a long password")
    token = console.db.accounts.new_token("ms-li", "test")
    room = Classroom(layout, broker, console, server, enroller, token)
    try:
        assert console.wait_connected(10)
        yield room
    finally:
        room.close()


class RobotProcess:
    """``roboclass agent --enrol`` on an empty folder, as a robot boots unconfigured."""

    def __init__(self, folder: Path, state: Path) -> None:
        self.folder = folder
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "roboclass",
                "agent",
                "--enrol",
                "--broker-folder",
                str(folder),
                "--state-dir",
                str(state),
                "--enrol-host",
                "127.0.0.1",
                "--enrol-port",
                "0",
                "--mdns-interface",
                "127.0.0.1",
                "--runner",
                "tests.integration.enrol_runner:quick_runner",
                "--no-robot",
                "--json",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        text = self.proc.stdout.readline()
        assert text, f"the agent ended (status {self.proc.poll()})"
        out: dict[str, Any] = json.loads(text)
        return out

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def robot_status(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/enrol/v1", timeout=5) as response:
        out: dict[str, Any] = json.loads(response.read())
        return out


def test_a_robot_is_discovered_claimed_joins_over_tls_renamed_and_revoked(
    classroom: Classroom, tmp_path: Path
) -> None:
    robot = RobotProcess(tmp_path / "robot" / "credentials", tmp_path / "robot" / "state")
    try:
        waiting = robot.line()["enrol"]
        rid, code, port = waiting["robot"], waiting["code"], waiting["port"]
        assert robot_status(port) == {"v": 1, "robot": rid, "claimed": False}

        # the console finds it over mDNS and lists it for the teacher
        wait_until(
            lambda: [r["robot"] for r in classroom.call("/enrol")[1]["robots"]] == [rid],
            20,
            "the unclaimed robot on the console's list",
        )
        found = classroom.call("/enrol")[1]["robots"][0]
        assert found["address"] == f"127.0.0.1:{port}"

        # a wrong code is refused, and the robot still waits
        wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
        status, body = classroom.call(
            "/enrol/claim", "POST", {"robot": rid, "code": wrong, "name": "robot-07"}
        )
        assert status == 403, body
        assert robot_status(port)["claimed"] is False
        assert load_settings(classroom.layout.root)[0].devices == ()  # nothing was signed

        # the right code: credentials delivered, the robot joins the TLS broker
        status, body = classroom.call(
            "/enrol/claim", "POST", {"robot": rid, "code": code, "name": "robot-07"}
        )
        assert status == 200, body
        assert body["device"] == "robot-07"
        assert robot.line() == {"claimed": {"device": "robot-07", "room": "room1"}}
        # the name is taken now: the console says so before it talks to any robot
        taken = {"robot": "rc-000000", "code": "0000-0000", "name": "robot-07"}
        assert classroom.call("/enrol/claim", "POST", taken)[0] == 400
        facts = robot.line()
        assert facts["device"] == "robot-07"
        assert facts["broker"] == f"localhost:{load_settings(classroom.layout.root)[0].port}"
        console = classroom.console
        assert console.wait_for(
            lambda: console.db.devices.ids(online_only=True) == ["robot-07"], 20
        ), "robot-07 online over TLS"
        folder = robot.folder
        assert not (folder / "claim.json").exists() and not (folder / "pending.key").exists()
        assert (folder / "robot-07.key").stat().st_mode & 0o777 == 0o600
        # the key never left the robot: the console kept only its certificate
        assert sorted(p.name for p in classroom.layout.device_dir("robot-07").iterdir()) == [
            "robot-07.crt"
        ]
        # it obeys the console whose key it was given: a signed job runs
        sha = console.bundles.put(b"steps:1")
        [job] = console.push(sha, "hello", ["robot-07"])
        assert console.wait_for(
            lambda: getattr(console.db.jobs.get(job["job"]), "status", None) == "SUCCEEDED", 60
        ), "the job ran"
        # claimed: no longer announced, and the robot's enrolment endpoint is gone
        assert classroom.enroller.browser is not None
        assert classroom.enroller.browser.wait_gone(rid, 10)
        audit = [a.action for a in console.db.audit.list()]
        assert "claim" in audit and "claim-failed" in audit

        console.db.rosters.bind("robot-07", "Wang Fang")
        old = tmp_path / "robot-07-before"  # what robot-07's folder held (a copied SD card)
        shutil.copytree(folder, old)
        old_creds = Credentials.load(old)

        # rename from the console: a new certificate for the same key, over the broker
        status, body = classroom.call("/devices/robot-07/rename", "POST", {"name": "robot-08"})
        assert status == 200, body
        assert robot.line()["device"] == "robot-08"  # the agent started again as robot-08
        assert console.db.devices.ids(online_only=True) == ["robot-08"]
        assert [(d.device, d.student) for d in console.db.devices.list()] == [
            ("robot-08", "Wang Fang")
        ]
        assert load_settings(classroom.layout.root)[0].devices == ("robot-08",)
        assert Credentials.load(folder).identity == "robot-08"
        assert Credentials.load(folder).key.read_bytes() == old_creds.key.read_bytes()
        client = Client(old_creds.port, old_creds.ca, Identity(old_creds.cert, old_creds.key))
        assert client.try_connect() in REFUSED  # the old name's certificate is revoked
        client.close()
        assert classroom.call("/devices/robot-99/rename", "POST", {"name": "x"})[0] == 404

        # revoke from the console: the broker refuses the robot from then on
        assert classroom.call("/devices/robot-08/revoke", "POST", {"confirm": "nope"})[0] == 400
        status, body = classroom.call("/devices/robot-08/revoke", "POST", {"confirm": "robot-08"})
        assert status == 200, body
        assert body["broker_reloaded"] is True
        assert [d["device"] for d in classroom.call("/devices")[1]] == []
        creds = Credentials.load(folder)
        client = Client(creds.port, creds.ca, Identity(creds.cert, creds.key))
        assert client.try_connect() in REFUSED
        client.close()
        robot.close()  # it restarts (a reboot): it never comes back
        again = RobotProcess(folder, tmp_path / "robot" / "state")
        try:
            assert again.line()["device"] == "robot-08"  # configured: no enrolment
            assert not console.wait_for(lambda: "robot-08" in console.db.devices.ids(), 3), (
                "a revoked robot must not come back"
            )
        finally:
            again.close()
    finally:
        robot.close()


def claim(classroom: Classroom, robot: RobotProcess, name: str) -> None:
    """Claim the waiting ``robot`` as ``name`` and wait until it is online over TLS."""
    waiting = robot.line()["enrol"]
    status, body = classroom.call(
        "/enrol/claim",
        "POST",
        {"robot": waiting["robot"], "code": waiting["code"], "name": name,
         "address": f"127.0.0.1:{waiting['port']}"},
    )  # fmt: skip
    assert status == 200, body
    assert robot.line()["claimed"]["device"] == name
    assert robot.line()["device"] == name
    console = classroom.console
    assert console.wait_for(lambda: name in console.db.devices.ids(online_only=True), 20), name


def test_a_robot_moves_rooms_by_forgetting_this_one_and_being_claimed_again(
    classroom: Classroom, tmp_path: Path
) -> None:
    """Move = this console lets the robot go (it forgets the room and shows a new claim
    code; its certificate is revoked), then the next room's console claims it. The same
    classroom stands in for the next room here: the robot cannot tell them apart."""
    robot = RobotProcess(tmp_path / "robot" / "credentials", tmp_path / "robot" / "state")
    try:
        claim(classroom, robot, "robot-07")
        folder = robot.folder
        old_copy = tmp_path / "robot-07-before"
        shutil.copytree(folder, old_copy)
        assert classroom.call("/devices/robot-07/move", "POST", {"confirm": "no"})[0] == 400
        status, body = classroom.call("/devices/robot-07/move", "POST", {"confirm": "robot-07"})
        assert status == 200, body
        assert body["released"] is True and body["revoked"] is True
        assert robot.line() == {"released": {"device": "robot-07"}}
        assert not (folder / "broker.json").exists()
        assert classroom.call("/devices")[1] == []
        stale = Credentials.load(old_copy)
        client = Client(stale.port, stale.ca, Identity(stale.cert, stale.key))
        assert client.try_connect() in REFUSED  # the old certificate is revoked
        client.close()
        # it waits with a new key and code, and the next room claims it
        claim(classroom, robot, "robot-21")
        assert Credentials.load(folder).key.read_bytes() != stale.key.read_bytes()
        assert [a.action for a in classroom.console.db.audit.list()].count("move") == 1
        assert classroom.call("/devices/robot-99/move", "POST", {"confirm": "robot-99"})[0] == 404
    finally:
        robot.close()


def test_wrong_codes_are_rate_limited(classroom: Classroom, tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path / "robot")
    with EnrolServer(folder, "127.0.0.1", 0) as robot:
        rid = robot.claim.robot_id
        body = {
            "robot": rid,
            "code": "0000-0000",
            "name": "robot-09",
            "address": f"127.0.0.1:{robot.port}",
        }
        if robot.claim.code == "0000-0000":
            body["code"] = "1111-1111"
        statuses = [classroom.call("/enrol/claim", "POST", body)[0] for _ in range(6)]
        assert statuses == [403] * 5 + [429]
        # even the right code waits now: guessing costs a minute per 5 tries
        status, answer = classroom.call("/enrol/claim", "POST", {**body, "code": robot.claim.code})
        assert status == 429, answer
        assert load_settings(classroom.layout.root)[0].devices == ()
        assert not robot.granted.is_set()
        assert folder.claim().failures == 5  # the robot counted each try


def test_the_robot_limits_tries_from_one_address(tmp_path: Path) -> None:
    folder = CredentialFolder(tmp_path / "robot")
    with EnrolServer(folder, "127.0.0.1", 0) as robot:
        url = f"http://127.0.0.1:{robot.port}/enrol/v1/start"
        answers = []
        for _ in range(PER_ADDRESS + 1):
            guess = ConsoleExchange("1234-5678", robot_id=robot.claim.robot_id)
            answers.append(call(url, "POST", guess.start_message())[0])
        assert answers == [200] * PER_ADDRESS + [429]


def _grant(classroom: Classroom) -> Grant:
    ca = classroom.layout.ca_cert.read_text()
    return Grant(
        identity="robot-66",
        site="school",
        room="room1",
        hosts=["localhost"],
        port=1,
        cert=ca,
        ca=ca,
        console_key="00" * 32,
    )


def test_forged_and_replayed_enrolments_fail(classroom: Classroom, tmp_path: Path) -> None:
    """A student on the LAN can neither claim a robot nor replay the teacher's claim."""
    folder = CredentialFolder(tmp_path / "robot")
    with EnrolServer(folder, "127.0.0.1", 0) as robot:
        base = f"http://127.0.0.1:{robot.port}/enrol/v1"
        rid = robot.claim.robot_id
        # a student's laptop guesses the code: the robot's proof does not check out ...
        guess = "9999-9999" if robot.claim.code != "9999-9999" else "8888-8888"
        student = ConsoleExchange(guess, robot_id=rid)
        status, reply = call(f"{base}/start", "POST", student.start_message())
        assert status == 200
        with pytest.raises(WrongCode):
            student.check(reply)
        # ... and a grant it seals anyway does not open on the robot
        forged = {
            "v": 1,
            "session": student.session,
            "nonce": base64.b64encode(b"\0" * 12).decode(),
            "box": base64.b64encode(b"\0" * 64).decode(),
        }
        assert call(f"{base}/finish", "POST", forged)[0] == 403
        assert call(f"{base}/finish", "POST", forged)[0] == 404  # and that session is gone
        assert not robot.granted.is_set() and not folder.configured

        # the teacher claims it; a recording of that exchange is worth nothing afterwards
        teacher = ConsoleExchange(robot.claim.code, robot_id=rid)
        start = teacher.start_message()
        status, reply = call(f"{base}/start", "POST", start)
        csr = teacher.check(reply)
        assert csr.startswith(b"-----BEGIN CERTIFICATE REQUEST")
        sealed = teacher.seal(_grant(classroom))
        # the grant is checked against the robot's key before anything is written
        status, answer = call(f"{base}/finish", "POST", sealed)
        assert status == 400 and "not for this robot's key" in answer["error"]
        assert not folder.configured
        assert call(f"{base}/finish", "POST", sealed)[0] == 404  # replayed: that exchange is over
        status, _ = call(f"{base}/start", "POST", start)  # the start replayed: a new exchange ...
        assert status == 200
        # ... with a new robot half and key: the old grant does not open
        assert call(f"{base}/finish", "POST", sealed)[0] == 403
        assert not robot.granted.is_set()


def test_a_fake_robot_gets_no_certificate(classroom: Classroom, tmp_path: Path) -> None:
    """A student's laptop announces itself as a robot; the teacher types the real robot's code."""
    real, fake = CredentialFolder(tmp_path / "real"), CredentialFolder(tmp_path / "fake")
    while fake.claim().code == real.claim().code:  # 1 in 10^8: the laptop must not know it
        fake.new_code()
    with EnrolServer(real, "127.0.0.1", 0) as robot, EnrolServer(fake, "127.0.0.1", 0) as laptop:
        body = {
            "robot": laptop.claim.robot_id,
            "code": robot.claim.code,
            "name": "robot-10",
            "address": f"127.0.0.1:{laptop.port}",
        }
        status, answer = classroom.call("/enrol/claim", "POST", body)
        assert status == 403, answer
        assert load_settings(classroom.layout.root)[0].devices == ()
        assert not laptop.granted.is_set()


def test_mdns_on_loopback_finds_and_forgets_a_robot() -> None:
    """Discovery with zeroconf's own multicast, on 127.0.0.1 only."""
    with RobotBrowser(interfaces=LOOPBACK) as browser:
        with Announcement("rc-0a0b0c", port=8764, hostname="pi-07", interfaces=LOOPBACK):
            found = browser.wait_for("rc-0a0b0c", 10)
            assert found is not None
            assert (found.address, found.port, found.hostname) == ("127.0.0.1", 8764, "pi-07")
        assert browser.wait_gone("rc-0a0b0c", 10)  # withdrawn when the robot is claimed


def test_an_announcement_that_lies_about_its_id_is_ignored() -> None:
    with (
        RobotBrowser(interfaces=LOOPBACK) as browser,
        Announcement("not-a-robot-id", port=8764, hostname="x", interfaces=LOOPBACK),
        Announcement("rc-0d0e0f", port=8765, hostname="y", interfaces=LOOPBACK),
    ):
        assert browser.wait_for("rc-0d0e0f", 10) is not None
        assert [r.robot_id for r in browser.robots()] == ["rc-0d0e0f"]


def test_a_console_without_a_classroom_says_how_to_enrol(tmp_path: Path) -> None:
    from fleet.broker.embedded import EmbeddedBroker  # noqa: PLC0415

    with EmbeddedBroker() as broker:
        console = Console(ConsoleConfig(broker.host, broker.port, tmp_path / "console"))
        with ApiServer(console) as server:
            console.db.accounts.add_teacher("ms-li", "a long password")
            token = console.db.accounts.new_token("ms-li", "t")
            status, body = call(f"{server.url}/api/v1/enrol", token=token)
            assert status == 200 and body["enabled"] is False
            claim = {"robot": "rc-000000", "code": "0000-0000", "name": "r"}
            status, body = call(f"{server.url}/api/v1/enrol/claim", "POST", claim, token)
            assert status == 409 and "--broker-folder" in body["detail"]
            assert call(f"{server.url}/api/v1/enrol/claim", "POST", claim)[0] == 401
        console.close()


def test_the_teacher_claims_and_revokes_in_the_browser(
    classroom: Classroom, tmp_path: Path
) -> None:
    """The room page's "New robots": the robot found over mDNS, its code typed, then revoked."""
    chromium = system_part("chromium")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    shown: list[Claim] = []
    stop = threading.Event()
    robot = threading.Thread(
        target=wait_for_claim,
        args=(CredentialFolder(tmp_path / "robot"),),
        kwargs={
            "host": "127.0.0.1",
            "port": 0,
            "interfaces": LOOPBACK,
            "on_code": lambda claim, _port: shown.append(claim),
            "stop": stop,
        },
    )
    robot.start()
    try:
        wait_until(lambda: bool(shown), 10, "the robot's claim code")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            page = browser.new_page()
            page.goto(classroom.server.url)
            page.fill("#login-user", "ms-li")
            page.fill("#login-pass", "a long password")
            page.press("#login-pass", "Enter")
            row = f"#enrol .enrol-robot[data-robot={shown[0].robot_id}]"
            page.wait_for_selector(row, timeout=20_000)
            page.fill(f"{row} input[name=code]", shown[0].code)
            page.fill(f"{row} input[name=name]", "robot-07")
            page.click(f"{row} button")
            page.wait_for_selector("#enrol li[data-device=robot-07]", timeout=20_000)
            assert load_settings(classroom.layout.root)[0].devices == ("robot-07",)
            page.on("dialog", lambda dialog: dialog.accept("robot-07"))  # the name typed again
            page.click("#enrol li[data-device=robot-07] button.revoke")
            page.wait_for_selector(
                "#enrol li[data-device=robot-07]", state="detached", timeout=20_000
            )
            browser.close()
        assert load_settings(classroom.layout.root)[0].revoked == ("robot-07",)
        robot.join(10)  # claimed: the robot's wait is over
        assert not robot.is_alive()
    finally:
        stop.set()
        robot.join(10)

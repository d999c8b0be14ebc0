"""Attacks on the room's MQTT side with a robot's own certificate, as a student who copied
it would make them: against real Mosquitto with the generated TLS config, the console and
the robots' agents (``roboclass broker config`` -> Mosquitto, ``console``, ``agent``).

The broker lets robot-01's certificate write only under ``dev/robot-01/up/``; these
attacks stay inside that and name *another robot's job*, or log under made-up jobs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import BaseModel

from fleet.agent.agent import Agent, AgentConfig
from fleet.broker.config import BrokerSettings, Credentials, Layout, write_classroom
from fleet.broker.mosquitto import Mosquitto
from fleet.console.console import Console, ConsoleConfig
from fleet.console.jobguard import FOREIGN_JOB
from fleet.console.web import room_snapshot
from fleet.core.protocol import (
    DeviceState,
    JobResult,
    JobStatus,
    LogBatch,
    LogLine,
    Status,
    Topics,
    encode,
)
from tests.conftest import free_port, system_part
from tests.integration.test_fleet_support import Room, wait_until

pytestmark = pytest.mark.integration

DEVICES = ("robot-01", "robot-02")


@contextlib.contextmanager
def classroom(tmp_path: Path) -> Iterator[tuple[Layout, Room]]:
    """Mosquitto from the generated config, and the console on it over TLS (no agents yet)."""
    system_part("mosquitto")
    port = free_port()
    settings = BrokerSettings(
        hosts=("localhost", "127.0.0.1"), devices=DEVICES, port=port, bind="127.0.0.1"
    )
    layout = write_classroom(settings, tmp_path / "broker")
    with Mosquitto(layout.conf, "127.0.0.1", port):
        creds = Credentials.load(layout.console)
        console = Console(
            ConsoleConfig(
                creds.host,
                creds.port,
                tmp_path / "console",
                site=creds.site,
                room=creds.room,
                keepalive=2,
                tls=creds.tls_context(),
            )
        ).start()
        room = Room(console, creds.host, port, tmp_path)
        try:
            assert console.wait_connected(10)
            yield layout, room
        finally:
            room.close()


def agent(layout: Layout, room: Room, device: str) -> None:
    room.agent(device, tls=Credentials.load(layout.device_dir(device)).tls_context())


class Impostor:
    """A bare MQTT client with a robot's certificate and key (copied off the robot)."""

    def __init__(self, layout: Layout, device: str) -> None:
        creds = Credentials.load(layout.device_dir(device))
        self.topics = Topics(creds.site, creds.room)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="laptop")
        self.client.tls_set_context(creds.tls_context())
        self.client.connect(creds.host, creds.port)
        self.client.loop_start()

    def send(self, topic: str, msg: BaseModel) -> None:
        info = self.client.publish(topic, encode(msg), qos=1)
        info.wait_for_publish(10)
        assert info.is_published(), f"the broker did not take {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_robot_01s_certificate_cannot_grade_robot_02s_job(tmp_path: Path) -> None:
    with classroom(tmp_path) as (layout, room):
        console = room.console
        agent(layout, room, "robot-02")
        wait_until(lambda: console.db.devices.ids(online_only=True) == ["robot-02"], 20, "birth")
        sha = console.bundles.put(b"steps:400")  # long enough to attack while it runs
        (pushed,) = console.push(sha, "drive-400", devices=["robot-02"])
        job = pushed["job"]
        room.wait_jobs("IN_PROGRESS", 1)

        impostor = Impostor(layout, "robot-01")
        t = impostor.topics
        try:
            forged = JobResult(
                device="robot-01",
                job=job,
                result_id="forged-1",
                status=Status.FAILED,
                result={"status": "failed", "score": 0},
                ts=time.time(),
            )
            impostor.send(t.result("robot-01", job), forged)
            cancel = JobStatus(
                device="robot-01", job=job, status=Status.CANCELED, reason="forged", ts=time.time()
            )
            impostor.send(t.status("robot-01", job), cancel)
            fake = LogBatch(
                device="robot-01", job=job, lines=[LogLine(stream="stdout", line="I gave up")]
            )
            impostor.send(t.log("robot-01"), fake)
            # issue 19: 205 log batches under made-up jobs pushed robot-02's log out
            for n in range(205):
                junk = LogBatch(
                    device="robot-01",
                    job=f"jfake{n:03d}",
                    lines=[LogLine(stream="stdout", line=f"junk {n}")],
                )
                impostor.send(t.log("robot-01"), junk)
        finally:
            impostor.close()
        wait_until(lambda: console.drops.snapshot().get(FOREIGN_JOB) == 3, 10, "3 drops")
        assert console.guard.refused["robot-01"] == 3
        assert not console.db.results.list()  # nothing stored from robot-01
        assert room.jobs() == {job: "IN_PROGRESS"}  # its state never changed
        assert "I gave up" not in str(console.job_log(job))

        # robot-02's real result is stored, and the teacher sees its real score
        room.wait_jobs("SUCCEEDED", 1)
        wait_until(lambda: len(console.db.results.list()) == 1, 20, "robot-02's result")
        (stored,) = console.db.results.list()
        assert (stored.device, stored.score) == ("robot-02", 100)
        card = {d["device"]: d for d in room_snapshot(console)["devices"]}["robot-02"]
        assert card["last_result"]["score"] == 100
        assert card["last_result"]["passed"] is True
        lines = [x["line"] for x in console.job_log(job) or []]
        assert "step 10" in lines and "step 400" in lines  # robot-02's log, all of it kept
        assert console.job_log("jfake000") is None
        assert console.drops.snapshot() == {FOREIGN_JOB: 3}


def card(room: Room, device: str) -> dict[str, Any]:
    """What the teacher's room page shows for ``device``."""
    cards = {d["device"]: d for d in room_snapshot(room.console)["devices"]}
    return cards.get(device) or {"identity_clash": None, "last_result": None}  # not born yet


def test_a_copied_certificate_on_another_computer_is_reported_by_robot_and_console(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 19: a second connection with robot-01's certificate pushed robot-01 off the
    broker, 33 times in 25 s, and nobody was told. Now the robot's agent says so in its
    log and state, and the teacher's card for robot-01 says another computer uses it."""
    caplog.set_level(logging.WARNING, "fleet")
    with classroom(tmp_path) as (layout, room):
        console = room.console
        for device in DEVICES:
            agent(layout, room, device)
        wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 2, 20, "births")
        robot = room.agents["robot-01"]

        # one connection that comes and goes (a reconnect, say) is not a clash
        once = Impostor(layout, "robot-01")
        once.close()
        wait_until(lambda: robot.pushed_off == 1, 10, "robot-01 pushed off once")
        assert not robot.identity_clash and not card(room, "robot-01")["identity_clash"]

        # a laptop with a copy of robot-01's folder that stays on (paho reconnects by itself)
        laptop = Impostor(layout, "robot-01")
        try:
            wait_until(lambda: robot.identity_clash, 30, "robot-01's agent notices")
            wait_until(lambda: card(room, "robot-01")["identity_clash"], 30, "the card says so")
        finally:
            laptop.close()
        said = [r.getMessage() for r in caplog.records if r.name == "fleet.agent.agent"]
        assert any("another computer is using robot-01's certificate" in m for m in said)
        assert any("另一台电脑正在使用 robot-01 的证书" in m for m in said)
        lines = [x["line"] for x in console.logs.get("robot-01", [])]
        assert any("another computer is using robot-01's certificate" in x for x in lines)
        # robot-02 was never touched; robot-01 is back on the broker once the laptop is gone
        assert room.agents["robot-02"].pushed_off == 0
        assert not card(room, "robot-02")["identity_clash"]
        wait_until(lambda: robot.link.connected, 10, "robot-01 back")


def test_two_agents_with_one_certificate_are_told_apart_by_their_sessions(
    tmp_path: Path,
) -> None:
    """A student runs ``roboclass agent`` with a copy of robot-01's folder: two agents take
    turns on the broker; both say so, and the console sees two sessions taking turns."""
    with classroom(tmp_path) as (layout, room):
        console = room.console
        agent(layout, room, "robot-01")
        first = room.agents["robot-01"]
        wait_until(lambda: console.db.devices.ids(online_only=True) == ["robot-01"], 20, "birth")
        copy = Agent(
            AgentConfig(
                device="robot-01",
                host=room.host,
                port=room.port,
                state_dir=tmp_path / "laptop",
                trusted_keys={console.key.kid: console.key.public_key},
                keepalive=2,
                tls=Credentials.load(layout.device_dir("robot-01")).tls_context(),
            )
        ).start()
        try:
            wait_until(lambda: first.identity_clash and copy.identity_clash, 30, "both notice")
            wait_until(lambda: card(room, "robot-01")["identity_clash"], 30, "the card says so")
        finally:
            copy.close()
        assert {first.session, copy.session} <= set(console.identity.sessions("robot-01"))


#: Where the browser tests leave their screenshots, to be looked at.
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def test_the_teacher_sees_the_clash_on_the_robots_card_in_both_languages(tmp_path: Path) -> None:
    """The room page in Chromium: robot-01's card says another computer is using its
    certificate (two sessions take turns in its births), in English and in Chinese."""
    from playwright.sync_api import expect, sync_playwright  # noqa: PLC0415 - browser tests only

    from fleet.console.api import ApiServer  # noqa: PLC0415
    from tests.browser import launch_args, script_errors  # noqa: PLC0415

    chromium = system_part("chromium")
    with classroom(tmp_path) as (_layout, room):
        console = room.console
        server = ApiServer(console).start()
        try:
            console.db.accounts.add_teacher("ms-li", "a long classroom secret")
            # births as the broker delivers them (the console may write the whole room)
            for device, session in (("robot-02", "c3"), *(("robot-01", s) for s in "aba")):
                birth = DeviceState(device=device, session=session, online=True, ts=time.time())
                assert console.link.publish(console.topics.state(device), encode(birth))
            wait_until(lambda: card(room, "robot-01")["identity_clash"], 10, "the clash")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
                try:
                    page = browser.new_page(locale="en-GB")
                    errors = script_errors(page)
                    page.goto(server.url + "/")
                    page.fill("#login-user", "ms-li")
                    page.fill("#login-pass", "a long classroom secret")
                    page.press("#login-pass", "Enter")
                    badge = page.locator(".card[data-device=robot-01] .clash-badge")
                    expect(badge).to_contain_text(
                        "Another computer is using robot-01's certificate"
                    )
                    expect(page.locator(".card[data-device=robot-02]")).to_be_visible()
                    expect(page.locator(".card[data-device=robot-02] .clash-badge")).to_have_count(
                        0
                    )
                    SHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SHOTS / "console-en-identity-clash.png"))
                    page.select_option("#lang", "zh")
                    expect(badge).to_contain_text("另一台电脑正在使用 robot-01 的证书")
                    page.screenshot(path=str(SHOTS / "console-zh-identity-clash.png"))
                    assert errors == []
                finally:
                    browser.close()
        finally:
            server.close()

"""A class on the classroom broker: console and agents over TLS with the room's certificates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fleet.broker.config import BrokerSettings, Credentials, write_classroom
from fleet.broker.mosquitto import Mosquitto
from fleet.console.console import Console, ConsoleConfig
from fleet.core.signing import public_key_text
from tests.conftest import free_port, system_part
from tests.integration.test_fleet_support import Room, wait_until

pytestmark = pytest.mark.integration

DEVICES = ("robot-01", "robot-02")


def test_a_class_runs_on_the_tls_broker(tmp_path: Path) -> None:
    system_part("mosquitto")
    port = free_port()
    settings = BrokerSettings(
        hosts=("localhost", "127.0.0.1"), devices=DEVICES, port=port, bind="127.0.0.1"
    )
    layout = write_classroom(settings, tmp_path / "broker")
    with Mosquitto(layout.conf, "127.0.0.1", port):
        console_creds = Credentials.load(layout.console)
        console = Console(
            ConsoleConfig(
                console_creds.host,
                console_creds.port,
                tmp_path / "console",
                site=console_creds.site,
                room=console_creds.room,
                keepalive=2,
                tls=console_creds.tls_context(),
            )
        ).start()
        room = Room(console, console_creds.host, port, tmp_path)
        try:
            assert console.wait_connected(10)
            for device in DEVICES:
                tls = Credentials.load(layout.device_dir(device)).tls_context()
                room.agent(device, tls=tls)
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 2, 20, "births")
            sha = console.bundles.put(b"steps:5")
            jobs = console.push(sha, "drive-5")
            assert len(jobs) == 2
            room.wait_jobs("SUCCEEDED", 2)
            wait_until(lambda: len(console.db.results.list()) == 2, 20, "two results")
            console.stop_all("ms-li")
            wait_until(lambda: all(a.estopped for a in room.agents.values()), 10, "stopped")
            # a robot's certificate only works for that robot
            wrong = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "roboclass",
                    "agent",
                    "--broker-folder",
                    str(layout.device_dir("robot-01")),
                    "--device",
                    "robot-02",
                    "--console-key",
                    public_key_text(console.key.public_key),
                    "--no-robot",
                    "--duration",
                    "0",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert wrong.returncode != 0
            assert "robot-01's certificate" in wrong.stderr
        finally:
            room.close()


def test_the_agent_command_joins_with_its_folder(tmp_path: Path) -> None:
    system_part("mosquitto")
    port = free_port()
    settings = BrokerSettings(
        hosts=("localhost", "127.0.0.1"), devices=DEVICES, port=port, bind="127.0.0.1"
    )
    layout = write_classroom(settings, tmp_path / "broker")
    with Mosquitto(layout.conf, "127.0.0.1", port):
        creds = Credentials.load(layout.console)
        with Console(
            ConsoleConfig(creds.host, creds.port, tmp_path / "console", tls=creds.tls_context())
        ) as console:
            assert console.wait_connected(10)
            agent = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "roboclass",
                    "agent",
                    "--broker-folder",
                    str(layout.device_dir("robot-02")),
                    "--console-key",
                    public_key_text(console.key.public_key),
                    "--state-dir",
                    str(tmp_path / "agent"),
                    "--no-robot",
                    "--json",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert agent.stdout is not None
                facts = json.loads(agent.stdout.readline())
                assert facts["device"] == "robot-02"  # the name comes from the certificate
                assert facts["broker"] == f"localhost:{port}"
                wait_until(
                    lambda: console.db.devices.ids(online_only=True) == ["robot-02"],
                    20,
                    "robot-02 online over TLS",
                )
            finally:
                agent.terminate()
                agent.wait(timeout=30)

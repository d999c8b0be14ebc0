"""``roboclass console`` and ``roboclass fleet`` as a teacher uses them, on a real console."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fleet.broker.embedded import EmbeddedBroker
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from roboclass.cli import cli
from tests.integration.test_fleet_support import Room, wait_until

pytestmark = pytest.mark.integration


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_console_accounts_tokens_and_key(tmp_path: Path) -> None:
    data = str(tmp_path / "console")
    made = run("console", "adduser", "ms-li", "--data-dir", data)
    assert made.exit_code == 0
    password = made.output.split("password ")[1].split()[0]
    assert len(password) >= 16  # generated, shown once; there is no default
    saved = run("console", "adduser", "mr-wu", "--data-dir", data, "--password-stdin", stdin="x\n")
    assert saved.exit_code != 0 and "8 characters" in saved.output
    token = run("console", "token", "ms-li", "--data-dir", data)
    assert token.exit_code == 0 and len(token.output.strip()) >= 20
    nobody = run("console", "token", "nobody", "--data-dir", data)
    assert nobody.exit_code != 0 and "adduser nobody" in nobody.output
    key = run("console", "key", "--data-dir", data)
    again = run("console", "key", "--data-dir", data)
    assert key.exit_code == 0 and key.output == again.output  # made once, then kept
    assert oct(os.stat(Path(data) / "signing-key.pem").st_mode & 0o777) == "0o600"


def test_fleet_commands_against_a_console(tmp_path: Path) -> None:
    with EmbeddedBroker() as broker:
        console = Console(
            ConsoleConfig(broker.host, broker.port, tmp_path / "console", keepalive=2)
        )
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        room = Room(console, broker.host, broker.port, tmp_path)
        try:
            assert console.wait_connected(10)
            console.db.accounts.add_teacher("ms-li", "a long secret")
            token = console.db.accounts.new_token("ms-li", "test")
            fleet = ("fleet", "--url", server.url, "--token", token)
            for name in ("r00", "r01"):
                room.agent(name)
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 2, 10, "births")

            listed = run(*fleet, "devices", "--json")
            assert listed.exit_code == 0
            assert sorted(d["device"] for d in json.loads(listed.output)) == ["r00", "r01"]
            plain = run(*fleet, "devices")
            assert "r00" in plain.output and "online" in plain.output

            bundle = tmp_path / "drive.bin"
            bundle.write_bytes(b"steps:5\n")
            pushed = run(*fleet, "push", "drive-5", "--bundle", str(bundle), "--json")
            assert pushed.exit_code == 0
            assert len(json.loads(pushed.output)["jobs"]) == 2
            room.wait_jobs("SUCCEEDED", 2)
            wait_until(lambda: len(console.db.results.list()) == 2, 20, "two results")

            results = json.loads(run(*fleet, "results", "--lesson", "drive-5", "--json").output)
            assert sorted(r["device"] for r in results) == ["r00", "r01"]
            assert {r["status"] for r in results} == {"SUCCEEDED"}
            out = tmp_path / "results.csv"
            assert run(*fleet, "export", "--out", str(out)).exit_code == 0
            rows = list(csv.DictReader(out.open(encoding="utf-8")))
            assert sorted(row["device"] for row in rows) == ["r00", "r01"]

            stopped = json.loads(run(*fleet, "stop", "--json").output)
            wait_until(lambda: all(a.estopped for a in room.agents.values()), 10, "stopped")
            released = json.loads(run(*fleet, "clear-stop", "--json").output)
            assert released["epoch"] == stopped["epoch"] + 1
            wait_until(lambda: not any(a.estopped for a in room.agents.values()), 10, "released")
            # the old name still works for one release, and is no longer listed
            stopped = json.loads(run(*fleet, "stop", "--json").output)
            old = run(*fleet, "release")
            assert old.exit_code == 0 and "clear-stop" in old.output
            assert f"(epoch {stopped['epoch'] + 1})" in old.output
            assert " release " not in run(*fleet, "--help").output
            wait_until(lambda: not any(a.estopped for a in room.agents.values()), 10, "released")

            wrong = run("fleet", "--url", server.url, "--token", "made-up", "devices")
            assert wrong.exit_code != 0 and "401" in wrong.output
            nowhere = run("fleet", "--url", "http://127.0.0.1:9", "--token", token, "devices")
            assert nowhere.exit_code != 0 and "roboclass console serve" in nowhere.output
        finally:
            room.close()
            server.close()

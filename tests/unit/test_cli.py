from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from roboclass import __version__
from roboclass.cli import COMMANDS, LazyGroup, cli


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"roboclass, version {__version__}"


def test_help_lists_every_group() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for name, (_, help_text) in COMMANDS.items():
        assert name in result.output
        assert help_text in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads(name: str) -> None:
    group = cli
    assert isinstance(group, LazyGroup)
    command = group.get_command(click.Context(group), name)
    assert isinstance(command, click.Command)
    # the short help in the registry matches the command's own first line
    assert command.get_short_help_str(limit=200) == COMMANDS[name][1]
    assert run(name, "--help").exit_code == 0


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["fly"])
    assert result.exit_code == 2
    assert "No such command 'fly'" in result.output


def test_doctor_json_has_status_and_advice_per_check() -> None:
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    assert result.exit_code in (0, 1)
    entries = json.loads(result.output)
    names = [e["check"] for e in entries]
    assert names == sorted(set(names), key=names.index)  # one entry per check
    assert {
        "python",
        "extras",
        "onnxruntime",
        "camera",
        "serial",
        "brltty",
        "mosquitto",
        "simavr",
        "disk",
        "clock",
    } <= set(names)
    for entry in entries:
        assert entry["status"] in ("ok", "warn", "fail")
        assert isinstance(entry["advice"], str)
        if entry["status"] != "ok":
            assert entry["advice"], entry
    assert result.exit_code == (1 if any(e["status"] == "fail" for e in entries) else 0)


def test_doctor_speaks_chinese() -> None:
    result = CliRunner().invoke(cli, ["--lang", "zh", "doctor", "--json"])
    python = next(e for e in json.loads(result.output) if e["check"] == "python")
    assert "位" in python["detail"]


def test_demo_json_reports_a_working_broker() -> None:
    result = run(
        "demo", "--port", "0", "--http-port", "0", "--robots", "2", "--duration", "0", "--json"
    )
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["broker"]["url"].startswith("mqtt://127.0.0.1:")
    assert report["broker"]["roundtrip_ms"] > 0
    # two real agent processes came online, and the console's API (teacher login) lists them
    assert report["robots"]["ready"] is True
    assert report["robots"]["devices"] == ["robot-01", "robot-02"]
    assert report["console"]["devices_listed"] == 2
    assert report["console"]["url"].startswith("http://127.0.0.1:")
    assert len(report["console"]["teacher"]["password"]) >= 16

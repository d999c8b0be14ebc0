"""`roboclass bridge` commands that need no board."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from firmware_bridge import ports
from roboclass.cli import cli


def _port(**kw: object) -> SimpleNamespace:
    base = {
        "device": "/dev/ttyUSB0",
        "vid": 0x1A86,
        "pid": 0x7523,
        "serial_number": None,
        "location": "1-1.2:1.0",
        "description": "USB Serial",
    }
    base.update(kw)
    return SimpleNamespace(**base)


def test_ch340_is_identified_by_location() -> None:
    info = ports.describe(_port())
    assert info.board == "UNO/Nano clone (CH340)"
    assert "USB location" in info.note
    assert info.as_dict()["vid"] == "1a86"


def test_unknown_usb_device_without_serial_gets_a_note() -> None:
    info = ports.describe(_port(vid=0x1234, pid=0x5678))
    assert info.board == "unknown USB serial device"
    assert "no serial number" in info.note


def test_find_again_follows_the_serial_number(monkeypatch: pytest.MonkeyPatch) -> None:
    uno = _port(vid=0x2341, pid=0x0043, serial_number="8573531", device="/dev/ttyACM1")
    monkeypatch.setattr(ports.list_ports, "comports", lambda *a, **k: [uno])
    was = ports.describe(
        _port(vid=0x2341, pid=0x0043, serial_number="8573531", device="/dev/ttyACM0")
    )
    assert ports.find_again("/dev/ttyACM0", was) == "/dev/ttyACM1"
    clone = ports.describe(_port())  # CH340: by USB location
    monkeypatch.setattr(
        ports.list_ports, "comports", lambda *a, **k: [_port(device="/dev/ttyUSB3")]
    )
    assert ports.find_again("/dev/ttyUSB0", clone) == "/dev/ttyUSB3"
    assert ports.find_again("/tmp/pty-link", None) == "/tmp/pty-link"


def test_ports_json_is_one_document() -> None:
    result = CliRunner().invoke(cli, ["bridge", "ports", "--all", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert isinstance(listed, list)
    for entry in listed:
        assert {"device", "vid", "pid", "serial_number", "location", "board", "note"} <= set(entry)


def test_bench_needs_a_port_or_sim() -> None:
    result = CliRunner().invoke(cli, ["bridge", "bench"])
    assert result.exit_code == 2
    assert "PORT or --sim" in result.output


def test_ping_without_a_board_says_what_to_do(tmp_path: object) -> None:
    result = CliRunner().invoke(cli, ["bridge", "ping", "/dev/does-not-exist", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.output)
    assert error["kind"] == "NoBoard"
    assert "roboclass bridge ports" in error["error"]

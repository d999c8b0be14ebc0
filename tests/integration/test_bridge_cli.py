"""`roboclass bridge` against the real firmware under simavr."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from firmware_bridge.simboard import SimBoard
from roboclass.cli import cli
from tests.integration.test_bridge_firmware import built

pytestmark = pytest.mark.integration


@pytest.fixture
def board() -> Iterator[SimBoard]:
    built("simboard")
    with SimBoard(built("roboclass_firmware.elf")) as sim:
        yield sim


def test_ping_json(board: SimBoard) -> None:
    result = CliRunner().invoke(cli, ["bridge", "ping", board.port, "--count", "5", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hello"]["firmware"] == "1.2.0"
    assert report["hello"]["protocol"] == "1.2"
    assert report["roundtrip_ms"]["count"] == 5
    assert (
        0
        < report["roundtrip_ms"]["min"]
        <= report["roundtrip_ms"]["p50"]
        <= report["roundtrip_ms"]["max"]
    )


def test_ping_text(board: SimBoard) -> None:
    result = CliRunner().invoke(cli, ["bridge", "ping", board.port, "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "RoboClass firmware 1.2.0" in result.output and "round trip" in result.output


def test_monitor_json_with_sensors(board: SimBoard) -> None:
    board.set_distance(15, 16, 0.8)
    board.set_adc(3, 2000)
    args = ["bridge", "monitor", board.port, "--duration", "0.6", "--ultrasonic", "15,16"]
    result = CliRunner().invoke(cli, [*args, "--battery", "3:3", "--encoders", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    rows = report["telemetry"]
    assert len(rows) >= 10  # 50 Hz for 0.6 s
    assert rows[-1]["distance_m"] == pytest.approx(0.8, abs=0.005)
    assert rows[-1]["voltage"] == pytest.approx(6.0, abs=0.05)
    assert rows[-1]["encoders"] == [0, 0]
    assert rows[-1]["armed"] is False


def test_version_mismatch_exit_status_and_message() -> None:
    built("simboard")
    with SimBoard(built("roboclass_firmware_v0.elf")) as old:
        result = CliRunner().invoke(cli, ["bridge", "ping", old.port, "--json"])
    assert result.exit_code == 1
    error = json.loads(result.output)
    assert error["kind"] == "VersionMismatch"
    assert f"roboclass bridge flash --port {old.port}" in error["error"]


def test_simboard_command_prints_its_port(tmp_path: Path) -> None:
    built("simboard")
    link = tmp_path / "ttyRC9"
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("roboclass")),
            "bridge",
            "simboard",
            "--link",
            str(link),
            "--duration",
            "1",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["port"] == str(link)
    assert info["pty"].startswith("/dev/pts/")
    assert info["realtime"] is True
    assert not link.exists()  # removed on exit


def test_bench_sim_json_reports_every_figure() -> None:
    built("echo_firmware.elf")
    args = ["bridge", "bench", "--sim", "--json", "--count", "20", "--cpu-seconds", "1"]
    result = CliRunner().invoke(cli, [*args, "--telemetry-seconds", "1"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for name in ("ping", "drive"):
        trip = report["round_trip"][name]
        assert trip["n"] == 20
        assert trip["p50_ms"] <= trip["p99_ms"]
        assert trip["x_wire"] > 0 and trip["x_echo_floor"] > 0
        assert report["wire_ms"][name]["bytes"] > 0
        assert report["echo_floor"][name]["n"] == 20
    assert report["setpoints"]["lost"] == 0 and report["setpoints"]["corrupt"] == 0
    assert report["cpu_50hz"]["messages_in"] > 0 and report["cpu_50hz"]["messages_out"] > 0
    assert [(t["channels"], t["frame_bytes"]) for t in report["telemetry"]] == [(1, 19), (6, 29)]
    for t in report["telemetry"]:
        assert t["lost"] == 0 and t["corrupt"] == 0
        assert t["frames_per_second"] > 0 and t["x_wire"] > 0 and t["host_us_per_frame"] > 0
        trips = t["round_trip"]
        for case in ("with_telemetry", "without_telemetry"):
            assert trips[case]["p50_ms"] <= trips[case]["p99_ms"]
        assert (
            trips["with_telemetry"]["n"] + trips["without_telemetry"]["n"] + trips["timeouts"] == 36
        )

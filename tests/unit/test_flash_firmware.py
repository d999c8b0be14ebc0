"""Which file goes on which board, avrdude's progress, and the live table's progress column."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from firmware_bridge.boards import KINDS, kind_for
from firmware_bridge.flash_cli import _firmware_files, _table, flash
from firmware_bridge.flashing.avr import (
    avrdude_command,
    avrdude_progress,
    classify_avrdude,
    went_quiet,
)
from firmware_bridge.flashing.base import Outcome, Problem, run_logged
from firmware_bridge.flashing.fake import intel_hex, uf2_image
from firmware_bridge.flashing.firmware import check_format, choose_firmware, sniff


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "hex": tmp_path / "uno.hex",
        "hex32u4": tmp_path / "leo.hex",
        "uf2": tmp_path / "pico.uf2",
        "esp": tmp_path / "esp.bin",
        "esp_classic": tmp_path / "merged.bin",
        "junk": tmp_path / "notes.txt",
    }
    out["hex"].write_text(intel_hex(bytes(64)))
    out["hex32u4"].write_text(intel_hex(bytes(32)))
    out["uf2"].write_bytes(uf2_image(bytes(512)))
    out["esp"].write_bytes(b"\xe9" + bytes(100))
    out["esp_classic"].write_bytes(b"\xff" * 0x1000 + b"\xe9" + bytes(10))  # bootloader at 0x1000
    out["junk"].write_text("hello")
    return out


def test_formats_are_told_apart_by_content(files: dict[str, Path]) -> None:
    assert [sniff(files[k]) for k in ("hex", "uf2", "esp", "esp_classic", "junk")] == [
        "hex", "uf2", "esp", "esp", "unknown",
    ]  # fmt: skip
    assert sniff(Path("/no/such/file")) == "unknown"


def test_each_board_gets_its_own_file(files: dict[str, Path]) -> None:
    given = [("", files["hex"]), ("", files["uf2"]), ("leonardo", files["hex32u4"])]
    assert choose_firmware(KINDS["uno"], given) == files["hex"]
    assert choose_firmware(KINDS["rp2040"], given) == files["uf2"]
    assert choose_firmware(KINDS["leonardo"], given) == files["hex32u4"]
    # a plain HEX is an ATmega328P's: not for a Leonardo unless --board says so
    with pytest.raises(Outcome) as caught:
        choose_firmware(KINDS["leonardo"], [("", files["hex"])], port="/dev/ttyACM0")
    assert caught.value.problem is Problem.NO_FIRMWARE
    assert choose_firmware(KINDS["leonardo"], [("", files["hex"])], forced=True) == files["hex"]
    with pytest.raises(Outcome) as esp:
        choose_firmware(KINDS["esp32"], given, port="/dev/ttyUSB0")
    assert esp.value.problem is Problem.NO_FIRMWARE
    with pytest.raises(Outcome) as every:
        choose_firmware(KINDS["nano-every"], given, port="/dev/ttyACM1")
    assert every.value.problem is Problem.UNSUPPORTED and "UPDI" in every.value.error


def test_a_file_of_the_wrong_format_is_refused(files: dict[str, Path]) -> None:
    check_format(files["uf2"], KINDS["rp2040"], "p")
    check_format(files["esp_classic"], KINDS["esp32"], "p")
    with pytest.raises(Outcome) as caught:
        check_format(files["uf2"], KINDS["uno"], "/dev/ttyUSB0")
    assert caught.value.problem is Problem.BAD_FIRMWARE
    assert "is a UF2 file, but a Arduino UNO" in caught.value.error
    assert "需要 Intel HEX 文件" in caught.value.text.zh


def test_firmware_option_values(files: dict[str, Path]) -> None:
    assert _firmware_files((str(files["hex"]), f"rp2040={files['uf2']}")) == [
        ("", files["hex"]), ("rp2040", files["uf2"]),
    ]  # fmt: skip
    result = CliRunner().invoke(flash, ["/dev/null", "--firmware", "rp2040=/no/such.uf2"])
    assert result.exit_code == 2 and "is not a file" in result.output
    jobs = CliRunner().invoke(flash, ["/dev/null", "--jobs", "0"])
    assert jobs.exit_code == 2 and "--jobs" in jobs.output


def test_avrdude_progress_counts_the_bars() -> None:
    out = "avrdude: AVR device initialized\nReading | ################################################## | 100% 0.00s\n"
    assert avrdude_progress(out) is None  # the signature read comes before any writing
    out += "Writing | " + "#" * 25
    assert avrdude_progress(out) == 0.25
    out += "#" * 25 + " | 100% 2.03s\n\nReading | " + "#" * 10
    assert avrdude_progress(out) == pytest.approx(0.6)


def test_the_32u4_command_line() -> None:
    cmd = avrdude_command("/dev/ttyACM1", Path("leo.hex"), baud=57600, kind=KINDS["leonardo"])
    assert cmd == [
        "avrdude", "-p", "m32u4", "-c", "avr109", "-P", "/dev/ttyACM1", "-b", "57600",
        "-D", "-U", "flash:w:leo.hex:i",
    ]  # fmt: skip


def test_board_kinds_know_their_bootloaders() -> None:
    assert kind_for(0x2341, 0x8036) is KINDS["leonardo"] is kind_for(0x1B4F, 0x9206)
    assert (0x2341, 0x0036) in KINDS["leonardo"].bootloader_ids
    assert [k for k in KINDS.values() if k.has_firmware] == [
        KINDS[n] for n in ("uno", "nano", "nano-old")
    ]
    assert {KINDS[n].backend for n in ("leonardo", "rp2040", "esp32")} == {
        "avr109",
        "uf2",
        "esptool",
    }


def test_the_live_table_has_a_progress_bar_per_board() -> None:
    rows: dict[str, dict[str, Any]] = {
        "/dev/ttyUSB0": {"status": "flashing at 115200", "progress": 0.42, "board": "uno"},
        "/dev/ttyACM0": {"status": "1200-baud touch", "board": "leonardo"},
    }
    console = Console(record=True, width=150)
    console.print(_table(rows, "flashing", progress=True))
    text = console.export_text()
    assert "progress" in text and " 42 %" in text and "1200-baud touch" in text
    assert "━" in text  # the bar itself


def test_avrdude_that_lost_the_board_is_stopped_not_waited_for(tmp_path: Path) -> None:
    script = tmp_path / "avrdude"
    script.write_text(
        "#!/bin/sh\necho 'avrdude: device signature = 0x1e950f'\n"
        "while true; do echo 'avrdude error: programmer is not responding'; sleep 0.01; done\n"
    )
    script.chmod(0o755)
    start = time.monotonic()
    code, output = run_logged([str(script)], tmp_path / "log", timeout=60, give_up=went_quiet)
    assert code != 0 and time.monotonic() - start < 30
    assert classify_avrdude(output) is Problem.LOST  # it answered, then went quiet: once more
    assert "# stopped: the board went quiet" in (tmp_path / "log").read_text()

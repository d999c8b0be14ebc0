"""The system parts later layers build on really work on this machine.

The AVR tool chain compiles a program against avr-libc, simavr runs it and we
read its UART; headless Chromium renders a page served on loopback.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.browser import launch_args
from tests.conftest import system_part

UART_HELLO = r"""
#include <avr/io.h>
#include <stdio.h>
static int put(char c, FILE *s) { loop_until_bit_is_set(UCSR0A, UDRE0); UDR0 = c; return 0; }
static FILE out = FDEV_SETUP_STREAM(put, NULL, _FDEV_SETUP_WRITE);
int main(void) {
    UCSR0B = _BV(TXEN0);
    stdout = &out;
    printf("roboclass %d\n", 6 * 7);
    for (;;) {}
}
"""


@pytest.mark.integration
def test_avr_program_runs_under_simavr(tmp_path: Path) -> None:
    gcc, simavr = system_part("avr-gcc"), system_part("simavr")
    (tmp_path / "hello.c").write_text(UART_HELLO)
    elf = tmp_path / "hello.elf"
    subprocess.run(
        [str(gcc), "-mmcu=atmega328p", "-Os", "-o", str(elf), str(tmp_path / "hello.c")],
        check=True,
    )
    assert elf.read_bytes()[:4] == b"\x7fELF"
    # The program loops for ever after printing: simavr runs until the timeout.
    proc = subprocess.Popen(
        [str(simavr), "-m", "atmega328p", "-f", "16000000", str(elf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        out, _ = proc.communicate(timeout=3)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert b"roboclass 42" in out


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "index.html").write_text(
        '<!doctype html><meta charset="utf-8"><title>RoboClass</title>'
        '<button id="stop" onclick="this.textContent=\'已停止 stopped\'">STOP</button>',
        encoding="utf-8",
    )

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@pytest.mark.integration
def test_chromium_clicks_a_page(page_server: str) -> None:
    chromium = system_part("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            page = browser.new_page()
            page.goto(page_server)
            page.click("#stop")
            assert page.text_content("#stop") == "已停止 stopped"
        finally:
            browser.close()

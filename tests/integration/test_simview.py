"""`roboclass sim run --view`: the live page, screenshotted in headless Chromium."""

from __future__ import annotations

import textwrap
import threading
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import sync_playwright

from hardware.simrun import RunSummary, run_script
from tests.browser import launch_args
from tests.conftest import free_port, system_part

STUDENT = """
import time
from hardware import Robot

with Robot() as robot:
    while True:
        robot.drive.arc(0.5, turn=0.3)
        time.sleep(0.05)
"""


def wait_for_page(url: str, tries: int = 100) -> None:
    stop = threading.Event()
    for _ in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            stop.wait(0.1)
    pytest.fail(f"the view never came up at {url}")


def robot_blue(image: np.ndarray) -> int:
    """Pixels of the simulated robot's colour (#2060d0) in a BGR image."""
    target = np.array([208, 96, 32])
    return int((np.abs(image.astype(int) - target).sum(axis=2) < 60).sum())


@pytest.mark.integration
def test_view_page_shows_the_track_and_the_robot(tmp_path: Path) -> None:
    chromium = system_part("chromium")
    script = tmp_path / "student.py"
    script.write_text(textwrap.dedent(STUDENT), encoding="utf-8")
    port = free_port()
    result: list[RunSummary] = []
    runner = threading.Thread(
        target=lambda: result.append(
            run_script(
                script, world="oval-track", fast=False, duration=10, timeout=60, view_port=port
            )
        )
    )
    runner.start()
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_page(url)
        shot = tmp_path / "view.png"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(url)
                page.wait_for_function(
                    "document.getElementById('topdown').naturalWidth > 0 && "
                    "document.getElementById('camera').naturalWidth > 0",
                    timeout=15000,
                )
                page.wait_for_function(
                    "document.getElementById('state').textContent.includes('t =')"
                )
                assert "oval-track" in page.text_content("h1")
                page.screenshot(path=str(shot))
            finally:
                browser.close()
        image = cv2.imread(str(shot))
        assert image is not None
        track = int((image.max(axis=2) < 50).sum())  # the black tape line
        assert track > 2000, track
        assert robot_blue(image) > 100
    finally:
        runner.join(timeout=60)
    assert result and result[0].status == "time-up", result

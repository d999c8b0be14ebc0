"""The district's pages in headless Chromium: two schools' results and a live district
leaderboard, in English and Chinese, against a real PostgreSQL.

The district's store is real (``tests/postgres.py``) and so is its app (uvicorn); the two
schools' results go into the store as the district's ingest stores them
(``store.results.add_many``: the bridge and the ingest have their own test,
test_district_bridge.py), and their challenge tries come over HTTP, signed by each
school's key, as a school's console sends them. Screenshots go to
``build/screenshots/district-*.png``.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from district.app import make_app
from district.records import LiveCount, ResultRow
from district.server import DistrictServer
from district.store import DistrictStore
from district.web import mount_web
from fleet.core.districtlib import ChallengeTries, Submission, sign
from fleet.core.signing import SigningKey, public_key_text
from lessons import pack_bundle
from lessons.library import LIBRARY
from tests.browser import launch_args
from tests.conftest import system_part
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
STAFF, PASSWORD = "ms-wang", "a district secret"
SCHOOLS = {"binhai-01": "Binhai No. 1 Primary", "futian-02": "Futian Experimental School"}

expect.set_options(timeout=30_000)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"district-{name}.png"), full_page=True)


def student(n: int) -> str:
    return f"p-{n:016x}"


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        found: dict[str, Any] = json.loads(answer.read())
        return found


class Running:
    def __init__(self, store: DistrictStore, url: str, keys: dict[str, SigningKey]) -> None:
        self.store, self.url, self.keys = store, url, keys

    def tries(self, school: str, challenge: str, rows: list[tuple[str, int, str, float]]) -> None:
        """A school's console sends handed-in values of the challenge (signed)."""
        now = time.time()
        tries = [
            {"result_id": rid, "room": "lab-1", "class": cls, "student": student(n),
             "value": value, "score": 90.0, "at": now}
            for rid, n, cls, value in rows
        ]  # fmt: skip
        body = ChallengeTries(school=school, challenge=challenge, tries=tries, issued=now)
        signed = sign(self.keys[school], body).model_dump(mode="json", by_alias=True)
        answer = post_json(f"{self.url}/api/v1/library/challenges/{challenge}/tries", signed)
        assert answer["stored"] == len(rows)


def results(school: str, first: int) -> list[ResultRow]:
    """Results of two lessons in two grade bands from two classes of one school."""
    rows = []
    for i in range(12):
        lesson, band = [("line-follower", "apply"), ("lights-and-sound", "perceive")][i % 2]
        rows.append(
            ResultRow(
                result_id=f"{school}-r{i}", school=school, room="lab-1",
                class_=["4a", "5b"][i % 2], student=student(first + i % 4), grade_band=band,
                lesson_id=lesson, score=float(40 + 5 * i + (10 if school == "futian-02" else 0)),
                status="SUCCEEDED", at=time.time() - 60 * i,
            )
        )  # fmt: skip
    return rows


@pytest.fixture
def district(postgres: TempPostgres, tmp_path: Path) -> Iterator[Running]:  # noqa: F811
    with DistrictStore(postgres.fresh_database()) as store:
        store.staff.add(STAFF, PASSWORD)
        keys = {}
        for number, (school, name) in enumerate(SCHOOLS.items()):
            keys[school] = SigningKey.load_or_create(tmp_path / f"{school}.pem")
            store.schools.add(school, name, public_key_text(keys[school].public_key))
            assert all(store.results.add_many(results(school, 100 * number)))
            store.live.update([LiveCount(school, "lab-1", 18 + number, 20, 1 - number,
                                         time.time(), time.time())])  # fmt: skip
        app = make_app(store)
        mount_web(app, SigningKey.load_or_create(tmp_path / "district-key.pem"))
        with DistrictServer(app) as server:
            yield Running(store, server.url, keys)


def share_up(run: Running) -> None:
    """Binhai shares a lesson of its own for review (as its console does)."""
    import base64  # noqa: PLC0415

    data = pack_bundle(LIBRARY / "draw-a-square")
    sub = sign(
        run.keys["binhai-01"],
        Submission(
            school="binhai-01",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            note="our robots draw squares well",
            issued=time.time(),
        ),
    )
    header = base64.b64encode(sub.model_dump_json().encode()).decode()
    request = urllib.request.Request(
        f"{run.url}/api/v1/library/submissions",
        data=data,
        headers={"X-RoboClass-Submission": header},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201


def page_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def console(msg: Any) -> None:
        if msg.type in ("error", "warning") and not msg.location["url"].endswith(
            ("/api/v1/me", "/api/v1/login")
        ):
            errors.append(f"{msg.type}: {msg.text} at {msg.location}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


def test_district_pages_two_schools_and_a_live_leaderboard(district: Running) -> None:
    chromium = system_part("chromium")
    share_up(district)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            errors = page_errors(page)
            page.goto(district.url + "/")
            expect(page.locator("#login-form")).to_be_visible()
            page.fill("#login-user", STAFF)
            page.fill("#login-pass", "not the password")
            page.click("#login-form button[type=submit]")
            expect(page.locator("#login-error")).to_contain_text("Wrong name or password")
            page.fill("#login-pass", PASSWORD)
            page.press("#login-pass", "Enter")

            # schools and their rooms, live
            cards = page.locator("#school-list article.card")
            expect(cards).to_have_count(2)
            binhai = page.locator("article[data-school=binhai-01]")
            expect(binhai).to_contain_text("Binhai No. 1 Primary")
            expect(binhai.locator("li[data-room=lab-1]")).to_contain_text("18/20 robots online")
            expect(page.locator("#conn")).to_have_text("Live")
            district.store.live.update([LiveCount("binhai-01", "lab-1", 20, 20, 3,
                                                  time.time() + 1, time.time())])  # fmt: skip
            expect(binhai.locator("li[data-room=lab-1]")).to_contain_text("3 lessons running")
            expect(page.locator("#schools-summary")).to_contain_text("24 results")
            shot(page, "schools-en")

            # results across schools: by lesson and grade band, per school, per class
            page.click("#nav a[data-page=results]")
            bars = page.locator("#band-chart rect.bar")
            expect(bars).to_have_count(2)
            expect(page.locator("#band-chart rect.bar-apply")).to_have_count(1)
            expect(page.locator("#band-chart")).to_contain_text("Follow the line")  # its title
            expect(page.locator("#by-school tbody tr")).to_have_count(2)
            expect(page.locator("#by-school tbody")).to_contain_text("Futian Experimental School")
            expect(page.locator("#by-class tbody tr")).to_have_count(4)
            page.select_option("#filter-school", "futian-02")
            expect(page.locator("#by-class tbody tr")).to_have_count(2)
            expect(page.locator("#by-class tbody")).not_to_contain_text("Binhai")
            page.select_option("#filter-school", "")
            expect(page.locator("#by-class tbody tr")).to_have_count(4)
            shot(page, "results-en")

            # the library: a school's lesson waits for review; publish it, and a lesson
            page.click("#nav a[data-page=library]")
            waiting = page.locator("#review-list article.card")
            expect(waiting).to_have_count(1)
            expect(waiting).to_contain_text("Binhai No. 1 Primary")
            page.set_input_files(
                "#publish-file",
                files=[{"name": "line-follower.tar.gz", "mimeType": "application/gzip",
                        "buffer": pack_bundle(LIBRARY / "line-follower")}],
            )  # fmt: skip
            page.click("#publish-form button[type=submit]")
            expect(
                page.locator("#published-list article[data-lesson=line-follower]")
            ).to_be_visible()
            waiting.locator("button.approve").click()
            expect(page.locator("#published-list article.card")).to_have_count(2)
            expect(page.locator("#review-list")).to_contain_text("Nothing is waiting")
            shot(page, "library-en")

            # a district challenge, its leaderboard live across the two schools
            page.click("#nav a[data-page=challenges]")
            page.select_option("#challenge-lesson", label="Follow the line · lap_time_s")
            page.click("#challenge-form button[type=submit]")
            expect(page.locator("#leaderboard")).to_be_visible()
            expect(page.locator("#leaderboard-table tbody")).to_contain_text("No hand-ins yet")
            challenge = district.store.db.rows("SELECT id FROM challenges")[0]["id"]
            district.tries("binhai-01", challenge, [("b1", 1, "4a", 14.5), ("b2", 1, "4a", 12.25),
                                                     ("b3", 2, "5b", 13.0)])  # fmt: skip
            district.tries("futian-02", challenge, [("f1", 101, "4a", 13.5)])
            rows = page.locator("#leaderboard-table tbody tr")
            expect(rows).to_have_count(3)  # her two tries count once, at her best
            expect(rows.nth(0)).to_contain_text(student(1))
            expect(rows.nth(0)).to_contain_text("12.25 s")
            expect(rows.nth(2)).to_contain_text("Futian Experimental School")
            district.tries("futian-02", challenge, [("f2", 101, "4a", 11.75)])  # live: overtakes
            expect(rows.nth(0)).to_contain_text(student(101))
            expect(rows.nth(0)).to_contain_text("11.75 s")
            expect(rows).to_have_count(3)
            shown = rows.locator("td:nth-child(2)").all_text_contents()
            assert all(re.fullmatch(r"p-[0-9a-f]{16}", who) for who in shown), shown  # no names
            shot(page, "leaderboard-en")

            # the same pages in Chinese
            page.select_option("#lang", "zh")
            expect(page.locator("#challenges-title")).to_have_text("区级挑战赛")
            expect(page.locator("#leaderboard-title")).to_contain_text("排行榜")
            expect(rows.nth(0).locator("td").nth(2)).to_have_text("Futian Experimental School")
            shot(page, "leaderboard-zh")
            page.click("#nav a[data-page=schools]")
            expect(page.locator("#schools-summary")).to_contain_text("所学校")
            expect(binhai.locator("li[data-room=lab-1]")).to_contain_text("20/20 台在线")
            shot(page, "schools-zh")
            page.click("#nav a[data-page=results]")
            expect(page.locator("#results-title")).to_have_text("各校成绩")
            expect(page.locator("#chart-legend")).to_contain_text("应用（4-9 年级）")
            expect(page.locator("#band-chart")).to_contain_text("沿着黑线走")
            expect(page.locator("#by-school tbody tr")).to_have_count(2)
            shot(page, "results-zh")
            page.click("#nav a[data-page=library]")
            expect(page.locator("#published-list article.card")).to_have_count(2)
            shot(page, "library-zh")
            assert errors == []
            context.close()
        finally:
            browser.close()

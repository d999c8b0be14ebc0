"""The teacher's class page in headless Chromium, in Chinese and in English.

A console (embedded broker, one robot bound to a student) and a class of three.
The teacher logs in, starts a period (the code large, the QR code loaded),
shows the code on the projector, sets PINs for the class (the sheet, printed
with the print style sheet; one of its PINs really joins) and a picture PIN
for one student; a student joins and saves code through the API, and it shows
up in the class view within a poll, without the other cards being rebuilt;
their last run's error, their hand-in (the exact code and its SHA-256) and the
projector view follow; the teacher changes the lesson and ends the period.
No request leaves the console's origin; the page's scripts log no error.
Screenshots go to ``build/screenshots/classview-<lang>-*.png``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect, sync_playwright

from fleet.console.api import ApiServer
from fleet.console.console import Console
from fleet.console.store import Period
from fleet.console.websecurity import STUDENT_COOKIE
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_console_web import PASSWORD, TEACHER, birth, console_on_broker
from tests.integration.test_fleet_support import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ROSTER = "7-2"
LESSON, OTHER = "robot-dance", "lights-and-sound"
WORDS = {
    "zh": {
        "nav": "课堂",
        "start": "开始上课",
        "ended": "已下课",
        "projector": "关闭（Esc）",
        "norun": "还没有运行",
        "changed": "学生现在打开的是",
    },
    "en": {
        "nav": "Class",
        "start": "Start the period",
        "ended": "has ended",
        "projector": "Close (Esc)",
        "norun": "not run yet",
        "changed": "Students now open",
    },
}

expect.set_options(timeout=30_000)


def shot(page: Page, lang: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky bar at the top of the picture
    page.screenshot(path=str(SHOTS / f"classview-{lang}-{name}.png"), full_page=True)


def call(
    url: str, method: str, path: str, body: Any = None, cookie: str = ""
) -> tuple[int, Any, http.client.HTTPResponse]:
    """One request to the console as a same-origin page would send it (a student's, say)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
    headers = {"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = f"{STUDENT_COOKIE}={cookie}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        text = response.read().decode()
        return response.status, json.loads(text) if text else None, response
    finally:
        conn.close()


def join(url: str, code: str, student_id: str, pin: str) -> tuple[int, str]:
    """POST /api/v1/join as a student's browser: the answer and the student's cookie."""
    status, answer, response = call(
        url, "POST", "/api/v1/join", {"code": code, "student_id": student_id, "pin": pin}
    )
    for header in response.headers.get_all("set-cookie") or []:
        if header.startswith(f"{STUDENT_COOKIE}="):
            return status, header.split(";")[0].split("=", 1)[1]
    return status, f"no cookie: {answer}"


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[tuple[Console, ApiServer, dict[str, str]]]:
    """A console, one robot bound to Wang Fang, and the class 7-2 of three students."""
    with console_on_broker(tmp_path, 0) as (console, server):
        console.db.accounts.add_teacher(TEACHER, PASSWORD)
        birth(console, "r1")
        wait_until(lambda: console.db.devices.ids(online_only=True) == ["r1"], 10, "birth")
        console.db.rosters.bind("r1", "Wang Fang", ROSTER)
        for name in ("Li Lei", "Han Meimei"):
            console.db.rosters.add_student(name, ROSTER)
        ids = {s.name: s.id for s in console.db.rosters.students(ROSTER)}
        yield console, server, ids


def only_this_origin(page: Page, origin: str) -> list[str]:
    """Every request the page makes to another origin, refused and listed."""
    elsewhere: list[str] = []

    def check(route: Route) -> None:
        url = route.request.url
        if url.startswith((origin + "/", "blob:", "data:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    page.route("**/*", check)
    return elsewhere


def login(page: Page, url: str) -> None:
    page.goto(url + "/")
    page.fill("#login-user", TEACHER)
    page.fill("#login-pass", PASSWORD)
    page.press("#login-pass", "Enter")
    expect(page.locator("#stop-all")).to_be_visible()


def stored(console: Console, period_id: str) -> Period:
    found = console.db.classes.period(period_id)
    assert found is not None
    return found


def card(page: Page, student_id: str) -> Any:
    return page.locator(f".work-card[data-student='{student_id}']")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_teacher_runs_a_class_period_and_watches_the_class(
    classroom: tuple[Console, ApiServer, dict[str, str]], lang: str
) -> None:
    console, server, ids = classroom
    words = WORDS[lang]
    chromium = system_part("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(
                locale="zh-CN" if lang == "zh" else "en-GB", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            elsewhere = only_this_origin(page, server.url)
            errors = script_errors(page)
            login(page, server.url)

            # the class page: the class, its three students, no period yet
            nav = page.locator("#nav a[data-page=class]")
            expect(nav).to_have_text(words["nav"])
            nav.click()
            expect(page.locator("#class-pick")).to_have_value(ROSTER)
            expect(page.locator(".work-card")).to_have_count(3)
            expect(card(page, ids["Wang Fang"]).locator(".pill.robot")).to_have_text("r1")
            expect(card(page, ids["Li Lei"]).locator(".pill.nopin")).to_be_visible()
            expect(page.locator("#period-start")).to_have_text(words["start"])
            shot(page, lang, "start")

            # start a period: the code large, the address, the QR code loaded
            page.select_option("#period-lesson", LESSON)
            page.fill("#period-minutes", "40")
            page.click("#period-start")
            expect(page.locator("#period-board")).to_be_visible()
            period = console.db.classes.periods()[0]
            assert period.roster == ROSTER and period.lesson_id == LESSON
            assert 39 * 60 < period.ends - period.started <= 40 * 60
            expect(page.locator("#period-code")).to_have_text(period.code)
            expect(page.locator("#period-address")).to_have_text(server.url + "/s/")
            page.wait_for_function("() => document.getElementById('period-qr').naturalWidth > 0")
            assert page.eval_on_selector("#period-qr", "img => img.src").startswith("blob:")
            size = page.eval_on_selector(
                "#period-code", "el => parseFloat(getComputedStyle(el).fontSize)"
            )
            assert size >= 48, size  # read from the back of the classroom
            shot(page, lang, "period")

            # the code on the projector: huge, the QR code too; Esc closes it
            page.click("#period-show")
            expect(page.locator("#projector")).to_be_visible()
            expect(page.locator("#projector-class-code")).to_have_text(period.code)
            page.wait_for_function(
                "() => document.querySelector('#projector img.qr').naturalWidth > 0"
            )
            expect(page.locator("#projector-close")).to_have_text(words["projector"])
            expect(page.locator("#projector-close")).to_be_focused()
            shot(page, lang, "projector-code")
            page.keyboard.press("Escape")
            expect(page.locator("#projector")).to_be_hidden()
            expect(page.locator("#period-show")).to_be_focused()

            # new PINs for the whole class (confirmed): the sheet, once
            page.click("#pins-all")
            expect(page.locator("#pins-all-go")).to_be_focused()
            page.click("#pins-all-go")
            sheet = page.locator("#pin-sheet")
            expect(sheet).to_be_visible()
            expect(sheet.locator(".pin-card")).to_have_count(3)
            li = sheet.locator(f".pin-card[data-student='{ids['Li Lei']}']")
            expect(li.locator(".pin-code")).to_have_text(period.code)
            pin = li.locator(".pin-digits").inner_text()
            assert len(pin) == 4 and pin.isdigit()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.pin-qr')].every(i => i.naturalWidth > 0)"
            )
            expect(card(page, ids["Li Lei"]).locator(".pill.nopin")).to_have_count(0)
            shot(page, lang, "sheet")
            # printed: only the cards
            page.emulate_media(media="print")
            assert not page.locator("#work").is_visible()
            assert not page.locator("#stop-all").is_visible()
            assert not page.locator("#sheet-print").is_visible()
            assert li.is_visible()
            shot(page, lang, "sheet-print")
            page.emulate_media(media="screen")
            # the PIN on the sheet really joins
            status, student = join(server.url, period.code, ids["Li Lei"], pin)
            assert status == 200, student

            # a picture PIN for one student: three pictures on their card
            page.check("input[name=pin-kind][value=pictures]")
            expect(page.locator("#pin-length")).to_be_disabled()
            expect(page.locator("#pin-legend li")).to_have_count(9)  # to choose one by hand
            page.select_option("#pin-student", "Han Meimei")
            page.fill("#pin-own", "12")
            page.click("#pins-one")
            expect(page.locator("#pins-error")).not_to_be_empty()
            page.fill("#pin-own", "")
            page.click("#pins-one")
            expect(sheet.locator(".pin-card")).to_have_count(1)
            han = sheet.locator(f".pin-card[data-student='{ids['Han Meimei']}']")
            expect(han.locator(".pin-picture svg")).to_have_count(3)
            drawn = han.locator(".pin-picture svg").evaluate_all(
                "svgs => svgs.map(s => s.dataset.picture)"
            )
            shot(page, lang, "pictures")
            # the 9 pictures (pictures.js, the student's page draws the same): 1-9, each its
            # own shape and colours, read out by name when labelled
            pictures = page.evaluate(
                """async () => {
                    const { PICTURES, pictureIcon } = await import('/static/pictures.js');
                    return PICTURES.map((p) => {
                        const svg = pictureIcon(p.id, 48, p.name.en);
                        const fills = [...svg.querySelectorAll('[fill]')].map((e) => e.getAttribute('fill'));
                        return [p.id, p.key, svg.getAttribute('aria-label'), p.name.zh, [...new Set(fills)].sort().join()];
                    });
                }"""
            )
            assert [p[0] for p in pictures] == list(range(1, 10))
            assert all(p[2] == p[1] and p[3] for p in pictures)
            assert len({p[4] for p in pictures}) == 9  # no two drawn in the same colours
            keys = [p[1] for p in pictures]
            picture_pin = "".join(str(keys.index(k) + 1) for k in drawn)
            status, han_cookie = join(server.url, period.code, ids["Han Meimei"], picture_pin)
            assert status == 200, han_cookie
            page.click("#sheet-close")
            expect(sheet).to_be_hidden()

            # a student saves code: it shows in the class view within a poll, and only
            # their card changes (the others are the same elements, not rebuilt)
            page.eval_on_selector_all(
                ".work-card", "cards => cards.forEach(c => { c.kept = true; })"
            )
            code = "from hardware import Robot\n\nwith Robot() as robot:\n    robot.drive.forward(0.5)\n"
            saved = call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": code},
                student,
            )
            assert saved[0] == 200, saved[1]
            li_card = card(page, ids["Li Lei"])
            expect(li_card.locator(".work-code")).to_have_text(code)
            assert page.eval_on_selector_all(".work-card", "cards => cards.every(c => c.kept)")
            # the teacher scrolls a long program and selects a line: another student's
            # save leaves both alone; the student's own next save keeps the scroll
            long = code + "".join(f"    robot.led.on()  # step {n}\n" for n in range(60))
            call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": long},
                student,
            )
            expect(li_card.locator(".work-code")).to_contain_text("# step 59")
            li_card.locator(".work-code").evaluate(
                """pre => {
                    pre.scrollTop = 200;
                    const range = document.createRange();
                    range.selectNodeContents(pre);
                    range.setStart(pre.firstChild, 0);
                    range.setEnd(pre.firstChild, 26);
                    getSelection().removeAllRanges();
                    getSelection().addRange(range);
                }"""
            )
            call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": "print('Han')\n"},
                han_cookie,
            )
            expect(card(page, ids["Han Meimei"]).locator(".work-code")).to_have_text(
                "print('Han')\n"
            )
            assert page.evaluate("() => getSelection().toString()") == "from hardware import Robot"
            assert li_card.locator(".work-code").evaluate("pre => pre.scrollTop") == 200
            call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": long + "    robot.drive.stop()\n"},
                student,
            )
            expect(li_card.locator(".work-code")).to_contain_text("robot.drive.stop()")
            assert li_card.locator(".work-code").evaluate("pre => pre.scrollTop") == 200
            call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": code},
                student,
            )
            expect(li_card.locator(".work-code")).to_have_text(code)
            # their last run, in the simulator with a typo: the class view shows its error
            typo = "from hardware import Robot\n\nwith Robot() as robot:\n    robot.drive.fowrard(0.5)\n"
            call(
                server.url,
                "POST",
                "/api/v1/student/runs",
                {"lesson_id": LESSON, "code": typo, "place": "sim"},
                student,
            )
            expect(li_card.locator(".run-error")).to_contain_text("fowrard")
            expect(li_card.locator(".place")).to_have_text(
                "模拟器" if lang == "zh" else "simulator"
            )

            # a hand-in, graded in the simulator: its detail has the exact code and SHA-256
            status, handin, _ = call(
                server.url,
                "POST",
                "/api/v1/student/handins",
                {"lesson_id": LESSON, "code": code},
                student,
            )
            assert status == 200, handin
            button = li_card.locator(f"button.handin-open[data-handin='{handin['id']}']")
            expect(button).to_be_visible()
            shot(page, lang, "work")
            page.set_viewport_size({"width": 768, "height": 1024})
            shot(page, lang, "work-tablet")
            page.set_viewport_size({"width": 1280, "height": 900})
            # a big class on one screen: the code boxes can be hidden (and shown again)
            toggle = page.locator("#work-code-toggle")
            toggle.click()
            expect(toggle).to_have_attribute("aria-pressed", "false")
            expect(li_card.locator(".work-code")).to_be_hidden()
            shot(page, lang, "work-compact")
            toggle.click()
            expect(li_card.locator(".work-code")).to_be_visible()
            button.click()
            dialog = page.locator("#handin-dialog")
            expect(dialog).to_be_visible()
            expect(dialog.locator("#handin-sha")).to_have_text(
                hashlib.sha256(code.encode()).hexdigest()
            )
            expect(dialog.locator(".handin-code")).to_have_text(code)
            expect(dialog.locator(".handin-sha .good")).to_be_visible()  # checked on the page
            shot(page, lang, "handin")
            page.keyboard.press("Escape")
            expect(dialog).to_be_hidden()
            expect(button).to_be_focused()

            # one student's code on the projector, following their edits live
            li_card.locator("button.project").click()
            projector = page.locator("#projector")
            expect(projector).to_be_visible()
            expect(page.locator("#projector-code")).to_have_text(code)
            expect(page.locator("#projector-run .run-error")).to_contain_text("fowrard")
            more = code + "    robot.drive.stop()\n"
            call(
                server.url,
                "PUT",
                "/api/v1/student/code",
                {"lesson_id": LESSON, "code": more},
                student,
            )
            expect(page.locator("#projector-code")).to_have_text(more)
            size = page.eval_on_selector(
                "#projector-code", "el => parseFloat(getComputedStyle(el).fontSize)"
            )
            assert size >= 19, size
            assert page.locator("#stop-all").is_visible()  # STOP ALL stays in reach
            below = page.evaluate(
                "() => document.getElementById('projector').getBoundingClientRect().top"
                " - document.querySelector('.sticky').getBoundingClientRect().bottom"
            )
            assert below >= -1, below
            shot(page, lang, "projector")
            page.keyboard.press("Escape")
            expect(projector).to_be_hidden()

            # change the period's lesson, then end it
            page.select_option("#period-change", OTHER)
            expect(page.locator("#period-change")).to_have_value(OTHER)
            page.click("#period-change-go")
            # the page says so (on a failure this shows what it said instead), then the store
            expect(page.locator("#toast")).to_contain_text(words["changed"])
            wait_until(lambda: stored(console, period.id).lesson_id == OTHER, 60, "lesson")
            page.click("#period-end")
            expect(page.locator("#period-end-go")).to_be_focused()
            page.click("#period-end-go")
            expect(page.locator("#toast")).to_contain_text(words["ended"])
            expect(page.locator("#period-form")).to_be_visible()
            assert stored(console, period.id).ended is not None
            assert call(server.url, "GET", "/api/v1/student/me", cookie=student)[0] == 401
            shot(page, lang, "ended")

            # the other language, live: the page's words and the cards' words change
            other = "en" if lang == "zh" else "zh"
            page.select_option("#lang", other)
            expect(page.locator("#period-start")).to_have_text(WORDS[other]["start"])
            expect(card(page, ids["Wang Fang"]).locator(".work-run")).to_have_text(
                WORDS[other]["norun"]
            )

            assert elsewhere == []
            assert errors == []
            context.close()
        finally:
            browser.close()

"""Finding a student in the class view, in headless Chromium, in Chinese and in English.

The class 7-2 of test_console_classview.py and two students with Chinese names,
each in another state: Wang Fang has not started; Zhang Wei (张伟) saved code
and handed in only for another lesson; Han Meimei and Li Na (李娜) handed in
(60 and 90 points); Li Lei's last run, in the simulator, ended in an error.
The teacher filters (everyone, needs help, not started, handed in, not handed
in), sorts (name in the page's language, needs help first, best score, latest
activity) and finds by name; the count line and the empty state with its clear
button follow; the choices survive a reload; a student's new code moves their
card in the chosen order without rebuilding any card or losing the filter.
Screenshots go to ``build/screenshots/classview-sort-<lang>-*.png``.
"""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from fleet.console.api import ApiServer
from fleet.console.console import Console
from fleet.console.store.classrecords import PinKind
from tests.browser import launch_args, script_errors
from tests.conftest import system_part
from tests.integration.test_console_classview import (
    LESSON,
    OTHER,
    ROSTER,
    SHOTS,
    call,
    card,
    classroom,
    join,
    login,
)
from tests.integration.test_console_web import TEACHER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]
__all__ = ["classroom"]  # the fixture, used by name

ZHANG, LI_NA = "张伟", "李娜"
CODE = "from hardware import Robot\n\nwith Robot() as robot:\n    robot.drive.forward(0.5)\n"
TYPO = CODE.replace("forward", "fowrard")
# By name: in English Latin letters before Han characters, and those by code point
# (张 U+5F20 before 李 U+674E); in Chinese Han characters first, by pinyin (li, zhang).
BY_NAME = {
    "en": ["Han Meimei", "Li Lei", "Wang Fang", ZHANG, LI_NA],
    "zh": [LI_NA, ZHANG, "Han Meimei", "Li Lei", "Wang Fang"],
}
WORDS = {
    "zh": {"count": "显示 5 人中的 {n} 人", "none": "没有符合条件的学生。", "nav": "课堂"},
    "en": {"count": "{n} of 5 shown", "none": "No student matches.", "nav": "Class"},
}

expect.set_options(timeout=30_000)


def shot(page: Page, lang: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate(
        """() => {
            const bar = document.querySelector('.sticky').offsetHeight;
            const top = document.getElementById('work').getBoundingClientRect().top;
            window.scrollTo(0, window.scrollY + top - bar - 8);
        }"""
    )  # the class at work just below the STOP bar
    page.screenshot(path=str(SHOTS / f"classview-sort-{lang}-{name}.png"))


SHOWN = """names => [...document.querySelectorAll('#work-grid .work-card')]
    .filter(c => !c.hidden).map(c => names[c.dataset.student])"""


def shown(page: Page, names: dict[str, str]) -> list[str]:
    """The names on the cards the page shows, in their order."""
    found: list[str] = page.evaluate(f"({SHOWN})", names)
    return found


def expect_shown(page: Page, names: dict[str, str], wanted: list[str]) -> None:
    """Within a moment the page shows exactly these students, in this order."""
    with contextlib.suppress(PlaywrightTimeout):  # the assertion says what it showed instead
        page.wait_for_function(
            f"([names, wanted]) => JSON.stringify(({SHOWN})(names)) === JSON.stringify(wanted)",
            arg=[names, wanted],
            timeout=10_000,
        )
    assert shown(page, names) == wanted


def make_states(console: Console, server: ApiServer, ids: dict[str, str]) -> None:
    """Each student in another state (through the store, and Li Lei's run through the API)."""
    work = console.db.work
    work.add_graded(ids[ZHANG], OTHER, CODE, "SUCCEEDED", {"status": "passed", "score": 100})
    work.save_code(ids[ZHANG], LESSON, CODE)
    work.save_code(ids["Han Meimei"], LESSON, CODE)
    work.add_graded(ids["Han Meimei"], LESSON, CODE, "SUCCEEDED", {"status": "failed", "score": 60})
    work.save_code(ids[LI_NA], LESSON, CODE)
    work.add_graded(ids[LI_NA], LESSON, CODE, "SUCCEEDED", {"status": "passed", "score": 90})
    period = console.db.classes.start_period(ROSTER, TEACHER, lesson_id=LESSON, minutes=40)
    console.db.classes.set_pin(ids["Li Lei"], "4821", PinKind.DIGITS)
    status, cookie = join(server.url, period.code, ids["Li Lei"], "4821")
    assert status == 200, cookie
    status, answer, _ = call(
        server.url,
        "POST",
        "/api/v1/student/runs",
        {"lesson_id": LESSON, "code": TYPO, "place": "sim"},
        cookie,
    )
    assert status == 200, answer


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_teacher_filters_sorts_and_finds_students(
    classroom: tuple[Console, ApiServer, dict[str, str]], lang: str
) -> None:
    console, server, _ = classroom
    for name in (ZHANG, LI_NA):
        console.db.rosters.add_student(name, ROSTER)
    ids = {s.name: s.id for s in console.db.rosters.students(ROSTER)}
    names = {i: n for n, i in ids.items()}
    make_states(console, server, ids)
    words = WORDS[lang]
    chromium = system_part("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=launch_args())
        try:
            context = browser.new_context(
                locale="zh-CN" if lang == "zh" else "en-GB", viewport={"width": 1280, "height": 900}
            )
            page = context.new_page()
            errors = script_errors(page)
            login(page, server.url)
            page.locator("#nav a[data-page=class]").click()
            expect(page.locator("#nav a[data-page=class]")).to_have_text(words["nav"])
            expect(page.locator(".work-card")).to_have_count(5)
            expect(card(page, ids["Li Lei"]).locator(".run-error")).to_contain_text("fowrard")

            # everyone, by name in the page's language; no count line while nobody is hidden
            expect(page.locator("#work-show")).to_have_value("all")
            expect(page.locator("#work-sort")).to_have_value("name")
            expect_shown(page, names, BY_NAME[lang])
            expect(page.locator("#work-count")).to_be_hidden()
            expect(page.locator("#work-none")).to_be_hidden()
            shot(page, lang, "all")

            # each filter shows exactly its students (in name order), and says how many
            filters = {
                "help": ["Li Lei"],
                "idle": ["Wang Fang"],
                "handed": [n for n in BY_NAME[lang] if n in ("Han Meimei", LI_NA)],
                "unhanded": [n for n in BY_NAME[lang] if n in ("Li Lei", "Wang Fang", ZHANG)],
            }
            for value, wanted in filters.items():
                page.select_option("#work-show", value)
                expect_shown(page, names, wanted)
                expect(page.locator("#work-count")).to_have_text(
                    words["count"].format(n=len(wanted))
                )
            page.select_option("#work-show", "help")
            shot(page, lang, "help")
            page.select_option("#work-show", "all")
            expect(page.locator("#work-count")).to_be_hidden()

            # each order (ties by name)
            others = [n for n in BY_NAME[lang] if n != "Li Lei"]
            sorts = {
                "help": ["Li Lei", *others],
                "score": [
                    LI_NA,
                    "Han Meimei",
                    *[n for n in BY_NAME[lang] if n in ("Li Lei", "Wang Fang", ZHANG)],
                ],
                "recent": ["Li Lei", LI_NA, "Han Meimei", ZHANG, "Wang Fang"],
                "name": BY_NAME[lang],
            }
            for value, wanted in sorts.items():
                page.select_option("#work-sort", value)
                expect_shown(page, names, wanted)
            # with the keyboard: the order's list, one down from "by name"
            page.focus("#work-sort")
            page.keyboard.press("ArrowDown")
            expect(page.locator("#work-sort")).to_have_value("help")
            expect_shown(page, names, sorts["help"])
            page.select_option("#work-sort", "score")

            # find by name as the teacher types, in any case
            page.fill("#work-find", "LI")
            expect_shown(page, names, ["Li Lei"])
            expect(page.locator("#work-count")).to_have_text(words["count"].format(n=1))
            page.fill("#work-find", "李")
            expect_shown(page, names, [LI_NA])
            page.fill("#work-find", "mei")
            expect_shown(page, names, ["Han Meimei"])
            shot(page, lang, "find")

            # nobody matches: the empty state; its button clears the filter and the name
            page.select_option("#work-show", "idle")
            expect_shown(page, names, [])
            none = page.locator("#work-none")
            expect(none).to_be_visible()
            expect(none).to_contain_text(words["none"])
            expect(page.locator("#work-count")).to_be_hidden()  # the empty state says it
            shot(page, lang, "none")
            page.set_viewport_size({"width": 820, "height": 1180})
            shot(page, lang, "none-tablet")
            page.set_viewport_size({"width": 1280, "height": 900})
            page.locator("#work-clear").click()
            expect(none).to_be_hidden()
            expect(page.locator("#work-show")).to_have_value("all")
            expect(page.locator("#work-show")).to_be_focused()
            expect(page.locator("#work-find")).to_have_value("")
            expect(page.locator("#work-count")).to_be_hidden()
            expect(page.locator("#work-sort")).to_have_value("score")  # the order stays
            expect_shown(page, names, sorts["score"])

            # the choices survive a reload
            page.select_option("#work-show", "handed")
            page.fill("#work-find", "han")
            page.reload()
            page.locator("#nav a[data-page=class]").click()
            expect(page.locator(".work-card")).to_have_count(5)
            expect(page.locator("#work-show")).to_have_value("handed")
            expect(page.locator("#work-sort")).to_have_value("score")
            expect(page.locator("#work-find")).to_have_value("han")
            expect_shown(page, names, ["Han Meimei"])
            page.fill("#work-find", "")
            expect_shown(page, names, [LI_NA, "Han Meimei"])

            # a student saves code: within a poll their card moves to its place in the
            # order; no card is rebuilt, the filter stays, the focus stays where it was
            page.select_option("#work-show", "unhanded")
            page.select_option("#work-sort", "recent")
            expect_shown(page, names, ["Li Lei", ZHANG, "Wang Fang"])
            page.eval_on_selector_all(
                ".work-card", "cards => cards.forEach(c => { c.kept = true; })"
            )
            project = card(page, ids["Li Lei"]).locator("button.project")
            project.focus()
            console.db.work.save_code(ids[ZHANG], LESSON, "print('again')\n")
            expect(card(page, ids[ZHANG]).locator(".work-code")).to_have_text("print('again')\n")
            expect_shown(page, names, [ZHANG, "Li Lei", "Wang Fang"])
            assert page.eval_on_selector_all(".work-card", "cards => cards.every(c => c.kept)")
            expect(page.locator("#work-show")).to_have_value("unhanded")
            expect(page.locator("#work-count")).to_have_text(words["count"].format(n=3))
            expect(project).to_be_focused()
            shot(page, lang, "recent")
            page.set_viewport_size({"width": 820, "height": 1180})
            shot(page, lang, "recent-tablet")
            # the whole bar fits the tablet: nothing wider than the page
            wide = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert wide <= 0, wide

            # the other language, live: the names sort as that language does
            page.set_viewport_size({"width": 1280, "height": 900})
            page.select_option("#work-show", "all")
            page.select_option("#work-sort", "name")
            other = "en" if lang == "zh" else "zh"
            page.select_option("#lang", other)
            expect_shown(page, names, BY_NAME[other])
            page.select_option("#work-show", "help")
            expect(page.locator("#work-count")).to_have_text(WORDS[other]["count"].format(n=1))

            assert errors == []
            context.close()
        finally:
            browser.close()

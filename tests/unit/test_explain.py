"""Errors a child understands: every kind of trouble, explained from what real runs left.

The outputs, statuses and error lines are those of real runs through the
sandboxed runner (``explain_runs.json``, captured by ``explain_programs.py``),
so the traceback format, the path inside the sandbox and the line numbers
are the real ones.
"""

from __future__ import annotations

import collections
import json
import re
import signal
from typing import Any

import pytest

from lessons.explain import Explanation, Kind, explain
from lessons.grading import RunStatus
from lessons.runner import _classify
from lessons.tracebacks import last_traceback
from tests.unit.explain_programs import PROGRAMS, RUNS

RECORDED: dict[str, dict[str, Any]] = json.loads(RUNS.read_text(encoding="utf-8"))
CJK = re.compile(r"[\u4e00-\u9fff]")

# name: kind, exception, line, column, did-you-mean, a piece of the English text, of the Chinese
CASES: dict[str, tuple[Kind, str | None, int | None, int | None, str | None, str, str]] = {
    "syntax_colon": (Kind.SYNTAX, "SyntaxError", 3, 22, ":", "colon `:`", "冒号 `:`"),
    "syntax_bracket": (Kind.SYNTAX, "SyntaxError", 4, 24, None, "never closed", "没有关上"),
    "syntax_eq": (Kind.SYNTAX, "SyntaxError", 4, 8, "==", "use `==`", "要用 `==`"),
    "syntax_eq_name": (Kind.SYNTAX, "SyntaxError", 2, 4, "==", "use `==`", "要用 `==`"),
    "syntax_string": (Kind.SYNTAX, "SyntaxError", 1, 7, None, "no quote", "少了引号"),
    "syntax_print": (Kind.SYNTAX, "SyntaxError", 1, 1, "print(...)", "needs brackets", "加括号"),
    "syntax_else_if": (Kind.SYNTAX, "SyntaxError", 4, 6, "elif", "`elif`", "`elif`"),
    "syntax_chinese_bracket": (Kind.SYNTAX, "SyntaxError", 4, 24, "(", "Chinese", "中文标点"),
    "syntax_chinese_comma": (Kind.SYNTAX, "SyntaxError", 1, 7, ",", "type `,`", "改成 `,`"),
    "syntax_chinese_list_comma": (Kind.SYNTAX, "SyntaxError", 1, 7, ",", "`、`", "`、` 是中文标点"),
    "syntax_hidden_space": (Kind.SYNTAX, "SyntaxError", 4, 29, None, "hidden", "特殊的空格"),
    "syntax_unmatched": (Kind.SYNTAX, "SyntaxError", 1, 9, None, "no opening", "配对"),
    "syntax_mismatch": (Kind.SYNTAX, "SyntaxError", 1, 10, "]", "close with `]`", "用 `]` 来关"),
    "syntax_capital": (Kind.SYNTAX, "SyntaxError", 2, 7, "while", "small letters", "小写"),
    "syntax_comma": (Kind.SYNTAX, "SyntaxError", 1, 7, ",", "a comma `,`", "逗号"),
    "syntax_other": (Kind.SYNTAX, "SyntaxError", 1, 1, None, "can't read", "看不懂"),
    "indent_unexpected": (
        Kind.INDENTATION,
        "IndentationError",
        5,
        1,
        None,
        "further right",
        "靠右",
    ),
    "indent_expected": (Kind.INDENTATION, "IndentationError", 4, 1, None, "4 spaces", "4 个空格"),
    "indent_unindent": (Kind.INDENTATION, "IndentationError", 5, 1, None, "line up", "对不齐"),
    "indent_tab": (Kind.INDENTATION, "TabError", 5, 1, None, "tabs and spaces", "Tab"),
    "name_robt": (Kind.NAME, "NameError", 3, 6, "Robot", "Did you mean `Robot`", "`Robot`"),
    "name_pirnt": (Kind.NAME, "NameError", 4, 5, "print", "`pirnt`", "你是不是想写 `print`"),
    "name_variable": (Kind.NAME, "NameError", 5, 25, "speed", "`speed`?", "`speed`"),
    "name_not_imported": (
        Kind.NAME,
        "NameError",
        1,
        6,
        "from hardware import Robot",
        "add `from hardware import Robot`",
        "加上 `from hardware import Robot`",
    ),
    "name_time": (Kind.NAME, "NameError", 1, 1, "import time", "`import time`", "`import time`"),
    "name_true": (Kind.NAME, "NameError", 1, 5, "True", "`True`", "`True`"),
    "name_unbound": (Kind.NAME, "UnboundLocalError", 3, 13, None, "`count`", "`count`"),
    "attr_fowrard": (
        Kind.ATTRIBUTE,
        "AttributeError",
        5,
        5,
        "forward",
        "`robot.drive` has no `fowrard`. Did you mean `forward`?",
        "`robot.drive` 没有 `fowrard`。你是不是想写 `forward`？",
    ),
    "attr_distanse": (
        Kind.ATTRIBUTE,
        "MissingPartError",
        4,
        11,
        "distance",
        "`robot` has no `distanse`",
        "`distance`",
    ),
    "attr_meters": (Kind.ATTRIBUTE, "AttributeError", 4, 11, "metres", "`metres`", "`metres`"),
    "attr_robot_forward": (
        Kind.ATTRIBUTE,
        "MissingPartError",
        4,
        5,
        "drive.forward",
        "`robot.drive.forward(...)`",
        "`robot.drive.forward(...)`",
    ),
    "attr_valus": (Kind.ATTRIBUTE, "AttributeError", 4, 35, "values", "`robot.line`", "`values`"),
    "attr_module": (Kind.ATTRIBUTE, "AttributeError", 2, 1, "sleep", "`time` has no", "`sleep`"),
    "attr_vision": (Kind.ATTRIBUTE, "AttributeError", 3, 7, "find_line", "`vision`", "`find_line`"),
    "attr_str": (Kind.ATTRIBUTE, "AttributeError", 2, 7, "upper", "`name` has no", "`upper`"),
    "attr_none": (Kind.ATTRIBUTE, "AttributeError", 2, 1, None, "`None`", "`None`"),
    "type_fast": (Kind.TYPE, "BadValueError", 4, None, None, "without quotes", "不用加引号"),
    "type_missing": (
        Kind.ARGUMENTS,
        "TypeError",
        4,
        None,
        None,
        "`power` and `turn`. Write it like this: `arc(power, turn)`",
        "`power` 和 `turn`",
    ),
    "type_too_many": (
        Kind.ARGUMENTS,
        "TypeError",
        4,
        None,
        None,
        "at most 1 value between its brackets, but got 2",
        "`forward(power=0.5)`",
    ),
    "type_keyword": (Kind.ARGUMENTS, "TypeError", 4, None, "power", "`powr`", "`power`"),
    "type_text_number": (Kind.TYPE, "TypeError", 4, 11, None, '`f"distance: {x}"`', "str(x)"),
    "type_not_callable": (Kind.TYPE, "TypeError", 2, None, None, "`int`", "`int`"),
    "range_forward": (
        Kind.OUT_OF_RANGE,
        "BadValueError",
        4,
        None,
        None,
        "`power` must be between 0 and 1, but it got 2",
        "`power` 必须在 0 到 1 之间，可是这里给了 2",
    ),
    "range_negative": (
        Kind.OUT_OF_RANGE,
        "BadValueError",
        4,
        None,
        None,
        "`backward()`",
        "`backward()`",
    ),
    "range_led": (Kind.OUT_OF_RANGE, "BadValueError", 4, 5, None, "`led value`", "0 到 1"),
    "range_set_speed": (Kind.OUT_OF_RANGE, "BadValueError", 4, None, None, "0.5 m/s", "0.5 米/秒"),
    "zero": (Kind.ZERO_DIVISION, "ZeroDivisionError", 4, 12, None, "divided by 0", "除以 0"),
    "import_turtle": (Kind.NO_SCREEN, "TclError", 2, None, None, "no screen", "没有屏幕"),
    "import_hardwar": (
        Kind.IMPORT,
        "ModuleNotFoundError",
        1,
        None,
        "hardware",
        "`hardwar`",
        "`hardware`",
    ),
    "import_name": (Kind.IMPORT, "ImportError", 1, None, "Robot", "`Robbot`", "`Robot`"),
    "import_missing": (Kind.IMPORT, "ModuleNotFoundError", 1, None, None, "`requests`", "`time`"),
    "import_case": (Kind.IMPORT, "ModuleNotFoundError", 1, None, "time", "`Time`", "`time`"),
    "memory": (Kind.MEMORY, "MemoryError", 1, 5, None, "too much memory", "内存"),
    "memory_together": (Kind.MEMORY, "MemoryError", None, None, None, "memory", "内存"),
    "processes": (Kind.PROCESSES, "BlockingIOError", 3, None, None, "processes", "进程"),
    "loop": (Kind.ENDLESS_LOOP, None, 5, None, None, "`time.sleep(0.05)`", "循环"),
    "loop_robot": (Kind.ENDLESS_LOOP, None, 4, None, None, "never ends", "永远不会结束"),
    "loop_condition": (Kind.ENDLESS_LOOP, None, 5, None, None, "without waiting", "从不等待"),
    "time_up": (Kind.TIME_UP, None, None, None, None, "time is over", "时间到了"),
    "estop": (Kind.ESTOP, None, None, None, None, "not a mistake", "不是你程序的错"),
    "interrupt": (Kind.STOPPED, "KeyboardInterrupt", 1, None, None, "Stop", "停止"),
    "closed": (Kind.ROBOT_CLOSED, "DeviceClosedError", 5, None, None, "inside the block", "缩进"),
    "exit": (Kind.EXIT, None, None, None, None, "`sys.exit`", "`sys.exit`"),
    "index": (Kind.OTHER, "IndexError", 2, 7, None, "count from 0", "从 0 开始数"),
    "key": (Kind.OTHER, "KeyError", 2, 7, None, "no key 'x'", "'x'"),
    "recursion": (Kind.OTHER, "RecursionError", 2, 12, None, "calls itself", "调用自己"),
    "other": (Kind.OTHER, "ValueError", 1, None, None, "invalid literal", "ValueError"),
}


def explained(name: str, **options: Any) -> Explanation:
    run = RECORDED[name]
    found = explain(
        run["output"], run["code"], status=run["run_status"], error=run["error"], **options
    )
    assert found is not None, name
    return found


def test_every_program_was_run_and_has_its_case() -> None:
    assert set(RECORDED) == set(PROGRAMS) == set(CASES)
    for name, run in RECORDED.items():
        assert run["code"] == PROGRAMS[name], f"{name}: capture it again (explain_programs.py)"


@pytest.mark.parametrize("name", list(CASES))
def test_each_error_is_explained_at_the_students_line(name: str) -> None:
    kind, exception, line, column, suggestion, en, zh = CASES[name]
    found = explained(name)
    assert (found.kind, found.exception, found.line, found.column, found.did_you_mean) == (
        kind,
        exception,
        line,
        column,
        suggestion,
    )
    assert en in found.text.en and zh in found.text.zh, found.text
    assert found("en") == found.text.en and found("zh") == found.text.zh
    code = RECORDED[name]["code"].splitlines()
    assert found.code == (code[line - 1].strip() if line is not None else None)


@pytest.mark.parametrize("name", list(CASES))
def test_the_texts_are_short_filled_in_and_in_both_languages(name: str) -> None:
    text = explained(name).text
    for words in (text.en, text.zh):
        assert not re.search(r"\{(?!x\})\w*\}", words), words  # every field filled in
        assert words.strip() == words and words
    sentences = re.sub(r"`[^`]*`", "`code`", text.en)  # a message quoted may have its own
    assert len(text.en) <= 240 and len(re.findall(r"[.!?](?:\s|$)", sentences)) <= 2, text.en
    assert (
        CJK.search(text.zh) and len(text.zh) <= 130 and len(re.findall("[。！？]", text.zh)) <= 2
    ), text.zh
    assert not CJK.search(re.sub(r"`[^`]*`", "", text.en)), text.en  # code may quote a 「（」


def test_the_line_is_never_the_runners_or_the_librarys() -> None:
    run = RECORDED["range_forward"]
    tb = last_traceback(run["output"])
    assert tb is not None and tb.frames[-1].file.endswith("hardware/motors.py")
    assert tb.frames[0].file.endswith("lessons/child.py")
    assert explained("range_forward").line == 4  # the student's forward(2), not motors.py
    zero = explained("zero")  # in the student's own function, called from line 7
    assert (zero.line, zero.code) == (4, "return x / 0")


def test_the_json_shape() -> None:
    assert explained("attr_fowrard").to_json() == {
        "kind": "attribute",
        "exception": "AttributeError",
        "message": "'DifferentialDrive' object has no attribute 'fowrard'",
        "line": 5,
        "column": 5,
        "end_column": 24,
        "code": "robot.drive.fowrard(0.5)",
        "did_you_mean": "forward",
        "text": {
            "en": "`robot.drive` has no `fowrard`. Did you mean `forward`?",
            "zh": "`robot.drive` 没有 `fowrard`。你是不是想写 `forward`？",
        },
        "yours": True,
    }
    assert json.loads(json.dumps(explained("estop").to_json()))["yours"] is False


@pytest.mark.parametrize(
    ("name", "marked"),
    [
        ("name_robt", "Robt"),
        ("attr_fowrard", "robot.drive.fowrard"),
        ("zero", "x / 0"),
        ("syntax_chinese_comma", "，"),
        ("syntax_bracket", "("),
        ("indent_unexpected", " " * 8),
        ("indent_expected", "r"),
    ],
)
def test_the_columns_mark_what_python_marks(name: str, marked: str) -> None:
    found = explained(name)
    assert found.line is not None and found.column is not None and found.end_column is not None
    line = RECORDED[name]["code"].splitlines()[found.line - 1]
    assert line[found.column - 1 : found.end_column - 1] == marked


def test_stops_are_not_the_students_fault() -> None:
    teacher = explained("estop")
    assert teacher.kind is Kind.ESTOP and not teacher.yours
    assert teacher.message == "stopped by the teacher (e-stop) / 老师按了紧急停止"
    own = explained("estop", stopped_by="student")
    assert own.kind is Kind.STOPPED and not own.yours and "You pressed Stop" in own.text.en
    assert not explained("time_up").yours and explained("zero").yours


def test_a_run_that_went_well_has_nothing_to_explain() -> None:
    assert explain("hello\n", "print('hello')\n", status="finished") is None
    assert explain("", "", status=RunStatus.FINISHED, error=None) is None


def tail(*lines: str) -> collections.deque[str]:
    return collections.deque(lines, maxlen=400)


@pytest.mark.parametrize(
    ("exit_code", "kind", "piece"),
    [(-signal.SIGKILL, Kind.CRASH, "SIGKILL"), (-signal.SIGXCPU, Kind.ENDLESS_LOOP, "too long")],
)
def test_a_crash_is_explained_from_the_runners_own_line(
    exit_code: int, kind: Kind, piece: str
) -> None:
    status, error = _classify(RunStatus.FINISHED, exit_code, False, tail(), 30.0)
    assert status is RunStatus.CRASHED and error is not None
    found = explain("", "while True:\n    pass\n", status=status, error=error)
    assert found is not None and found.kind is kind and piece in found.text.en
    assert found.message == error


def test_the_runners_own_lines_are_in_both_languages_english_first() -> None:
    for args in [
        (RunStatus.TIMEOUT, None, False, tail(), 8.0),
        (RunStatus.STOPPED, None, False, tail(), 8.0),
        (RunStatus.FINISHED, -signal.SIGKILL, False, tail(), 8.0),
        (RunStatus.FINISHED, -signal.SIGXCPU, False, tail(), 8.0),
    ]:
        _, error = _classify(*args)
        assert error is not None
        english, _, chinese = error.partition(" / ")
        assert not CJK.search(english) and CJK.search(chinese), error
    assert _classify(RunStatus.TIMEOUT, None, False, tail(), 8.0)[1] == (
        "the program ran longer than 8 s (an endless loop?) and was stopped / "
        "程序运行超过了 8 秒（是不是有死循环？），已被停止"
    )


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ("while True:\n    pass\n", 1),
        ("import time\nwhile True:\n    time.sleep(0.1)\n", None),
        (
            "from hardware import Robot\nwith Robot() as r:\n    while True:\n        r.sleep(1)\n",
            None,
        ),
        ("x = 0\nwhile 1:\n    x += 1\n    if x > 10:\n        break\n", None),
        ("def f():\n    while True:\n        return 1\nwhile True:\n    f()\n", 4),
        ("x = 0\nwhile x < 3:\n    x += 1\n    if x > 9:\n        break\n", None),
        ("x = 0\nwhile x < 3:\n    pass\nwhile True:\n    pass\n", 4),  # forever comes first
        ("import time\nwhile True:\n    while x:\n        pass\n    time.sleep(1)\n", 3),
        ("while True\n    pass\n", None),  # Python cannot read it: no loop to point at
    ],
)
def test_the_endless_loop_is_pointed_at_only_when_it_is_sure(code: str, line: int | None) -> None:
    found = explain("", code, status="timeout", error="the program ran longer than 3 s")
    assert found is not None and found.kind is Kind.ENDLESS_LOOP and found.line == line
    assert ("this loop" in found.text.en) is (line is not None)
    if line is not None:
        assert found.code == code.splitlines()[line - 1].strip()


def test_an_error_outside_the_students_file_has_no_line() -> None:
    output = (
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads\n'
        "    return _default_decoder.decode(s)\n"
        "ValueError: bad\n"
    )
    found = explain(output, "import json\n", error="ValueError: bad")
    assert found is not None and found.line is None and found.code is None
    assert found.kind is Kind.OTHER and "ValueError" in found.text.en


def test_a_cut_off_traceback_is_not_guessed_at() -> None:
    assert last_traceback('Traceback (most recent call last):\n  File "/x.py", line 1\n') is None
    found = explain("no traceback here\n", "import sys\nsys.exit(3)\n", error="error")
    assert found is not None and found.kind is Kind.EXIT and found.line is None


def test_a_program_run_outside_the_sandbox_is_found_by_its_file_name() -> None:
    run = RECORDED["zero"]  # as the runner sees it unconfined: the real work folder
    output = run["output"].replace("/home/student/", "/tmp/roboclass-lesson-x1/")
    assert "/home/student/" not in output
    found = explain(output, run["code"], status="error", error=run["error"])
    assert found is not None and (found.line, found.code) == (4, "return x / 0")
    other = explain(output, run["code"], entry="robot.py", status="error", error=run["error"])
    assert other is not None and other.line is None  # not the student's entry: no line

"""Broken programs a student writes, and what their real runs left, for :mod:`lessons.explain`.

``explain_runs.json`` beside this file holds, for each program below, the
output, status and error line of a real run through the sandboxed runner
(``run_lesson`` with the robot-dance lesson). The unit tests explain those
texts; the integration tests run some of the programs again. To capture
them again (after a change of Python, the runner or the student API)::

    PYTHONPATH=$PWD .venv/bin/python -m tests.unit.explain_programs
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

RUNS = Path(__file__).with_name("explain_runs.json")
LESSON = "robot-dance"
#: A short wall limit for the programs that loop forever (their runs end there).
WALL = {"loop": 3.0, "loop_robot": 3.0, "loop_condition": 3.0}
#: Programs stopped by the e-stop once they print "ready".
ESTOP = {"estop"}

ROBOT = "from hardware import Robot\n\nwith Robot() as robot:\n"

PROGRAMS: dict[str, str] = {
    # Python cannot read it
    "syntax_colon": "from hardware import Robot\n\nwith Robot() as robot\n    robot.drive.forward(0.5)\n",
    "syntax_bracket": ROBOT + "    robot.drive.forward(0.5\n    robot.drive.stop()\n",
    "syntax_eq": ROBOT + "    if robot.distance.metres = 0.2:\n        robot.drive.stop()\n",
    "syntax_eq_name": "x = 1\nif x = 1:\n    print(x)\n",
    "syntax_string": 'print("hello)\n',
    "syntax_print": 'print "hello"\n',
    "syntax_else_if": "x = 1\nif x == 1:\n    print(x)\nelse if x == 2:\n    print(x)\n",
    "syntax_chinese_bracket": ROBOT + "    robot.drive.forward（0.5)\n",
    "syntax_chinese_comma": "x = [1， 2]\n",
    "syntax_chinese_list_comma": "x = [1、2]\n",
    "syntax_hidden_space": ROBOT + "    robot.drive.forward(0.5)\u00a0\n",
    "syntax_unmatched": "print(1))\n",
    "syntax_mismatch": "x = [1, 2)\n",
    "syntax_capital": "x = 1\nWhile x < 3:\n    x = x + 1\n",
    "syntax_comma": "print(1 2)\n",
    "syntax_other": "2x = 3\n",
    "indent_unexpected": ROBOT + "    robot.drive.forward(0.5)\n        robot.drive.stop()\n",
    "indent_expected": ROBOT + "robot.drive.forward(0.5)\n",
    "indent_unindent": ROBOT + "        robot.drive.forward(0.5)\n    robot.drive.stop()\n",
    "indent_tab": ROBOT + "    if True:\n\trobot.drive.forward(0.5)\n        robot.drive.stop()\n",
    # names
    "name_robt": "from hardware import Robot\n\nwith Robt() as robot:\n    robot.drive.forward(0.5)\n",
    "name_pirnt": ROBOT + '    pirnt("hi")\n',
    "name_variable": "from hardware import Robot\n\nspeed = 0.5\nwith Robot() as robot:\n"
    "    robot.drive.forward(sped)\n",
    "name_not_imported": "with Robot() as robot:\n    robot.drive.forward(0.5)\n",
    "name_time": "time.sleep(1)\n",
    "name_true": "x = true\n",
    "name_unbound": "count = 0\ndef add():\n    count = count + 1\nadd()\n",
    # attributes
    "attr_fowrard": "import time\nfrom hardware import Robot\n\nwith Robot() as robot:\n"
    "    robot.drive.fowrard(0.5)\n    time.sleep(1)\n",
    "attr_distanse": ROBOT + "    print(robot.distanse.metres)\n",
    "attr_meters": ROBOT + "    print(robot.distance.meters)\n",
    "attr_robot_forward": ROBOT + "    robot.forward(0.5)\n",
    "attr_valus": ROBOT + "    print(robot.distance.metres + robot.line.valus[0])\n",
    "attr_module": "import time\ntime.slep(1)\n",
    "attr_vision": "import vision\n\nprint(vision.find_lien)\n",
    "attr_str": 'name = "robo"\nprint(name.uper())\n',
    "attr_none": "x = None\nx.forward()\n",
    # arguments and types
    "type_fast": ROBOT + '    robot.drive.forward("fast")\n',
    "type_missing": ROBOT + "    robot.drive.arc()\n",
    "type_too_many": ROBOT + "    robot.drive.forward(0.5, 1)\n",
    "type_keyword": ROBOT + "    robot.drive.forward(powr=0.5)\n",
    "type_text_number": ROBOT + '    print("distance: " + robot.distance.metres)\n',
    "type_not_callable": "x = 5\nx(3)\n",
    # values
    "range_forward": ROBOT + "    robot.drive.forward(2)\n",
    "range_negative": ROBOT + "    robot.drive.forward(-0.5)\n",
    "range_led": ROBOT + "    robot.led.value = 3\n",
    "range_set_speed": ROBOT + "    robot.drive.set_speed(5)\n",
    "zero": "from hardware import Robot\n\ndef half(x):\n    return x / 0\n\n"
    "with Robot() as robot:\n    print(half(3))\n",
    # modules
    "import_turtle": "import turtle\nturtle.forward(10)\n",
    "import_hardwar": "from hardwar import Robot\n",
    "import_name": "from hardware import Robbot\n",
    "import_missing": "import requests\n",
    "import_case": "import Time\n",
    # limits, stops and the rest
    "memory": "x = bytearray(10**12)\n",
    "memory_together": "x = []\nwhile True:\n    x.append(bytearray(50_000_000))\n",
    "processes": "import os\nwhile True:\n    os.fork()\n",
    "loop": ROBOT + "    robot.drive.forward(0.5)\n    while True:\n        pass\n",
    "loop_robot": ROBOT + "    while True:\n        robot.drive.forward(0.5)\n",
    "loop_condition": ROBOT
    + "    robot.drive.forward(0.5)\n    while robot.distance.metres > 0.2:\n"
    "        pass\n    robot.drive.stop()\n",
    "time_up": "import time\n" + ROBOT + "    while True:\n        robot.drive.forward(0.3)\n"
    "        time.sleep(0.1)\n",
    "estop": ROBOT
    + '    robot.drive.forward(0.3)\n    print("ready")\n    while True:\n        pass\n',
    "interrupt": "raise KeyboardInterrupt\n",
    "closed": ROBOT + "    pass\nrobot.drive.forward(0.5)\n",
    "exit": "import sys\nsys.exit(2)\n",
    "index": "a = [1, 2]\nprint(a[5])\n",
    "key": 'd = {}\nprint(d["x"])\n',
    "recursion": "def f():\n    return f()\nf()\n",
    "other": 'int("abc")\n',
}


def run(name: str) -> dict[str, Any]:
    """Run one of the programs through the real sandboxed runner: what the run left, and
    the explanation the runner gave (not recorded: it is what the unit tests check)."""
    from lessons import find_lesson, run_lesson  # noqa: PLC0415 - only when running

    stop = threading.Event()

    def on_line(stream: str, line: str) -> None:
        if name in ESTOP and line == "ready":
            stop.set()

    with tempfile.TemporaryDirectory() as tmp:
        code = Path(tmp) / "student.py"
        code.write_text(PROGRAMS[name], encoding="utf-8")
        result = run_lesson(
            find_lesson(LESSON), code=code, wall_limit=WALL.get(name), stop=stop, on_line=on_line
        )
    return {
        "code": PROGRAMS[name],
        "run_status": result.run_status.value,
        "error": result.error,
        "output": result.output,
        "explanation": result.as_dict()["explanation"],
    }


def capture(names: list[str]) -> None:
    """Run the programs and write what they left into ``explain_runs.json``."""
    runs = json.loads(RUNS.read_text(encoding="utf-8")) if RUNS.is_file() else {}
    for name in names or list(PROGRAMS):
        runs[name] = {k: v for k, v in run(name).items() if k != "explanation"}
        print(name, runs[name]["run_status"], runs[name]["error"])
    runs = {name: runs[name] for name in PROGRAMS if name in runs}
    RUNS.write_text(json.dumps(runs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    capture(sys.argv[1:])

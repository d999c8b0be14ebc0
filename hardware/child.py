"""The student's process: ``python -m hardware.child ENTRY``.

Started by the runner with the robot connection in ``ROBOCLASS_REMOTE_FD``.
In the simulator, ``time`` follows the simulated clock. The student's code
runs as ``__main__``; an error prints its traceback (the runner shows it).
It lives in ``hardware`` (not ``lessons``, whose package imports the runner,
the grader and the simulator): a program's start costs only what it imports.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback

EXIT_TIME_UP = 0
EXIT_ERROR = 1


def main(argv: list[str]) -> int:
    from hardware import simtime  # noqa: PLC0415 - after the runner set the environment

    entry = argv[0]
    if os.environ.get("ROBOCLASS_SIM_FAST") == "1":
        from hardware.remote import connection_clock  # noqa: PLC0415

        # time passes on the robot's clock from the first line, robot or not
        simtime.install().attach(*connection_clock())
    sys.argv = [entry]
    sys.path.insert(0, os.path.dirname(os.path.abspath(entry)))
    try:
        runpy.run_path(entry, run_name="__main__")
    except simtime.SimTimeUp:
        print("[roboclass] time is up / 时间到", file=sys.stderr)  # noqa: T201 - to the student
        return EXIT_TIME_UP
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
    except BaseException:  # the student's error: print it for the student, exit non-zero
        traceback.print_exc()
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

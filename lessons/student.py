"""What a student's program can use from ``lessons``: :func:`report`.

::

    from lessons import report

    report("laps", 3)
    report("sign", "stop")

Reports go to the lesson runner, which shows them to the teacher and hands
them to the grader. Outside a lesson run, a report is only logged.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

__all__ = ["report"]

logger = logging.getLogger(__name__)


def report(name: str, value: Any) -> None:
    """Tell the lesson (and your teacher) a result: a name and a number, text or list."""
    if not isinstance(name, str) or not name:
        raise ValueError("report needs a name, e.g. report('laps', 3)")
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"report {name!r}: the value must be a number, text, list or dict"
        ) from exc
    if not os.environ.get("ROBOCLASS_REMOTE_FD"):
        logger.info("report %s = %r (not in a lesson run)", name, value)
        return
    from hardware.remote import send_report  # noqa: PLC0415 - only inside the runner

    send_report(name, value)

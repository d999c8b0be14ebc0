"""A job runner for the robots the enrolment tests start as processes (kept light to import)."""

from __future__ import annotations

from typing import Any

from fleet.agent.agent import JobContext


def quick_runner(ctx: JobContext) -> dict[str, Any]:
    """A job that passes at once (those robots run without a robot)."""
    ctx.on_line("stdout", f"ran {ctx.job.job}")
    return {"status": "passed", "score": 100}

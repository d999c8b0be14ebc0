"""What a lesson's ``check.py`` works with: the :class:`Run`, and the :class:`Grade` it returns.

The grader runs in the trusted runner, never in the student's process. It
sees what the robot really did (the runner's own telemetry, and the
simulator's ground truth, a :class:`~hardware.sim.truth.SimTruth`), plus what the
student's program reported, which is only a claim. What several graders
measure alike is in :mod:`lessons.checks`::

    from lessons.checks import moves_item
    from lessons.grading import Grade, Run, item

    def grade(run: Run) -> Grade:
        drove = run.truth.distance_m
        return Grade.from_items(
            [
                moves_item(run.truth, points=50),
                item("safe", "No crash", "没有碰撞", not run.truth.collisions, points=50),
            ],
            metrics={"distance_m": round(drove, 2)},
        )
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hardware.sim.truth import CheckpointSeen, CollisionSeen, PoseSeen, SimTruth, ZoneSeen
from hardware.telemetry import Sample

__all__ = [
    "CheckpointSeen",
    "CollisionSeen",
    "Grade",
    "PoseSeen",
    "RubricItem",
    "Run",
    "RunStatus",
    "SimTruth",
    "ZoneSeen",
    "item",
]


class RunStatus(StrEnum):
    """How the student's program ended."""

    FINISHED = "finished"  # it ended by itself, with exit code 0
    ERROR = "error"  # it raised an exception or exited with a code
    CRASHED = "crashed"  # a signal killed it (SIGSEGV, SIGXCPU, ...)
    TIMEOUT = "timeout"  # it ran past the wall-clock limit and was stopped
    TIME_UP = "time-up"  # the lesson's time on the robot's clock was over
    STOPPED = "stopped"  # the e-stop ended it


@dataclass(frozen=True)
class RubricItem:
    id: str
    title_en: str
    title_zh: str
    passed: bool
    points: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": {"en": self.title_en, "zh": self.title_zh},
            "passed": self.passed,
            "points": self.points,
        }


def item(id: str, title_en: str, title_zh: str, passed: bool, points: int = 10) -> RubricItem:
    """One rubric line: worth ``points`` when ``passed``."""
    return RubricItem(id, title_en, title_zh, bool(passed), int(points))


@dataclass(frozen=True)
class Grade:
    score: int
    rubric: list[RubricItem]
    metrics: dict[str, float | int | str | None] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)  # {"en": ..., "zh": ...}

    @classmethod
    def from_items(
        cls,
        items: list[RubricItem],
        metrics: Mapping[str, float | int | str | None] | None = None,
        feedback_en: str = "",
        feedback_zh: str = "",
    ) -> Grade:
        """Score = points of the passed items out of all points, as 0-100."""
        total = sum(i.points for i in items) or 1
        got = sum(i.points for i in items if i.passed)
        if not feedback_en:
            missed = [i for i in items if not i.passed]
            feedback_en = (
                "All done, well done!"
                if not missed
                else "Not yet: " + "; ".join(i.title_en for i in missed)
            )
            feedback_zh = (
                "全部完成，做得好！"
                if not missed
                else "还没做到：" + "；".join(i.title_zh for i in missed)
            )
        return cls(
            round(100 * got / total),
            items,
            dict(metrics or {}),
            {"en": feedback_en, "zh": feedback_zh},
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "rubric": [i.as_dict() for i in self.rubric],
            "metrics": self.metrics,
            "feedback": self.feedback,
        }


@dataclass
class Run:
    """Everything the grader may look at."""

    status: RunStatus
    exit_code: int | None
    error: str | None
    output: str  # the tail of what the program printed
    seconds: float  # on the robot's clock (simulated seconds in the simulator)
    wall_seconds: float
    telemetry: list[Sample]  # recorded by the runner: commands and readings
    reports: list[dict[str, Any]]  # report(name, value) from the student's program: claims
    truth: SimTruth  # the simulator's ground truth (empty on a real robot)
    params: dict[str, Any]  # lesson.yaml grading.params

    def commands(self, part: str) -> list[Sample]:
        return [s for s in self.telemetry if s.part == part and s.what == "command"]

    def readings(self, part: str) -> list[Sample]:
        return [s for s in self.telemetry if s.part == part and s.what == "reading"]

    def reported(self, name: str) -> list[Any]:
        return [r["value"] for r in self.reports if r["name"] == name]

    @property
    def ran_to_the_end(self) -> bool:
        return self.status in (RunStatus.FINISHED, RunStatus.TIME_UP)

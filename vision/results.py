"""What the models say, as small objects with names in the user's language."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Box", "Detection", "Prediction"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a classifier thinks a picture shows.

    ``label`` is the id code checks (``"stop"``), ``name`` is for people
    (``"停车"`` or ``"Stop"``), ``score`` is 0..1. It unpacks like a pair::

        label, score = sign(frame)
    """

    label: str
    score: float
    name: str
    top: tuple[tuple[str, float], ...] = ()  # the best few (label, score), best first

    def __iter__(self) -> Iterator[str | float]:
        yield self.label
        yield self.score


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle in frame pixels: left ``x``, top ``y``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    @property
    def area(self) -> float:
        return self.w * self.h

    def as_ints(self) -> tuple[int, int, int, int]:
        return (round(self.x), round(self.y), round(self.w), round(self.h))

    @classmethod
    def inside(cls, x: float, y: float, w: float, h: float, frame_size: tuple[int, int]) -> Box:
        """The box ``x, y, w, h`` cut to a frame of ``frame_size`` (width, height)."""
        x0, y0 = max(0.0, x), max(0.0, y)
        x1, y1 = min(float(frame_size[0]), x + w), min(float(frame_size[1]), y + h)
        return cls(x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True, slots=True)
class Detection:
    """One thing a detector found: what (``label``, ``name``), how sure, and where (``box``)."""

    label: str
    score: float
    name: str
    box: Box

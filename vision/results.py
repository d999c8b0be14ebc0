"""What the models say, as small objects with names in the user's language."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass

__all__ = ["Box", "Detection", "Prediction"]


class Prediction(tuple[str, float]):
    """What a classifier thinks a picture shows.

    ``label`` is the id code checks (``"stop"``), ``name`` is for people
    (``"停车"`` or ``"Stop"``), ``score`` is 0..1, and ``top`` the best few
    ``(label, score)``, best first. It unpacks like a pair, and editors know
    that the first is the label (text) and the second the score (a number)::

        label, score = sign(frame)
        if label == "stop" and score > 0.8: ...

    It cannot be changed once made.
    """

    name: str
    top: tuple[tuple[str, float], ...]

    def __new__(
        cls, label: str, score: float, name: str, top: tuple[tuple[str, float], ...] = ()
    ) -> Prediction:
        self = super().__new__(cls, (label, score))
        fields = self.__dict__
        fields["name"] = name
        fields["top"] = top
        return self

    @property
    def label(self) -> str:
        return self[0]

    @property
    def score(self) -> float:
        return self[1]

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[str, float, str, tuple[tuple[str, float], ...]]:
        return (self[0], self[1], self.name, self.top)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prediction) or other.__class__ is not self.__class__:
            return False  # as a dataclass: never equal to a plain tuple
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self._values())

    def __getnewargs__(self) -> tuple[str, float, str, tuple[tuple[str, float], ...]]:
        return self._values()

    def __repr__(self) -> str:
        return (
            f"Prediction(label={self[0]!r}, score={self[1]!r}, name={self.name!r}, "
            f"top={self.top!r})"
        )


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

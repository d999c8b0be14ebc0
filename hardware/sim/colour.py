"""Colours in world files: a name (``red``) or ``#rrggbb``, turned into OpenCV BGR."""

from __future__ import annotations

__all__ = ["NAMED_COLOURS", "bgr", "check_colour"]

# Paint and tape as a camera sees them, BGR. Black tape is not pure black.
NAMED_COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (25, 25, 25),
    "white": (245, 245, 245),
    "grey": (128, 128, 128),
    "gray": (128, 128, 128),
    "red": (40, 40, 210),
    "green": (60, 170, 40),
    "blue": (200, 90, 20),
    "yellow": (30, 210, 235),
    "orange": (20, 130, 245),
    "purple": (150, 50, 130),
    "brown": (40, 75, 120),
    "pink": (190, 150, 250),
    "cyan": (210, 200, 40),
}


def check_colour(value: str) -> str:
    """Return ``value`` if it names a colour, else raise ``ValueError`` saying what is allowed."""
    bgr(value)
    return value


def bgr(value: str) -> tuple[int, int, int]:
    """``"red"`` or ``"#d02828"`` -> ``(b, g, r)``.

    >>> bgr("#ff8000")
    (0, 128, 255)
    """
    text = value.strip().lower()
    if text in NAMED_COLOURS:
        return NAMED_COLOURS[text]
    if len(text) == 7 and text.startswith("#"):
        try:
            r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            pass
        else:
            return (b, g, r)
    names = ", ".join(sorted(NAMED_COLOURS))
    raise ValueError(f"unknown colour {value!r}: use #rrggbb or one of {names}")

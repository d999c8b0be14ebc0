"""Lights and sound: :class:`LED`, :class:`RGBLED`, :class:`Buzzer`.

::

    robot.led.on()
    robot.rgb.color = (1, 0.5, 0)     # orange
    robot.buzzer.play("A4")           # or a frequency in Hz: robot.buzzer.play(440)
    robot.buzzer.stop()
"""

from __future__ import annotations

import re

from hardware.device import Controls, Device
from hardware.errors import BadValueError
from hardware.motors import _check
from hardware.ports import LedPort, RgbLedPort, TonePort

__all__ = ["LED", "RGBLED", "Buzzer", "note_to_hz"]


class LED(Device):
    """An LED. ``value`` 0 (off) .. 1 (full brightness).

    ::

        robot.led.on()
        robot.led.value = 0.3    # dim
        robot.led.off()
    """

    def __init__(self, name: str, port: LedPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._led = port
        self._value = 0.0
        port.set(0.0)

    @property
    def value(self) -> float:
        """Brightness, 0 (off) .. 1 (full)."""
        return self._value

    @value.setter
    def value(self, value: float) -> None:
        self._check_open()
        self._value = _check(f"{self.name} value", value, 0, 1)
        self._controls.record(self.name, "command", self._value)
        self._led.set(self._value)

    def on(self) -> None:
        """Full brightness."""
        self.value = 1.0

    def off(self) -> None:
        """Off."""
        self.value = 0.0

    def toggle(self) -> None:
        """Off if it is on, on if it is off."""
        self.value = 0.0 if self._value else 1.0

    @property
    def is_lit(self) -> bool:
        """``True`` while the LED gives any light."""
        return self._value > 0

    def _before_close(self) -> None:
        self._led.set(0.0)


class RGBLED(Device):
    """A colour LED. ``color`` is (red, green, blue), each 0..1.

    ::

        robot.rgb.color = (1, 0.5, 0)   # orange
        robot.rgb.off()
    """

    def __init__(self, name: str, port: RgbLedPort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._led = port
        self._color = (0.0, 0.0, 0.0)
        port.set(self._color)

    @property
    def color(self) -> tuple[float, float, float]:
        """(red, green, blue), each 0 (off) .. 1 (full): ``(1, 0, 0)`` is red."""
        return self._color

    @color.setter
    def color(self, rgb: tuple[float, float, float]) -> None:
        self._check_open()
        try:
            r, g, b = rgb
        except (TypeError, ValueError) as exc:
            raise BadValueError(
                f"{self.name}.color needs three numbers (red, green, blue), not {rgb!r}"
            ) from exc
        self._color = (_check("red", r, 0, 1), _check("green", g, 0, 1), _check("blue", b, 0, 1))
        self._controls.record(self.name, "command", self._color)
        self._led.set(self._color)

    value = color

    def on(self) -> None:
        """White, full brightness."""
        self.color = (1.0, 1.0, 1.0)

    def off(self) -> None:
        """Off."""
        self.color = (0.0, 0.0, 0.0)

    def _before_close(self) -> None:
        self._led.set((0.0, 0.0, 0.0))


_NOTE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)$")
_SEMITONE = {"C": -9, "D": -7, "E": -5, "F": -4, "G": -2, "A": 0, "B": 2}


def note_to_hz(note: str | float) -> float:
    """``"A4"`` -> 440.0, ``"C#5"`` -> 554.37; numbers are taken as Hz."""
    if isinstance(note, int | float):
        return float(note)
    m = _NOTE.match(note.strip())
    if not m:
        raise BadValueError(
            f"{note!r} is not a note: write it like 'A4', 'C#5' or 'Bb3', or give Hz"
        )
    letter, accidental, octave = m.groups()
    semis = (
        _SEMITONE[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental] + (int(octave) - 4) * 12
    )
    return 440.0 * 2 ** (semis / 12)


class Buzzer(Device):
    """A buzzer that plays tones (a passive piezo) or just beeps (an active one).

    ::

        robot.buzzer.play("A4")    # or a frequency in Hz: robot.buzzer.play(440)
        robot.buzzer.stop()
    """

    LOWEST_HZ = 20.0
    HIGHEST_HZ = 20000.0

    def __init__(self, name: str, port: TonePort, controls: Controls | None = None) -> None:
        super().__init__(name, port, controls)
        self._buzzer = port
        self._hz: float | None = None
        port.tone(None)

    @property
    def tone(self) -> float | None:
        """The frequency playing now in Hz, or ``None``."""
        return self._hz

    def play(self, note: str | float) -> None:
        """Play a note (``"A4"``) or frequency (``440``) until :meth:`stop`."""
        self._check_open()
        hz = _check("tone", note_to_hz(note), self.LOWEST_HZ, self.HIGHEST_HZ, " Hz")
        self._hz = hz
        self._controls.record(self.name, "command", round(hz, 2))
        self._buzzer.tone(hz)

    def beep(self) -> None:
        """A 1000 Hz tone until :meth:`stop`."""
        self.play(1000.0)

    def stop(self) -> None:
        """Silence."""
        self._check_open()
        self._hz = None
        self._controls.record(self.name, "command", None)
        self._buzzer.tone(None)

    def _before_close(self) -> None:
        self._buzzer.tone(None)

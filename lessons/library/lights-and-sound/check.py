"""Grades lights-and-sound from what the robot really did (the runner's telemetry)."""

from lessons.grading import Grade, Run, item


def grade(run: Run) -> Grade:
    led = [s.value for s in run.commands("led")]
    colours = {s.value for s in run.commands("rgb") if isinstance(s.value, tuple) and any(s.value)}
    notes = {s.value for s in run.commands("buzzer") if s.value}
    buzzer = run.commands("buzzer")
    silent_at_end = bool(buzzer) and buzzer[-1].value is None
    moved = any(s.value for s in run.commands("left_motor") + run.commands("right_motor"))
    items = [
        item(
            "led", "Switched the light on and off", "把灯打开又关上", 1.0 in led and 0.0 in led, 20
        ),
        item(
            "colours",
            "Showed three different colours",
            "显示了三种不同的颜色",
            len(colours) >= 3,
            30,
        ),
        item("notes", "Played three different notes", "演奏了三个不同的音符", len(notes) >= 3, 30),
        item("quiet", "Stopped the buzzer at the end", "最后让蜂鸣器停下", silent_at_end, 10),
        item("still", "Kept the wheels still", "轮子保持不动", not moved, 10),
    ]
    return Grade.from_items(items, metrics={"colours": len(colours), "notes": len(notes)})

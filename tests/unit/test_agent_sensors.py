"""fleet/agent/sensors.py: a running job's live sensor values for the telemetry."""

from __future__ import annotations

from fleet.agent.sensors import MAX_VALUES, LiveSensors
from fleet.console.sensors import SEQ, with_sensors
from hardware.telemetry import Recorder


def test_the_newest_reading_of_each_part_while_the_job_runs() -> None:
    clock = iter(range(1000))
    recorder = Recorder(lambda: float(next(clock)))
    sensors = LiveSensors()
    assert not sensors.active and sensors.snapshot() == {}
    sensors.watch(object(), recorder)
    recorder.record("distance", "reading", 0.8123456)
    recorder.record("distance", "reading", 0.5)
    recorder.record("line", "reading", (0.1, 0.9, 0.2))
    recorder.record("drive", "command", (0.5, 0.5))  # what it was told is not a sensor
    recorder.record("camera", "reading", "320x240")  # text is left out
    assert sensors.active
    assert sensors.snapshot() == {
        "sensor.distance": 0.5,
        "sensor.line.0": 0.1,
        "sensor.line.1": 0.9,
        "sensor.line.2": 0.2,
    }
    sensors.clear()
    recorder.record("distance", "reading", 0.1)  # the job has ended: not taken
    assert not sensors.active
    assert sensors.snapshot()["sensor.distance"] == 0.5  # once more: the job's last values
    assert sensors.snapshot() == {}


def test_a_job_with_many_parts_stays_within_the_telemetry_message() -> None:
    recorder = Recorder(lambda: 0.0)
    sensors = LiveSensors()
    sensors.watch(object(), recorder)
    for i in range(100):
        recorder.record(f"part{i}", "reading", float(i))
    snapshot = sensors.snapshot()
    assert len(snapshot) == MAX_VALUES
    recorder.record("part0", "reading", 42.0)  # a part already shown still changes
    assert sensors.snapshot()["sensor.part0"] == 42.0


def test_the_console_keeps_a_jobs_last_sensor_values_past_the_idle_telemetry() -> None:
    first = with_sensors(None, {"battery_v": 8.4}, 1.0)
    assert first == {"ts": 1.0, "battery_v": 8.4}
    live = with_sensors(first, {"battery_v": 8.4, "sensor.distance": 0.5}, 2.0)
    assert live["sensor.distance"] == 0.5 and live[SEQ] == 1
    idle = with_sensors(live, {"battery_v": 8.3}, 3.0)  # the job ended: no sensors in it
    assert idle == {"ts": 3.0, "battery_v": 8.3, "sensor.distance": 0.5, SEQ: 1}
    again = with_sensors(idle, {"sensor.distance": 0.5}, 4.0)  # the same values, a new set
    assert again[SEQ] == 2

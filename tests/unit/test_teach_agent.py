"""Teach your robot, the robot's side: commands in, events out, pictures kept per student
(fleet/agent/teach.py), with the simulator's cards for a camera."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.agent.teach import TeachPart
from fleet.agent.teachstore import TeachStore
from fleet.core.protocol import DropCounter, Topics, decode, encode
from fleet.core.teach import MAX_HELD_PARTS, MAX_PURGE, TeachCommand, TeachEvent
from hardware.sim import CameraSpec
from hardware.sim.card import CardHolder
from lessons import find_lesson, run_lesson
from models import SHIPPED_DIR, Registry
from vision import Classifier

ANA = "s-0123456789abcdef"
BEN = "s-fedcba9876543210"
DEVICE = "robot-03"


class Events:
    """What the part published, in order; waits for one kind."""

    def __init__(self) -> None:
        self.got: list[TeachEvent] = []
        self.qos: list[int] = []
        self._cond = threading.Condition()

    def __call__(self, event: TeachEvent, qos: int) -> None:
        # every event survives the wire: encoded and decoded as the console does
        topics = Topics("school", "room1")
        counter = DropCounter()
        decoded = decode(topics, topics.teach(DEVICE), encode(event), counter)
        assert decoded is not None, counter.snapshot()
        with self._cond:
            self.got.append(event)
            self.qos.append(qos)
            self._cond.notify_all()

    def wait(self, kind: str, after: int = 0, timeout: float = 120) -> TeachEvent:
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [e for e in self.got[after:] if e.kind == kind]
                if found:
                    return found[-1]
                left = end - time.monotonic()
                assert left > 0, f"no {kind} event: {[e.kind for e in self.got]}"
                self._cond.wait(left)

    def until(self, test: Any, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        with self._cond:
            while not test(self.got):
                left = end - time.monotonic()
                assert left > 0, f"not yet: {[e.kind for e in self.got]}"
                self._cond.wait(left)

    def kinds(self, after: int = 0) -> list[str]:
        return [e.kind for e in self.got[after:]]


def cmd(op: str, **fields: Any) -> TeachCommand:
    now = time.time()
    return TeachCommand(device=DEVICE, ts=now, expires=now + 30, op=op, **fields)  # type: ignore[arg-type]


@pytest.fixture
def part(tmp_path: Path) -> Iterator[tuple[TeachPart, Events, Path]]:
    events = Events()
    holder = CardHolder(CameraSpec(width=320, height=240, fov_deg=62, tilt_deg=-15), seed=3)
    job = {"running": False}
    store = TeachStore(tmp_path / "agent" / "teach", tmp_path / "cache" / "models")
    teach = TeachPart(
        DEVICE,
        events,
        store=store,
        camera=lambda: None,
        busy=lambda: job["running"],
        cards=holder,
    )
    teach.job = job  # type: ignore[attr-defined]
    try:
        yield teach, events, tmp_path
    finally:
        teach.close()


def registry(tmp_path: Path) -> Registry:
    return Registry(roots=[(tmp_path / "cache" / "models", "cache"), (SHIPPED_DIR, "package")])


def teach_three_signs(teach: TeachPart, events: Events, per_sign: int = 8) -> None:
    teach.handle(cmd("open", student=ANA))
    for sign, zh in (("stop", "停车"), ("left", "左转"), ("right", "右转")):
        teach.handle(cmd("label", student=ANA, label=sign, en=sign, zh=zh))
        teach.handle(cmd("card", student=ANA, card=sign))
        teach.handle(cmd("capture", student=ANA, label=sign, count=per_sign))
        teach.handle(cmd("card", student=ANA, card=None))
    events.until(lambda got: sum(e.kind == "picture" for e in got) == 3 * per_sign)
    mark = len(events.got)
    teach.handle(cmd("open", student=ANA))
    events.wait("state", mark)


def test_a_student_teaches_three_signs_and_the_model_is_on_the_robot(
    part: tuple[TeachPart, Events, Path],
) -> None:
    teach, events, tmp_path = part
    teach_three_signs(teach, events)
    state = events.wait("state")
    counts = {x.id: len(x.pictures) for x in state.labels or []}
    assert counts == {"stop": 8, "left": 8, "right": 8}
    assert state.cards == ["stop", "left", "right"] and state.min_per_label == 3
    pictures = [e for e in events.got if e.kind == "picture"]
    assert len(pictures) == 24 and all(
        base64.b64decode(p.jpeg or "")[:2] == b"\xff\xd8" for p in pictures
    )
    # the pictures are on the robot, under the student's pseudonym, and nowhere else
    folder = tmp_path / "agent" / "teach" / ANA / "pictures"
    assert len(list(folder.glob("*/*.jpg"))) == 24

    mark = len(events.got)
    teach.handle(cmd("train", student=ANA))
    result = events.wait("result", mark)
    assert result.accuracy is not None and result.accuracy >= 0.8
    assert result.order == ["stop", "left", "right"]
    assert sum(map(sum, result.confusion or [])) == result.checked_on
    assert result.seconds and result.seconds["total"] > 0
    stages = [e.stage for e in events.got[mark:] if e.kind == "progress"]
    assert "features" in stages and "head" in stages

    mark = len(events.got)
    teach.handle(cmd("try_on", student=ANA))
    teach.handle(cmd("card", student=ANA, card="left"))
    tried = events.wait("try", mark)
    teach.handle(cmd("try_off", student=ANA))
    assert tried.label in {"stop", "left", "right"} and tried.jpeg

    mark = len(events.got)
    teach.handle(cmd("deploy", student=ANA, model="my-signs"))
    deployed = events.wait("deployed", mark)
    chunks = []
    while len(chunks) < (deployed.parts or 0):
        events.wait("chunk", mark)
        chunks = [e for e in events.got[mark:] if e.kind == "chunk"]
    data = b"".join(
        base64.b64decode(c.data or "") for c in sorted(chunks, key=lambda c: c.part or 0)
    )
    assert hashlib.sha256(data).hexdigest() == deployed.sha256 and len(data) == deployed.size
    assert all(
        q == 1
        for e, q in zip(events.got, events.qos, strict=True)
        if e.kind in {"chunk", "deployed"}
    )
    with Classifier("my-signs", registry=registry(tmp_path)) as sign:
        assert sign.labels == ["stop", "left", "right"]
        right = sum(sign(teach.cards.read("right")).label == "right" for _ in range(5))  # type: ignore[union-attr]
        assert right >= 4


def test_pictures_wait_while_a_job_runs_and_deleting_works(
    part: tuple[TeachPart, Events, Path],
) -> None:
    teach, events, _ = part
    teach.handle(cmd("label", student=ANA, label="stop", en="stop"))
    teach.handle(cmd("card", student=ANA, card="stop"))
    teach.job["running"] = True  # type: ignore[attr-defined]
    mark = len(events.got)
    teach.handle(cmd("capture", student=ANA, label="stop", count=3))
    error = events.wait("error", mark)
    assert "running a program" in (error.en or "") and "正在运行程序" in (error.zh or "")
    teach.job["running"] = False  # type: ignore[attr-defined]
    teach.handle(cmd("capture", student=ANA, label="stop", count=3))
    events.until(lambda got: sum(e.kind == "picture" for e in got) == 3)
    mark = len(events.got)
    teach.handle(cmd("delete", student=ANA, picture="stop/0002"))
    state = events.wait("state", mark)
    assert state.labels and state.labels[0].pictures == ["stop/0001", "stop/0003"]
    mark = len(events.got)
    teach.handle(cmd("train", student=ANA))
    error = events.wait("error", mark)
    assert "two labels" in (error.en or "")


def test_purge_deletes_the_students_pictures_and_models(
    part: tuple[TeachPart, Events, Path],
) -> None:
    teach, events, tmp_path = part
    teach_three_signs(teach, events, per_sign=4)
    teach.handle(cmd("label", student=BEN, label="stop"))  # another student on the same robot
    mark = len(events.got)
    teach.handle(cmd("train", student=ANA))
    events.wait("result", mark)
    teach.handle(cmd("deploy", student=ANA, model="ana-signs"))
    events.wait("deployed", mark)
    models = tmp_path / "cache" / "models"
    assert (models / "ana-signs.onnx").exists()
    mark = len(events.got)
    teach.handle(cmd("purge", students=[ANA]))
    purged = events.wait("purged", mark)
    assert purged.students == [ANA]
    assert not (tmp_path / "agent" / "teach" / ANA).exists()
    assert not list(models.glob("ana-signs.*"))
    assert (tmp_path / "agent" / "teach" / BEN).exists()
    assert not list((tmp_path / "agent").rglob("*.jpg"))


def test_a_shipped_models_name_is_refused(part: tuple[TeachPart, Events, Path]) -> None:
    teach, events, _ = part
    teach_three_signs(teach, events, per_sign=3)
    mark = len(events.got)
    teach.handle(cmd("train", student=ANA))
    events.wait("result", mark)
    teach.handle(cmd("deploy", student=ANA, model="traffic-signs"))
    error = events.wait("error", mark)
    assert "RoboClass ships" in (error.en or "") and "自带模型" in (error.zh or "")


def test_commands_and_events_refuse_unknown_fields_and_big_bursts() -> None:
    topics = Topics("school", "room1")
    counter = DropCounter()
    good = cmd("capture", student=ANA, label="stop", count=5)
    parsed = decode(topics, topics.cmd(DEVICE, "teach"), encode(good), counter, device=DEVICE)
    assert parsed is not None and parsed[1] == good
    for bad in (
        {**json.loads(encode(good)), "extra": 1},
        {**json.loads(encode(good)), "count": 500},
        {**json.loads(encode(good)), "student": "Ana Lopez"},
        {**json.loads(encode(good)), "label": "../etc"},
    ):
        payload = json.dumps(bad).encode()
        assert decode(topics, topics.cmd(DEVICE, "teach"), payload, counter, device=DEVICE) is None
    assert counter.snapshot() == {"malformed": 4}
    # a robot's event for another robot's topic is dropped
    event = TeachEvent(device="robot-04", seq=1, ts=time.time(), kind="state")
    assert decode(topics, topics.teach(DEVICE), encode(event), counter) is None


def test_a_model_taught_with_cards_passes_drive_by_your_signs(
    part: tuple[TeachPart, Events, Path], isolated_dirs: Path
) -> None:
    teach, events, tmp_path = part
    teach_three_signs(teach, events, per_sign=6)
    mark = len(events.got)
    teach.handle(cmd("train", student=ANA))
    events.wait("result", mark)
    teach.handle(cmd("deploy", student=ANA, model="my-signs"))
    events.wait("deployed", mark)
    lesson = find_lesson("drive-by-your-signs")
    result = run_lesson(lesson, code=lesson.path / "solution.py", cache_dir=tmp_path / "cache")
    assert result.run_status == "finished", (result.error, result.output)
    assert [r["value"] for r in result.reports] == ["left", "right", "stop"]
    assert result.status == "passed" and result.score == 100


def test_upload_sends_every_picture_for_training_on_the_console(
    part: tuple[TeachPart, Events, Path],
) -> None:
    teach, events, _ = part
    teach_three_signs(teach, events, per_sign=3)
    mark = len(events.got)
    teach.handle(cmd("upload", student=ANA))
    events.until(lambda got: any(e.kind == "upload" and e.parts for e in got[mark:]))
    sent = [e for e in events.got[mark:] if e.kind == "upload"]
    assert [e.picture for e in sent[:-1]] == [
        f"{k}/{n:04d}" for k in ("stop", "left", "right") for n in (1, 2, 3)
    ]
    assert all(base64.b64decode(e.data or "")[:2] == b"\xff\xd8" for e in sent[:-1])
    assert sent[-1].parts == 9
    assert all(q == 1 for e, q in zip(events.got, events.qos, strict=True) if e.kind == "upload")


def test_held_lists_the_students_folders_and_a_purge_of_them_deletes_them(
    part: tuple[TeachPart, Events, Path],
) -> None:
    teach, events, tmp_path = part
    folders = tmp_path / "agent" / "teach"
    teach.handle(cmd("held"))
    empty = events.wait("held")
    assert (empty.students, empty.part, empty.parts) == ([], 0, 1)  # nothing held: said so
    teach.handle(cmd("label", student=ANA, label="stop"))
    teach.handle(cmd("card", student=ANA, card="stop"))
    teach.handle(cmd("capture", student=ANA, label="stop", count=3))
    teach.handle(cmd("label", student=BEN, label="stop"))
    mark = len(events.got)
    teach.handle(cmd("held"))
    held = events.wait("held", mark)
    assert (held.students, held.part, held.parts) == ([ANA, BEN], 0, 1)
    assert events.qos[events.got.index(held)] == 1
    assert len(list((folders / ANA).rglob("*.jpg"))) == 3
    # the console answers purge for the one it no longer knows
    teach.handle(cmd("purge", students=[ANA]))
    events.wait("purged", mark)
    assert not (folders / ANA).exists() and (folders / BEN).exists()
    mark = len(events.got)
    teach.handle(cmd("held"))
    assert events.wait("held", mark).students == [BEN]


def test_held_is_said_in_bounded_parts(part: tuple[TeachPart, Events, Path]) -> None:
    teach, events, tmp_path = part
    folders = tmp_path / "agent" / "teach"
    many = [f"s-{n:016x}" for n in range(MAX_HELD_PARTS * MAX_PURGE + 7)]
    for student in many:
        (folders / student).mkdir(parents=True)
    (folders / "not-a-student").mkdir()  # only pseudonymous ids are said
    teach.handle(cmd("held"))
    events.until(lambda got: sum(e.kind == "held" for e in got) == MAX_HELD_PARTS)
    held = [e for e in events.got if e.kind == "held"]
    assert [(e.part, e.parts) for e in held] == [(n, MAX_HELD_PARTS) for n in range(MAX_HELD_PARTS)]
    said = [s for e in held for s in e.students or []]
    assert said == many[: MAX_HELD_PARTS * MAX_PURGE]  # bounded: the first 2000 only

"""The console's teach relay (fleet/console/teach.py): only the student's own robot is heard,
thumbnails stay in memory, a deployed model is put together, checked and shelved."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import pytest

from fleet.console.store import Database
from fleet.console.teach import TeachRelay
from fleet.core.bundles import BundleStore
from fleet.core.protocol import DeviceState, DropCounter, Topics, decode, encode
from fleet.core.teach import MAX_PURGE, LabelInfo, TeachEvent
from hardware.sim import CameraSpec
from hardware.sim.card import CardHolder

ANA = "s-0123456789abcdef"
BEN = "s-fedcba9876543210"


class Shelf:
    def __init__(self) -> None:
        self.added: list[tuple[Any, ...]] = []

    def add(self, *args: Any) -> None:
        self.added.append(args)


def console(tmp_path: Path, shelf: Shelf | None = None) -> Any:
    sent: list[tuple[str, bytes]] = []
    db = SimpleNamespace(devices=SimpleNamespace(ids=lambda: ["robot-01", "robot-02"]))
    if shelf is not None:
        db.models = shelf
    return SimpleNamespace(
        topics=Topics("school", "room1"),
        link=SimpleNamespace(publish=lambda topic, payload: sent.append((topic, payload)) or True),
        bundles=BundleStore(tmp_path / "bundles"),
        config=SimpleNamespace(data_dir=tmp_path / "console"),
        db=db,
        sent=sent,
    )


def event(
    kind: str, device: str = "robot-01", student: str | None = ANA, **fields: Any
) -> TeachEvent:
    return TeachEvent(device=device, seq=1, ts=time.time(), kind=kind, student=student, **fields)  # type: ignore[arg-type]


JPEG = base64.b64encode(b"\xff\xd8 a small picture").decode()


def test_only_the_students_own_robot_is_heard(tmp_path: Path) -> None:
    c = console(tmp_path)
    relay = TeachRelay(c)
    assert not relay.offer(event("state"))  # no session opened yet
    relay.command("robot-01", ANA, "open")
    topic, payload = c.sent[-1]
    parsed = decode(c.topics, topic, payload, DropCounter(), device="robot-01")
    assert parsed is not None and parsed[1].op == "open" and parsed[1].student == ANA
    assert not relay.offer(event("picture", device="robot-02", picture="stop/0001", jpeg=JPEG))
    assert not relay.offer(event("picture", student=BEN, picture="stop/0001", jpeg=JPEG))
    assert relay.offer(event("picture", picture="stop/0001", jpeg=JPEG))
    assert relay.thumbnail(ANA, "stop/0001") == base64.b64decode(JPEG)
    assert relay.thumbnail(BEN, "stop/0001") is None
    # a state without the picture (deleted on the robot): forgotten here too
    labels = [LabelInfo(id="stop", en="stop", zh="停车", pictures=[])]
    assert relay.offer(event("state", labels=labels))
    found = relay.view(ANA)
    assert (
        found is not None
        and found[1]["pictures"] == []
        and relay.thumbnail(ANA, "stop/0001") is None
    )


def test_captures_are_rate_limited(tmp_path: Path) -> None:
    relay = TeachRelay(console(tmp_path))
    relay.command("robot-01", ANA, "open")
    assert all(relay.may_capture(ANA, 20) for _ in range(6))
    assert not relay.may_capture(ANA, 1)
    assert not relay.may_capture(BEN, 1)  # no session: nothing to take


def deploy(relay: TeachRelay, data: bytes, sha: str, parts: int = 3, student: str = ANA) -> None:
    relay.offer(
        event(
            "deployed",
            student=student,
            model="my-signs",
            sha256=sha,
            size=len(data),
            manifest="name: my-signs\n",
            parts=parts,
        )
    )
    step = -(-len(data) // parts)
    for n in range(parts):
        piece = base64.b64encode(data[n * step : (n + 1) * step]).decode()
        relay.offer(
            event(
                "chunk",
                student=student,
                model="my-signs",
                sha256=sha,
                part=n,
                parts=parts,
                data=piece,
            )
        )


def test_a_deployed_model_is_put_together_checked_and_shelved(tmp_path: Path) -> None:
    shelf = Shelf()
    c = console(tmp_path, shelf)
    relay = TeachRelay(c)
    relay.command("robot-01", ANA, "open")
    data = bytes(range(256)) * 40
    sha = hashlib.sha256(data).hexdigest()
    deploy(relay, data, sha)
    assert shelf.added == [("my-signs", sha, len(data), "name: my-signs\n", ANA)]
    path = c.bundles.path(sha)
    assert path is not None and path.read_bytes() == data
    # pieces that do not add up to the sha256 are dropped
    shelf.added.clear()
    deploy(relay, data[:-1] + b"x", sha)
    assert shelf.added == []


def test_a_deployed_model_lands_on_the_consoles_real_shelf(tmp_path: Path) -> None:
    with Database(tmp_path / "console.sqlite") as db:
        c = console(tmp_path)
        ana = db.rosters.add_student("Ana", "7A")
        c.db.models = db.models
        relay = TeachRelay(c)
        relay.command("robot-01", ana, "open")
        data = b"model bytes" * 100
        sha = hashlib.sha256(data).hexdigest()
        deploy(relay, data, sha, parts=1, student=ana)
        (shelved,) = db.models.list()
        assert (shelved.name, shelved.sha256, shelved.size) == ("my-signs", sha, len(data))
        assert (shelved.student_id, shelved.student) == (ana, "Ana")
        assert c.bundles.path(sha) is not None


def test_purge_forgets_the_students_and_tells_every_robot(tmp_path: Path) -> None:
    c = console(tmp_path)
    relay = TeachRelay(c)
    relay.command("robot-01", ANA, "open")
    relay.offer(event("picture", picture="stop/0001", jpeg=JPEG))
    relay.purge([ANA, BEN])
    assert relay.view(ANA) is None
    sent = [decode(c.topics, t, p, DropCounter()) for t, p in c.sent[1:]]
    assert [(s[0].device, s[1].op, s[1].students) for s in sent if s] == [
        ("robot-01", "purge", [ANA, BEN]),
        ("robot-02", "purge", [ANA, BEN]),
    ]


def upload_three_signs(relay: TeachRelay, student: str = ANA) -> None:
    """The student asks to train on the console; their robot sends up six pictures of each
    of three signs."""
    cards = CardHolder(CameraSpec(width=320, height=240, fov_deg=62, tilt_deg=-15), seed=5)
    signs = ("stop", "left", "right")
    labels = [
        LabelInfo(id=k, en=k, zh=k, pictures=[f"{k}/{n:04d}" for n in range(1, 7)]) for k in signs
    ]
    assert relay.offer(event("state", student=student, labels=labels))
    relay.train("robot-01", student, "console")
    for k in signs:
        for n in range(1, 7):
            data = base64.b64encode(cv2.imencode(".jpg", cards.read(k))[1].tobytes()).decode()
            assert relay.offer(event("upload", student=student, picture=f"{k}/{n:04d}", data=data))
    relay.offer(event("upload", student=student, parts=18))


def test_training_on_the_console_pushes_the_model_and_a_purge_deletes_the_pictures(
    tmp_path: Path,
) -> None:
    shelf = Shelf()
    c = console(tmp_path, shelf)
    pushed: list[Any] = []
    c.push_model = lambda ref, devices: pushed.append((ref, devices))
    relay = TeachRelay(c)
    relay.command("robot-01", ANA, "open")
    upload_three_signs(relay)
    topic, payload = c.sent[-1]  # the robot was asked for its pictures
    asked = decode(c.topics, topic, payload, DropCounter())
    assert asked is not None and asked[1].op == "upload"
    deadline = time.monotonic() + 120
    while (relay.view(ANA) or (0, {}))[1].get("result") is None:
        assert time.monotonic() < deadline, relay.view(ANA)
        time.sleep(0.05)
    result = (relay.view(ANA) or (0, {}))[1]["result"]
    assert result["accuracy"] >= 0.8 and result["order"] == ["stop", "left", "right"]
    folder = tmp_path / "console" / "teach" / ANA
    assert len(list(folder.rglob("*.jpg"))) == 18  # trained here: the pictures are here
    relay.deploy("robot-01", ANA, "my-signs")
    while not pushed:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ref, devices = pushed[0]
    assert ref.name == "my-signs" and devices == ["robot-01"]
    owns = decode(c.topics, *c.sent[-1], DropCounter())
    assert owns is not None and owns[1].op == "owns" and owns[1].model == "my-signs"
    assert shelf.added and shelf.added[0][0] == "my-signs" and shelf.added[0][4] == ANA
    relay.purge([ANA])
    assert not folder.exists()
    relay.trainer.close()


class HeldTraining:
    """Stands in for vision.teach.train: waits until let go, then gives a model that
    remembers being closed."""

    def __init__(self) -> None:
        self.started, self.go = threading.Event(), threading.Event()
        self.closed: list[bool] = []
        self.before = set(threading.enumerate())

    def new_threads(self) -> list[threading.Thread]:
        """The console's threads started since, still alive."""
        return [
            t for t in set(threading.enumerate()) - self.before if t.name.startswith("console-")
        ]

    def __call__(self, data: Any, on_progress: Any = None) -> Any:
        self.started.set()
        assert self.go.wait(60)
        return SimpleNamespace(close=lambda: self.closed.append(True))


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldTraining:
    """vision.teach.train held at a gate the test opens."""
    training = HeldTraining()
    monkeypatch.setattr("vision.teach.train", training)
    return training


def test_a_purge_while_the_console_trains_leaves_no_model_and_no_picture(
    tmp_path: Path, held: HeldTraining
) -> None:
    c = console(tmp_path)
    relay = TeachRelay(c)
    relay.command("robot-01", ANA, "open")
    upload_three_signs(relay)
    assert held.started.wait(60)  # its pictures are written; the training is under way
    folder = tmp_path / "console" / "teach" / ANA
    assert list(folder.rglob("*.jpg"))
    relay.purge([ANA])
    held.go.set()
    relay.trainer.close()  # waits for the training under way
    assert held.closed == [True]  # the model trained for a purged student was dropped
    assert not relay.trainer.has_model(ANA)
    assert not folder.exists()
    assert not held.new_threads()


def test_closing_the_trainer_drops_the_trainings_still_queued(
    tmp_path: Path, held: HeldTraining
) -> None:
    c = console(tmp_path)
    relay = TeachRelay(c)
    for student in (ANA, BEN):
        relay.command("robot-01", student, "open")
        upload_three_signs(relay, student)
    assert held.started.wait(60)  # the first trains; the second waits its turn
    closing = threading.Thread(target=relay.trainer.close)
    closing.start()
    held.go.set()
    closing.join(60)
    assert not closing.is_alive()
    # the console is going: the model just trained is dropped (it lived in memory only)
    assert held.closed == [True] and not relay.trainer.has_model(ANA)
    assert not relay.trainer.has_model(BEN)
    assert not (tmp_path / "console" / "teach" / BEN).exists()  # never started
    assert not held.new_threads()


# -- a robot that was off during a purge: reconciled when it comes back on ------


def birth(device: str = "robot-01", session: str = "one", online: bool = True) -> DeviceState:
    return DeviceState(device=device, session=session, online=online, ts=time.time())


def sent_teach(c: Any, after: int) -> list[tuple[str, str, list[str]]]:
    """(device, op, students) of each teach command sent since ``after``."""
    found = []
    for topic, payload in c.sent[after:]:
        decoded = decode(c.topics, topic, payload, DropCounter())
        assert decoded is not None
        found.append((decoded[0].device, decoded[1].op, decoded[1].students))
    return found


def test_a_robot_back_on_purges_the_students_this_console_does_not_know(tmp_path: Path) -> None:
    zed = "s-00000000000000ff"  # never a student of this console
    with Database(tmp_path / "console.sqlite") as db:
        ana = db.rosters.add_student("Ana", "7A")
        ben = db.rosters.add_student("Ben", "7B")
        c = console(tmp_path)
        c.db.rosters = db.rosters
        relay = TeachRelay(c)
        relay.born(birth())
        assert sent_teach(c, 0) == [("robot-01", "held", [])]
        relay.born(birth())  # a later state of the same session: not asked again
        assert len(c.sent) == 1
        held = event("held", student=None, students=[ana, ben, zed], part=0, parts=1)
        assert relay.offer(held)
        assert sent_teach(c, 1) == [("robot-01", "purge", [zed])]  # that robot only
        assert not relay.offer(held)  # answered once: the same again is refused
        assert len(c.sent) == 2

        # class 7A purged while the robot was off (its last will, then the same session)
        relay.born(birth(online=False))
        db.rosters.purge("7A")
        relay.born(birth())
        assert sent_teach(c, 2) == [("robot-01", "held", [])]
        # an answer in two parts: each is reconciled, a third is refused
        assert relay.offer(event("held", student=None, students=[ana], part=0, parts=2))
        assert relay.offer(event("held", student=None, students=[ben], part=1, parts=2))
        assert not relay.offer(event("held", student=None, students=[zed], part=1, parts=2))
        assert sent_teach(c, 3) == [("robot-01", "purge", [ana])]

        # a new session (restarted) holding only known students: asked, nothing purged
        relay.born(birth(session="two"))
        assert relay.offer(event("held", student=None, students=[ben], part=0, parts=1))
        assert sent_teach(c, 4) == [("robot-01", "held", [])]


def test_a_hostile_held_report_is_bounded_and_refused(tmp_path: Path) -> None:
    c = console(tmp_path)
    looked: list[list[str]] = []

    def known(ids: list[str]) -> set[str]:
        looked.append(ids)
        return set()

    c.db.rosters = SimpleNamespace(known=known)
    relay = TeachRelay(c)
    many = [f"s-{n:016x}" for n in range(10_000)]
    # not asked: refused, whatever it says
    assert not relay.offer(event("held", student=None, students=many[:3], part=0, parts=1))
    relay.born(birth())
    # on the wire: 10k ids (~200 kB), or ids that are not pseudonyms, do not even decode
    topics, counter = c.topics, DropCounter()
    good = event("held", student=None, students=many[:3], part=0, parts=1)
    wrong = (many, many[: MAX_PURGE + 1], ["Ana Lopez"], ["../../etc"], [*many[:3], "s-XYZ"])
    for students in wrong:
        bad = {**json.loads(encode(good)), "students": students}
        assert decode(topics, topics.teach("robot-01"), json.dumps(bad).encode(), counter) is None
    assert counter.snapshot() == {"oversized": 1, "malformed": 4}  # 10k ids: too big to read
    # and the relay refuses them too, should one be made without checks
    for students in (many, many[: MAX_PURGE + 1], [many[0]] * 10_000, ["Ana Lopez"]):
        forged = TeachEvent.model_construct(**{**good.model_dump(), "students": students})
        assert not relay.offer(forged)
    # answers that are not the one asked for: another robot, too many parts, a part past the end
    assert not relay.offer(event("held", device="robot-02", student=None, students=many[:3],
                                 part=0, parts=1))  # fmt: skip
    assert not relay.offer(event("held", student=None, students=many[:3], part=0, parts=9))
    assert not relay.offer(event("held", student=None, students=many[:3], part=2, parts=2))
    assert looked == [] and len(c.sent) == 1  # the store was never asked; nothing purged
    # the real answer still counts: at most MAX_PURGE ids, purged on that robot only
    assert relay.offer(event("held", student=None, students=many[:MAX_PURGE], part=0, parts=1))
    assert looked == [many[:MAX_PURGE]]
    assert sent_teach(c, 1) == [("robot-01", "purge", many[:MAX_PURGE])]


def test_a_purge_the_console_could_not_send_is_reconciled_when_it_is_back(tmp_path: Path) -> None:
    """The console off the broker during a purge: when it is back, the robots' retained births
    come again, and those that missed the purge are asked what they hold."""
    with Database(tmp_path / "console.sqlite") as db:
        ana = db.rosters.add_student("Ana", "7A")
        c = console(tmp_path)
        c.db.rosters = db.rosters
        relay = TeachRelay(c)
        for device in ("robot-01", "robot-02"):
            relay.born(birth(device))
            assert relay.offer(event("held", device, None, students=[ana], part=0, parts=1))
        assert len(c.sent) == 2  # asked, and nothing to purge
        up = c.link.publish
        c.link.publish = lambda topic, payload: False  # off the broker
        db.rosters.purge("7A")
        relay.purge([ana])
        c.link.publish = up
        for device in ("robot-01", "robot-02"):  # back on the broker: the retained births again
            relay.born(birth(device))
        assert sent_teach(c, 2) == [("robot-01", "held", []), ("robot-02", "held", [])]
        assert relay.offer(event("held", "robot-02", None, students=[ana], part=0, parts=1))
        assert sent_teach(c, 4) == [("robot-02", "purge", [ana])]

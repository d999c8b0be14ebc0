"""fleet/console/store/models.py and a class's settings: the model shelf (the teacher's own
models and students' taught ones), the camera switch, and what a class purge deletes of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fleet.console.store import Database, ModelRecord
from models import SHIPPED_DIR
from tests.unit.test_store_students import every_value, file_bytes

SIGNS = (SHIPPED_DIR / "traffic-signs.yaml").read_text(encoding="utf-8")
SIGNS_SHA = "ffdaa1ecd552b846246a379a880df109b41893bc32d3690064e7535bdaa50c62"
MINE = SIGNS.replace("name: traffic-signs", "name: ana-signs-zq").replace(
    "file: traffic-signs.onnx", "file: ana-signs-zq.onnx"
)


def test_the_shelf_keeps_one_model_per_name_and_student_newest_first(db_url: str | Path) -> None:
    with Database(db_url) as db:
        assert db.models.list() == []
        assert db.models.get(SIGNS_SHA) is None
        ana = db.rosters.add_student("Ana", "7A")
        db.models.add("traffic-signs", SIGNS_SHA, 511704, SIGNS, None)
        db.models.add("ana-signs-zq", "a" * 64, 1000, MINE, ana)
        db.models.add("ana-signs-zq", "b" * 64, 2000, MINE, ana)  # a newer one replaces it
        db.models.add("traffic-signs", SIGNS_SHA, 511704, SIGNS, None)  # the teacher's, again
        shelf = db.models.list()
        assert [(m.name, m.sha256[:1], m.student) for m in shelf] == [
            ("traffic-signs", "f", None),
            ("ana-signs-zq", "b", "Ana"),
        ]
        teachers, anas = shelf
        assert isinstance(teachers, ModelRecord)
        assert teachers.task == "classify"
        assert teachers.labels[0] == {"id": "stop", "en": "Stop", "zh": "停车"}
        assert len(teachers.labels) == 20
        assert teachers.title == {"en": "Traffic signs and numbers", "zh": "交通标志和数字"}
        assert teachers.size == 511704 and teachers.student_id is None and teachers.roster is None
        assert teachers.manifest == SIGNS
        assert (anas.student_id, anas.roster, anas.size) == (ana, "7A", 2000)
        assert set(teachers.to_json()) == {
            "name", "sha256", "size", "student_id", "created", "task", "labels", "title",
            "student", "roster", "manifest",
        }  # fmt: skip
        got = db.models.get("b" * 64)
        assert got is not None and got.name == "ana-signs-zq" and got.student == "Ana"
        assert db.models.get("a" * 64) is None  # replaced
        # the same name for another student, and for the teacher, are other models
        bo = db.rosters.add_student("Bo", "7A")
        db.models.add("ana-signs-zq", "c" * 64, 10, MINE, bo)
        db.models.add("ana-signs-zq", "d" * 64, 10, MINE, None)
        assert len(db.models.list()) == 4


def test_a_shelf_row_with_an_unreadable_manifest_is_still_listed(db_url: str | Path) -> None:
    with Database(db_url) as db:
        db.models.add("odd", "e" * 64, 5, "name: [unclosed", None)
        (odd,) = db.models.list()
        assert (odd.name, odd.task, odd.labels, odd.title) == ("odd", None, [], None)


def test_the_camera_panel_is_on_until_the_teacher_turns_it_off(db_url: str | Path) -> None:
    with Database(db_url) as db:
        ana = db.rosters.add_student("Ana", "7A")
        db.rosters.add_student("Kai", "7B")
        assert db.classes.camera_panel("7A") and db.classes.camera_panel("no-such-class")
        period = db.classes.start_period("7A", "ms-li")
        token = db.classes.open_session(ana, period)
        session = db.classes.session(token)
        assert session is not None and session.camera_panel is True
        db.classes.set_camera_panel("7A", False)
        assert not db.classes.camera_panel("7A")
        assert db.classes.camera_panel("7B")  # one class only
        session = db.classes.session(token)
        assert session is not None and session.camera_panel is False
        assert session.to_json()["camera_panel"] is False
        db.classes.set_camera_panel("7A", True)
        assert db.classes.camera_panel("7A")
        session = db.classes.session(token)
        assert session is not None and session.camera_panel is True


def test_a_class_purge_deletes_its_students_models_and_its_settings(tmp_path: Path) -> None:
    path = tmp_path / "console.sqlite"
    with Database(path) as db:
        gone = db.rosters.add_student("Zhaoxiaoming Qwerty", "7-2")
        kept = db.rosters.add_student("Lileileilei Asdfgh", "7-3")
        db.models.add("gone-signs-zq", "a" * 64, 10, MINE.replace("ana-", "gone-"), gone)
        db.models.add("kept-signs", "b" * 64, 10, MINE, kept)
        db.models.add("traffic-signs", SIGNS_SHA, 511704, SIGNS, None)
        db.classes.set_camera_panel("7-2", False)
        db.classes.set_camera_panel("7-3", False)
        assert b"gone-signs-zq" in file_bytes(path)

        db.rosters.purge("7-2")

        assert sorted(m.name for m in db.models.list()) == ["kept-signs", "traffic-signs"]
        assert db.classes.camera_panel("7-2")  # a class made again starts from the defaults
        assert not db.classes.camera_panel("7-3")
    for table, column, value in every_value(path):
        assert gone not in str(value), (table, column)
        assert "gone-signs-zq" not in str(value), (table, column)
    assert b"gone-signs-zq" not in file_bytes(path)
    assert gone.encode() not in file_bytes(path)


def test_a_version_4_database_gets_the_shelf_and_the_settings(tmp_path: Path) -> None:
    from fleet.console.store import MIGRATIONS  # noqa: PLC0415

    path = tmp_path / "console.sqlite"
    old = sqlite3.connect(path, isolation_level=None)
    for number, statements in enumerate(MIGRATIONS[:4], start=1):
        for statement in statements:
            old.execute(statement)
        old.execute(f"PRAGMA user_version = {number}")
    old.execute("INSERT INTO students VALUES ('s-0123456789abcdef', 'Ana', '7A', 0)")
    old.close()
    with Database(path) as db:
        assert db.schema_version == 5
        assert db.models.list() == []
        assert db.classes.camera_panel("7A")

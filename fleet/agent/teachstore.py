"""Where a robot keeps the teach pictures: one folder per pseudonymous student, never a name.

::

    store = TeachStore(state_dir / "teach", models=device_cache(cache_dir))
    session = store.open("s-0123456789abcdef")
    session.add_label("stop", en="stop", zh="停车")
    session.dataset.add("stop", frame)
    store.purge(["s-0123456789abcdef"])      # pictures, labels and the models it deployed

On disk: ``<state_dir>/teach/<student id>/`` holds ``labels.json`` (the labels'
order and names), ``models.json`` (the models this student deployed on this
robot) and ``pictures/`` (a :class:`vision.teach.Dataset`). Nothing here logs
a picture or sends one anywhere.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from fleet.core.teach import LABEL_PATTERN, MAX_LABELS, STUDENT_PATTERN, LabelInfo
from rcbase.files import write_atomic

__all__ = ["TeachSession", "TeachStore"]

logger = logging.getLogger(__name__)

_STUDENT = re.compile(STUDENT_PATTERN)
_LABEL = re.compile(LABEL_PATTERN)
DATASET = "pictures"


class TeachSession:
    """One student's labels, pictures and deployed models on this robot."""

    def __init__(self, folder: Path, student: str) -> None:
        from vision.teach import Dataset  # noqa: PLC0415 - OpenCV loads only when teaching

        self.folder = folder
        self.student = student
        self.dataset = Dataset(DATASET, root=folder)
        self._labels: list[dict[str, str]] = self._read("labels.json", [])
        for label in self.dataset.labels:  # pictures whose label the list lost
            if not any(x["id"] == label for x in self._labels):
                names = self.dataset.names(label)
                self._labels.append({"id": label, "en": names.en[:24], "zh": names.zh[:24]})

    def _read(self, name: str, default: Any) -> Any:
        path = self.folder / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return default
        except (OSError, ValueError) as exc:
            logger.warning(
                "teach: %s of a student is unreadable (%s): starting it again", name, exc
            )
            return default

    def _write(self, name: str, data: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomic(self.folder / name, json.dumps(data, ensure_ascii=False).encode(), 0o600)

    # -- labels --------------------------------------------------------------

    def names(self, label: str) -> dict[str, str] | None:
        return next((x for x in self._labels if x["id"] == label), None)

    def add_label(self, label: str, *, en: str | None, zh: str | None) -> bool:
        """Add ``label`` or rename it; False when there are already :data:`MAX_LABELS`."""
        if not _LABEL.match(label):
            return False
        found = self.names(label)
        if found is None:
            if len(self._labels) >= MAX_LABELS:
                return False
            found = {"id": label, "en": en or label, "zh": zh or en or label}
            self._labels.append(found)
        else:
            found["en"], found["zh"] = en or found["en"], zh or found["zh"]
            if label in self.dataset.labels:
                self.dataset.rename(label, en=found["en"], zh=found["zh"])
        self._write("labels.json", self._labels)
        return True

    def remove_label(self, label: str) -> None:
        self.dataset.remove(label)
        self._labels = [x for x in self._labels if x["id"] != label]
        self._write("labels.json", self._labels)

    def labels(self) -> list[LabelInfo]:
        pictures: dict[str, list[str]] = {x["id"]: [] for x in self._labels}
        for file, label in self.dataset.files():
            pictures.setdefault(label, []).append(file.removesuffix(".jpg"))
        return [
            LabelInfo(id=x["id"], en=x["en"], zh=x["zh"], pictures=pictures.get(x["id"], []))
            for x in self._labels
        ]

    # -- models --------------------------------------------------------------

    def models(self) -> list[str]:
        found = self._read("models.json", [])
        return [str(x) for x in found] if isinstance(found, list) else []

    def deployed(self, name: str) -> None:
        names = self.models()
        if name not in names:
            self._write("models.json", [*names, name])


class TeachStore:
    """Every student's teach folder on this robot, under ``root``; ``models``: the device cache."""

    def __init__(self, root: Path, models: Path) -> None:
        self.root = root
        self.models = models

    def folder(self, student: str) -> Path:
        if not _STUDENT.match(student):
            raise ValueError("not a pseudonymous student id")
        return self.root / student

    def open(self, student: str) -> TeachSession:
        return TeachSession(self.folder(student), student)

    def students(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _STUDENT.match(p.name))

    def purge(self, students: list[str]) -> int:
        """Delete these students' pictures, labels and the models they deployed here."""
        gone = 0
        for student in students:
            folder = self.folder(student)
            if not folder.exists():
                continue
            for name in TeachSession(folder, student).models():
                for suffix in (".yaml", ".onnx"):
                    (self.models / f"{name}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            gone += 1
        if gone:
            logger.info("teach: purged the pictures and models of %d students", gone)
        return gone

"""The console's model shelf: the models a teacher uploaded and the ones students taught.

A model's bytes are a content-addressed file in the console's bundle store
(:class:`fleet.core.bundles.BundleStore`); the shelf keeps its name, sha256,
size and manifest (YAML text, checked before it is added), and whose it is::

    db.models.add("my-signs", sha, 750_000, manifest_text, student_id)  # a newer one replaces it
    db.models.list()        # [ModelRecord(name="my-signs", task="classify", student="Ana", ...)]
    db.models.get(sha)      # the newest model with that file (and its manifest), else None

There is one model of a name per student, and one of the teacher's. A class
purge (:meth:`fleet.console.store.rosters.RosterStore.purge`) deletes its
students' models from the shelf.
"""

from __future__ import annotations

import builtins
import logging
import time

from fleet.console.store.records import ModelRecord
from fleet.console.store.sql import Connection, Row
from models import ManifestError, parse_manifest

__all__ = ["ModelStore"]

logger = logging.getLogger(__name__)

_SELECT = (
    "SELECT m.name, m.sha256, m.size, m.manifest, m.student_id, m.created, "
    "s.name AS student, s.roster AS roster FROM models m "
    "LEFT JOIN students s ON s.id = m.student_id"
)


def _model(r: Row) -> ModelRecord:
    task: str | None = None
    labels: list[dict[str, str]] = []
    title: dict[str, str] | None = None
    try:
        manifest = parse_manifest(r["manifest"], source=f"shelf model {r['name']}")
    except ManifestError:
        logger.warning("the shelf's manifest of %s cannot be read", r["name"])
    else:
        task = manifest.task.value
        labels = [{"id": x.id, "en": x.en, "zh": x.zh} for x in manifest.labels]
        title = {"en": manifest.title.en, "zh": manifest.title.zh}
    return ModelRecord(
        name=r["name"],
        sha256=r["sha256"],
        size=r["size"],
        student_id=r["student_id"],
        created=r["created"],
        task=task,
        labels=labels,
        title=title,
        student=r["student"],
        roster=r["roster"],
        manifest=r["manifest"],
    )


class ModelStore:
    """``models``: the shelf, one row per (name, student)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, name: str, sha256: str, size: int, manifest: str, student_id: str | None) -> None:
        """Put a model on the shelf; it replaces the one of that name and student."""
        self._db.execute(
            "INSERT INTO models (name, sha256, size, manifest, student_id, created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name, coalesce(student_id, '')) DO UPDATE "
            "SET sha256 = excluded.sha256, size = excluded.size, manifest = excluded.manifest, "
            "created = excluded.created",
            (name, sha256, size, manifest, student_id, time.time()),
        )

    def list(self) -> builtins.list[ModelRecord]:
        """Every model on the shelf, newest first."""
        return [_model(r) for r in self._db.rows(f"{_SELECT} ORDER BY m.created DESC, m.name")]

    def get(self, sha256: str) -> ModelRecord | None:
        """The newest model whose file is ``sha256``, else ``None``."""
        rows = self._db.rows(f"{_SELECT} WHERE m.sha256 = ? ORDER BY m.created DESC", (sha256,))
        return _model(rows[0]) if rows else None

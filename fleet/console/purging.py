"""A class's purge: its students, results, jobs and kept log lines deleted, audited, and the
places that hold copies told (the robots' teach folders, the district).

``Console.purge`` calls :func:`purge_class`; whoever keeps a copy of a class's data adds a
hook to ``console.purge_hooks``: it is called with the purged students' ids (their rows are
gone by then, so the ids are read first).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fleet.console.store import AuditAction, Purged

if TYPE_CHECKING:
    from fleet.console.console import Console

__all__ = ["purge_class"]

logger = logging.getLogger(__name__)


def purge_class(console: Console, roster: str, by: str) -> Purged:
    """Delete class ``roster``'s data, audited as done ``by`` a teacher; then call the hooks."""
    students = [s.id for s in console.db.rosters.students(roster)]  # before they are gone
    purged = console.db.rosters.purge(roster)
    console.forget_devices(purged.devices)
    console.db.audit.add(
        by,
        AuditAction.PURGE,
        roster=roster,
        students=purged.students,
        results=purged.results,
        jobs=purged.jobs,
    )
    logger.warning(
        "class %r purged by %s: %d students, %d results",
        roster,
        by,
        purged.students,
        purged.results,
    )
    for hook in list(console.purge_hooks):
        hook(students)
    console.notify()
    return purged

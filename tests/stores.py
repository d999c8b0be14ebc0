"""The console's store on each engine: the ``db_url`` fixture.

``db_url`` is an SQLite file's path, then a fresh database's URL on the
session's real PostgreSQL (:mod:`tests.postgres`); a test that takes it runs
once per engine. The PostgreSQL run is marked ``integration`` (a real
server: ``make test`` runs it, ``make test-unit`` does not) and fails under
``CI=true`` when PostgreSQL is not installed::

    # tests/unit/conftest.py and tests/integration/conftest.py import the fixtures

    def test_x(db_url: str | Path) -> None:
        with Database(db_url) as db: ...
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.postgres import TempPostgres, postgres

__all__ = ["ENGINES", "db_url", "postgres"]

#: The engines, as ``db_url``'s parameters.
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """An empty store: an SQLite file's path, or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return tmp_path / "console.sqlite"
    server: TempPostgres = request.getfixturevalue("postgres")
    return server.fresh_database()

"""Fixtures of the unit tests: ``db_url`` runs a store test on SQLite and on PostgreSQL
(:mod:`tests.stores`)."""

from tests.stores import db_url, postgres

__all__ = ["db_url", "postgres"]

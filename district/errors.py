"""Errors raised by ``district``.

::

    DistrictError
     ├── StoreError (also RuntimeError): the district's PostgreSQL cannot be used
     │    └── SchemaTooNew: the database was migrated by a newer RoboClass
     ├── SchoolError (also ValueError): a school, its key or its certificate is refused
     └── StaffError (also ValueError): a staff account cannot be made
"""

from __future__ import annotations

__all__ = ["DistrictError", "SchemaTooNew", "SchoolError", "StaffError", "StoreError"]


class DistrictError(Exception):
    """Root of every error ``district`` raises; messages say what to do next in en and zh."""


class StoreError(DistrictError, RuntimeError):
    """The district's PostgreSQL cannot be reached or used."""


class SchemaTooNew(StoreError):
    """A domain of the database has a newer version than this RoboClass knows."""


class SchoolError(DistrictError, ValueError):
    """A school, its public key or its certificate is refused."""


class StaffError(DistrictError, ValueError):
    """A district staff account cannot be made (a name or password refused)."""

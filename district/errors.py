"""Errors raised by ``district``.

::

    DistrictError
     ├── StoreError (also RuntimeError): the district's PostgreSQL cannot be used
     │    └── SchemaTooNew: the database was migrated by a newer RoboClass
     ├── SchoolError (also ValueError): a school, its key or its certificate is refused
     ├── StaffError (also ValueError): a staff account cannot be made
     └── LibraryError (also ValueError): a lesson or challenge of the library is refused
"""

from __future__ import annotations

from rcbase.i18n import Text

__all__ = [
    "DistrictError",
    "LibraryError",
    "SchemaTooNew",
    "SchoolError",
    "StaffError",
    "StoreError",
]


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


class LibraryError(DistrictError, ValueError):
    """A lesson of the district's library, a school's submission or a challenge is refused;
    ``text`` says why and what to do next."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.text = Text(en, zh)

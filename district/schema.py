"""The district's tables, one list of migrations per domain (:func:`district.migrate.migrate`).

Nothing here holds a student's name: a result names its student by the
school's pseudonym for the district (docs/security.md, PIPL minimisation).
Times are seconds since the epoch (``DOUBLE PRECISION``), as in the console.
"""

from __future__ import annotations

__all__ = ["DOMAINS", "LIVE", "RESULTS", "SCHOOLS", "STAFF"]

#: Schools, their rooms and the public keys their consoles sign with.
SCHOOLS: list[list[str]] = [
    [
        """CREATE TABLE schools (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            added DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE school_keys (
            kid TEXT PRIMARY KEY,
            school TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
            public_key TEXT NOT NULL UNIQUE,
            added DOUBLE PRECISION NOT NULL,
            retired DOUBLE PRECISION
        )""",
        "CREATE INDEX school_keys_school ON school_keys (school)",
        """CREATE TABLE rooms (
            school TEXT NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
            room TEXT NOT NULL,
            first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (school, room)
        )""",
    ],
]

#: Pseudonymous results, each once (by the result id the robot made).
RESULTS: list[list[str]] = [
    [
        """CREATE TABLE results (
            id BIGSERIAL PRIMARY KEY,
            result_id TEXT NOT NULL UNIQUE,
            school TEXT NOT NULL,
            room TEXT NOT NULL,
            class TEXT NOT NULL,
            student TEXT NOT NULL,
            grade_band TEXT NOT NULL,
            lesson_id TEXT NOT NULL,
            score DOUBLE PRECISION,
            status TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            received DOUBLE PRECISION NOT NULL,
            challenge TEXT
        )""",
        "CREATE INDEX results_school_lesson ON results (school, lesson_id)",
        "CREATE INDEX results_lesson_band ON results (lesson_id, grade_band)",
        "CREATE INDEX results_challenge ON results (challenge) WHERE challenge IS NOT NULL",
        "CREATE INDEX results_received ON results (received)",
    ],
    [
        # A student a school deleted (a class purged there): pseudonyms only, never a name.
        # A result of theirs that comes after (a late resend) is not stored.
        """CREATE TABLE purged (
            school TEXT NOT NULL,
            student TEXT NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (school, student)
        )""",
        "CREATE INDEX results_school_student ON results (school, student)",
    ],
]

#: The newest live counts of each school's room (robots online, lessons running).
LIVE: list[list[str]] = [
    [
        """CREATE TABLE live (
            school TEXT NOT NULL,
            room TEXT NOT NULL,
            robots_online INTEGER NOT NULL,
            robots_known INTEGER NOT NULL,
            lessons_running INTEGER NOT NULL,
            at DOUBLE PRECISION NOT NULL,
            received DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (school, room)
        )""",
    ],
]

#: District staff and their logins (argon2id hashes; tokens stored as sha256).
STAFF: list[list[str]] = [
    [
        """CREATE TABLE staff (
            name TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            created DOUBLE PRECISION NOT NULL
        )""",
        """CREATE TABLE staff_tokens (
            token_sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL REFERENCES staff (name) ON DELETE CASCADE,
            created DOUBLE PRECISION NOT NULL,
            expires DOUBLE PRECISION NOT NULL
        )""",
    ],
]

#: Every domain of this module, in the order they are migrated.
DOMAINS: dict[str, list[list[str]]] = {
    "schools": SCHOOLS,
    "results": RESULTS,
    "live": LIVE,
    "staff": STAFF,
}

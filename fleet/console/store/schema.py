"""The console database's schema, as numbered migrations (``PRAGMA user_version``).

Migration *n* takes a database from version *n-1* to *n*; :class:`fleet.console.store.Database`
runs the missing ones in order, each in one transaction. Never edit a
migration that has shipped: add the next one.

On PostgreSQL a database starts at :data:`POSTGRES_BASE` (version
:data:`POSTGRES_BASE_VERSION`, the same tables in PostgreSQL's words), then
runs the migrations after it. Write a new migration once, in the portable
subset (``TEXT``/``REAL``/``INTEGER``/``BLOB``, ``CREATE TABLE``/``INDEX``,
``ALTER TABLE ... ADD COLUMN``, ``UPDATE`` with ``?`` marks, no ``PRAGMA``):
:func:`fleet.console.store.postgres.to_postgres` says it for PostgreSQL.
Only a migration that cannot be said so needs its PostgreSQL text in
:data:`POSTGRES_ONLY`, under its number.

- 1: devices, jobs, results, teachers, tokens, the e-stop.
- 2: pseudonymous students (names move from ``devices.student`` and
  ``results.student`` into ``students``, under a random id, in the class
  ``default``); jobs remember their student; tokens expire (old logins 12 h
  after they were made); the audit log.
- 3: jobs found by (device, created).
- 4: the student's side: class periods (a join code), students' PINs and
  sessions, their code (autosaved versions per lesson) and hand-ins (the
  exact code a result was earned with).
- 5: the console's model shelf (models the teacher uploaded, and students' taught
  models); a class's settings (whether its students get a camera panel).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "POSTGRES_BASE", "POSTGRES_BASE_VERSION", "POSTGRES_ONLY"]

MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE devices (
            device TEXT PRIMARY KEY, session TEXT, online INTEGER NOT NULL DEFAULT 0,
            kit TEXT, backend TEXT, battery REAL, estopped INTEGER NOT NULL DEFAULT 0,
            job TEXT, preflight TEXT, versions TEXT, student TEXT,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL)""",
        """CREATE TABLE jobs (
            job TEXT PRIMARY KEY, device TEXT NOT NULL, lesson_id TEXT NOT NULL,
            sha256 TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, doc TEXT NOT NULL,
            created REAL NOT NULL, updated REAL NOT NULL)""",
        "CREATE INDEX jobs_device_status ON jobs (device, status)",
        """CREATE TABLE results (
            result_id TEXT PRIMARY KEY, job TEXT NOT NULL UNIQUE, device TEXT NOT NULL,
            student TEXT, lesson_id TEXT, status TEXT NOT NULL, score REAL,
            result TEXT NOT NULL, received REAL NOT NULL)""",
        """CREATE TABLE teachers (
            username TEXT PRIMARY KEY, pwhash TEXT NOT NULL, created REAL NOT NULL)""",
        """CREATE TABLE tokens (
            token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, name TEXT NOT NULL,
            created REAL NOT NULL)""",
        """CREATE TABLE estop (
            id INTEGER PRIMARY KEY CHECK (id = 1), active INTEGER NOT NULL,
            epoch INTEGER NOT NULL, by TEXT NOT NULL, ts REAL NOT NULL)""",
    ],
    [  # 2: pseudonymous students; token expiry; the audit log
        """CREATE TABLE students (
            id TEXT PRIMARY KEY, name TEXT NOT NULL, roster TEXT NOT NULL,
            created REAL NOT NULL, UNIQUE (roster, name))""",
        """INSERT INTO students (id, name, roster, created)
           SELECT 's-' || lower(hex(randomblob(8))), name, 'default',
                  (julianday('now') - 2440587.5) * 86400.0
           FROM (SELECT student AS name FROM devices WHERE student IS NOT NULL
                 UNION SELECT student FROM results WHERE student IS NOT NULL)""",
        """CREATE TABLE devices2 (
            device TEXT PRIMARY KEY, session TEXT, online INTEGER NOT NULL DEFAULT 0,
            kit TEXT, backend TEXT, battery REAL, estopped INTEGER NOT NULL DEFAULT 0,
            job TEXT, preflight TEXT, versions TEXT, student_id TEXT,
            first_seen REAL NOT NULL, last_seen REAL NOT NULL)""",
        """INSERT INTO devices2 SELECT device, session, online, kit, backend, battery, estopped,
            job, preflight, versions,
            (SELECT id FROM students s WHERE s.name = d.student AND s.roster = 'default'),
            first_seen, last_seen FROM devices d""",
        "DROP TABLE devices",
        "ALTER TABLE devices2 RENAME TO devices",
        """CREATE TABLE results2 (
            result_id TEXT PRIMARY KEY, job TEXT NOT NULL UNIQUE, device TEXT NOT NULL,
            student_id TEXT, lesson_id TEXT, status TEXT NOT NULL, score REAL,
            result TEXT NOT NULL, received REAL NOT NULL)""",
        """INSERT INTO results2 SELECT result_id, job, device,
            (SELECT id FROM students s WHERE s.name = r.student AND s.roster = 'default'),
            lesson_id, status, score, result, received FROM results r""",
        "DROP TABLE results",
        "ALTER TABLE results2 RENAME TO results",
        "CREATE INDEX results_student ON results (student_id)",
        "ALTER TABLE jobs ADD COLUMN student_id TEXT",
        "ALTER TABLE tokens ADD COLUMN expires REAL",
        "UPDATE tokens SET expires = created + 43200.0 WHERE name = 'login'",  # LOGIN_TTL_S
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, who TEXT NOT NULL,
            action TEXT NOT NULL, detail TEXT NOT NULL)""",
    ],
    [  # 3: a job's status changes with each result; an index holding it made each change
        # cost twice as much. A device's jobs are found by (device, created) instead.
        "DROP INDEX jobs_device_status",
        "CREATE INDEX jobs_device_created ON jobs (device, created)",
    ],
    [  # 4: the student's side
        """CREATE TABLE periods (
            id TEXT PRIMARY KEY, roster TEXT NOT NULL, code TEXT NOT NULL,
            lesson_id TEXT, started REAL NOT NULL, ends REAL NOT NULL, ended REAL,
            teacher TEXT NOT NULL)""",
        "CREATE INDEX periods_code ON periods (code)",
        """CREATE TABLE student_pins (
            student_id TEXT PRIMARY KEY, pin_hash TEXT NOT NULL, kind TEXT NOT NULL,
            updated REAL NOT NULL)""",
        """CREATE TABLE student_sessions (
            token_hash TEXT PRIMARY KEY, student_id TEXT NOT NULL, period_id TEXT NOT NULL,
            created REAL NOT NULL, expires REAL NOT NULL)""",
        """CREATE TABLE student_code (
            student_id TEXT NOT NULL, lesson_id TEXT NOT NULL, version INTEGER NOT NULL,
            code TEXT NOT NULL, saved REAL NOT NULL, blocks TEXT,
            PRIMARY KEY (student_id, lesson_id, version))""",
        """CREATE TABLE handins (
            id TEXT PRIMARY KEY, student_id TEXT NOT NULL, lesson_id TEXT NOT NULL,
            place TEXT NOT NULL, job TEXT NOT NULL UNIQUE, code_sha256 TEXT NOT NULL,
            code TEXT NOT NULL, created REAL NOT NULL)""",
        "CREATE INDEX handins_student ON handins (student_id, lesson_id)",
    ],
    [  # 5: the model shelf; a class's settings
        """CREATE TABLE models (
            name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
            manifest TEXT NOT NULL, student_id TEXT, created REAL NOT NULL)""",
        # one model of a name per student, and one the teacher's (student_id NULL)
        "CREATE UNIQUE INDEX models_name_student ON models (name, coalesce(student_id, ''))",
        "CREATE INDEX models_sha256 ON models (sha256)",
        """CREATE TABLE class_settings (
            roster TEXT PRIMARY KEY, camera_panel INTEGER NOT NULL DEFAULT 1)""",
    ],
]

#: The migration :data:`POSTGRES_BASE` brings a new PostgreSQL database to.
POSTGRES_BASE_VERSION = 4

#: The schema of :data:`MIGRATIONS` 1 to 4, for PostgreSQL: the same tables, columns in
#: the same order (``SELECT *`` and ``INSERT ... VALUES`` rely on it), the same indexes
#: (tests/unit/test_store_engines.py compares them with SQLite's). ``jobs`` and
#: ``results`` have SQLite's ``rowid`` as a column: the order rows were made in, for
#: rows made at one time.
POSTGRES_BASE: list[str] = [
    """CREATE TABLE devices (
        device TEXT PRIMARY KEY, session TEXT, online INTEGER NOT NULL DEFAULT 0,
        kit TEXT, backend TEXT, battery DOUBLE PRECISION, estopped INTEGER NOT NULL DEFAULT 0,
        job TEXT, preflight TEXT, versions TEXT, student_id TEXT,
        first_seen DOUBLE PRECISION NOT NULL, last_seen DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE jobs (
        job TEXT PRIMARY KEY, device TEXT NOT NULL, lesson_id TEXT NOT NULL,
        sha256 TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, doc TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL, student_id TEXT,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY)""",
    "CREATE INDEX jobs_device_created ON jobs (device, created)",
    """CREATE TABLE results (
        result_id TEXT PRIMARY KEY, job TEXT NOT NULL UNIQUE, device TEXT NOT NULL,
        student_id TEXT, lesson_id TEXT, status TEXT NOT NULL, score DOUBLE PRECISION,
        result TEXT NOT NULL, received DOUBLE PRECISION NOT NULL,
        rowid BIGINT GENERATED ALWAYS AS IDENTITY)""",
    "CREATE INDEX results_student ON results (student_id)",
    """CREATE TABLE teachers (
        username TEXT PRIMARY KEY, pwhash TEXT NOT NULL, created DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE tokens (
        token_hash TEXT PRIMARY KEY, username TEXT NOT NULL, name TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION)""",
    """CREATE TABLE estop (
        id INTEGER PRIMARY KEY CHECK (id = 1), active INTEGER NOT NULL,
        epoch INTEGER NOT NULL, by TEXT NOT NULL, ts DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE students (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, roster TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL, UNIQUE (roster, name))""",
    """CREATE TABLE audit (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, ts DOUBLE PRECISION NOT NULL,
        who TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL)""",
    *MIGRATIONS[3],  # 4 is portable as it stands
]

#: PostgreSQL's own text of a migration after :data:`POSTGRES_BASE_VERSION` that
#: the portable subset cannot say (none so far), by its number.
POSTGRES_ONLY: dict[int, list[str]] = {}

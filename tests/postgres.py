"""A real PostgreSQL server for the tests, in a temporary folder (as the tests start Mosquitto).

``TempPostgres(folder)`` runs ``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package on 127.0.0.1 at a free port, with ``trust`` for
loopback only, and makes one database. PostgreSQL refuses to run as root, so
as root the server runs as the unprivileged ``postgres`` user (Debian's
package makes it) or ``nobody``. ``url`` is what ``psycopg.connect`` takes.

The ``postgres`` fixture gives one server per test session (a database per
test would cost a second each); ``fresh_database()`` makes an empty database
on it for a test that needs one.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, missing

__all__ = ["TempPostgres", "pg_bin"]

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin() -> Path:
    """The folder with ``initdb`` and ``pg_ctl`` (the newest installed major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    for folder in reversed(found):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).parent
    missing(
        "PostgreSQL's initdb/pg_ctl not found: install the Debian package postgresql (make system-deps)"
    )


def _server_user() -> str | None:
    """Who runs the server: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    missing("running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL")


class TempPostgres:
    """One PostgreSQL server in ``folder``; ``close()`` stops it (and ``with``)."""

    def __init__(
        self, folder: Path, *, database: str = "roboclass", user: str = "roboclass"
    ) -> None:
        self.bin = pg_bin()
        self.folder = folder
        self.port = free_port()
        self.user = user
        self.database = database
        self._runas = _server_user()
        self.data = folder / "data"
        self.log = folder / "postgres.log"
        folder.mkdir(parents=True, exist_ok=True)
        if self._runas is not None:
            entry = pwd.getpwnam(self._runas)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
            folder.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{folder}'\nfsync = off\n"
                "full_page_writes = off\nsynchronous_commit = off\nmax_connections = 200\n"
            )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")
        self._started = True
        self.create_database(database)

    @property
    def url(self) -> str:
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Make an empty database ``name``; its URL."""
        psql = (
            self.bin / "psql"
            if (self.bin / "psql").exists()
            else Path(shutil.which("psql") or "psql")
        )
        subprocess.run(
            [str(psql), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "postgres",
             "-v", "ON_ERROR_STOP=1", "-q", "-c", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return self.url_for(name)

    def fresh_database(self) -> str:
        """An empty database with a new name; its URL."""
        return self.create_database(f"t_{uuid.uuid4().hex[:12]}")

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._runas is not None:
            command = ["runuser", "-u", self._runas, "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr}\n{log}")

    def close(self) -> None:
        if getattr(self, "_started", False):
            self._started = False
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __enter__(self) -> TempPostgres:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """One real PostgreSQL server for the whole test session."""
    folder = Path(tempfile.mkdtemp(prefix="roboclass-pg-"))
    if os.geteuid() == 0:
        folder.chmod(0o711)
    server = TempPostgres(folder / "pg")
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(folder, ignore_errors=True)

"""The console's result ingest on SQLite and on PostgreSQL, on this machine.

What the console's writer thread does for each batch of results (its group
commit: ``Console._store_results``): the job guard looks up the jobs' owners,
then ``db.results.add_many`` stores the batch and moves its jobs on, in one
transaction. This times that path for ``--results`` results over 40 robots,
in batches of 256 (a burst: the writer's ``RESULT_BATCH``) and of 1 (a
trickle: one transaction a result), on a new SQLite file (WAL,
``synchronous=NORMAL``, as the console opens it) and a new PostgreSQL
database (one connection, as the console holds it), in alternating turns;
results per second, the median of ``--rounds`` turns, and PostgreSQL /
SQLite.

PostgreSQL is the server ``tests/postgres.py`` starts, made durable for the
bench (``fsync`` and ``full_page_writes`` on), measured twice: with
``synchronous_commit = off`` (a crash loses the last moments, never
consistency: what SQLite's ``synchronous=NORMAL`` promises) and ``on``
(PostgreSQL's default: each commit waits for its write-ahead log on disk).
``--url`` measures a server of your own instead (a new database is made on
it for each turn and dropped after).

    .venv/bin/python bench/store_engines.py [--results 5000] [--rounds 5] [--markdown]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from report import ROOT, print_markdown

sys.path.insert(0, str(ROOT))

import psycopg

from fleet.console.jobguard import JobGuard
from fleet.console.store import Database
from fleet.core.protocol import DropCounter, JobResult, Status

ROBOTS = 40
SHA = "0" * 64


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="rc-bench-") as folder:
        yield str(Path(folder) / "console.sqlite")


def _postgres(server: str, synchronous_commit: str) -> Callable[[], object]:
    """A context maker: a new database on ``server`` (its URL), dropped after."""

    @contextmanager
    def fresh() -> Iterator[str]:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        base, _, _ = server.rpartition("/")
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            admin.execute(
                f"ALTER DATABASE \"{name}\" SET synchronous_commit = '{synchronous_commit}'"
            )
        try:
            yield f"{base}/{name}"
        finally:
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    return fresh


def _results(count: int) -> list[JobResult]:
    return [
        JobResult(
            device=f"r{n % ROBOTS:02d}",
            job=f"j{n:06d}",
            result_id=f"x{n:06d}",
            status=Status.SUCCEEDED,
            result={"status": "passed", "score": n % 100, "steps": list(range(8))},
            ts=0.0,
        )
        for n in range(count)
    ]


def ingest(store: str, count: int, batch: int) -> float:
    """Results per second through the writer's path, into a store that has their jobs."""
    results = _results(count)
    with Database(store) as db:
        db.jobs.add_many([(m.job, m.device, "line-follower", SHA, "{}") for m in results])
        guard = JobGuard(db.jobs.owners, DropCounter())
        start = time.perf_counter()
        for first in range(0, count, batch):
            part = results[first : first + batch]
            owners = guard.owners(m.job for m in part)
            mine = [m for m in part if guard.judge(m.device, m.job, owners.get(m.job), "result")]
            added = db.results.add_many(mine)
            assert all(added), "every result is new"
        elapsed = time.perf_counter() - start
        assert len(db.results.list()) == count
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=5000)
    parser.add_argument("--trickle", type=int, default=500, help="results in batches of 1")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", default=None, help="a PostgreSQL server of your own")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()

    server = None
    if args.url is None:
        from tests.postgres import TempPostgres  # noqa: PLC0415 - the tests' own server

        folder = Path(tempfile.mkdtemp(prefix="rc-bench-pg-"))
        folder.chmod(0o711)  # as root the server runs as postgres: it must pass through
        server = TempPostgres(folder / "pg")
        with psycopg.connect(server.url, autocommit=True) as admin:
            admin.execute("ALTER SYSTEM SET fsync = on")
            admin.execute("ALTER SYSTEM SET full_page_writes = on")
            admin.execute("SELECT pg_reload_conf()")
    url = args.url or (server.url if server else "")
    engines: dict[str, Callable[[], object]] = {
        "SQLite (WAL, synchronous=NORMAL)": _sqlite,
        "PostgreSQL, synchronous_commit off": _postgres(url, "off"),
        "PostgreSQL, synchronous_commit on": _postgres(url, "on"),
    }
    cases = [(256, args.results), (1, args.trickle)]
    figures: dict[tuple[str, int], list[float]] = {}
    loads = [_load()]
    try:
        for _ in range(args.rounds):
            for batch, count in cases:
                for name, fresh in engines.items():
                    with fresh() as store:  # type: ignore[attr-defined]
                        figures.setdefault((name, batch), []).append(ingest(store, count, batch))
            loads.append(_load())
    finally:
        if server is not None:
            server.close()
            shutil.rmtree(server.folder.parent, ignore_errors=True)
    rows = []
    for batch, count in cases:
        base = statistics.median(figures[(next(iter(engines)), batch)])
        for name in engines:
            runs = figures[(name, batch)]
            median = statistics.median(runs)
            rows.append(
                [
                    f"{name}, batches of {batch}",
                    f"{count}",
                    f"{median:.0f} per s",
                    f"{min(runs):.0f}-{max(runs):.0f}",
                    f"{median / base:.2f}x",
                ]
            )
    notes = [f"load (1/5/15 min) before and after each round: {', '.join(loads)}"]
    if args.markdown:
        columns = ["store", "results", "ingest (median)", "range", "vs SQLite"]
        print_markdown(columns, rows, notes=notes)
    else:
        for row in rows:
            print(" | ".join(row))
        print(notes[0])


if __name__ == "__main__":
    main()

"""The console's JSON API over HTTP, with agents fetching a large bundle from it."""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fleet.broker.embedded import EmbeddedBroker
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import Database
from fleet.core.bundles import INLINE_LIMIT
from tests.integration.test_fleet_support import Room, wait_until

pytestmark = pytest.mark.integration


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    token: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/octet-stream" if raw else "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            kind = response.headers.get("content-type", "")
            return response.status, json.loads(text) if "json" in kind else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode() or "null")


def test_api_login_push_results_and_csv(tmp_path: Path, db_url: str | Path) -> None:
    """On SQLite and on PostgreSQL (``db_url``): the store behind the whole API."""
    with EmbeddedBroker() as broker:
        console = Console(
            ConsoleConfig(broker.host, broker.port, tmp_path / "console", keepalive=2),
            Database(db_url),
        )
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        r = Room(console, broker.host, broker.port, tmp_path)
        try:
            assert console.wait_connected(10)
            key = tmp_path / "console" / "signing-key.pem"
            assert oct(os.stat(key).st_mode & 0o777) == "0o600"
            api = f"{server.url}/api/v1"
            status, health = call(f"{api}/health")
            assert status == 200
            assert health["teachers"] is False  # no default account
            assert call(f"{api}/devices")[0] == 401
            assert call(f"{api}/devices", token="made-up")[0] == 401
            console.db.accounts.add_teacher("ms-li", "a long secret")
            assert call(f"{api}/login", "POST", {"username": "ms-li", "password": "x"})[0] == 401
            _, login = call(
                f"{api}/login", "POST", {"username": "ms-li", "password": "a long secret"}
            )
            token = login["token"]
            for name in ("r00", "r01"):
                r.agent(name)
            wait_until(lambda: len(call(f"{api}/devices", token=token)[1]) == 2, 10, "two devices")
            assert (
                call(f"{api}/devices/r00/student", "PUT", {"student": "Wang Fang"}, token)[0] == 200
            )
            assert call(f"{api}/devices/nope/student", "PUT", {"student": "x"}, token)[0] == 404
            # a bundle too large to go inline: the agents fetch it over HTTP by sha256
            big = b"steps:5\n" + b"#" * (INLINE_LIMIT + 10)
            status, uploaded = call(f"{api}/bundles", "POST", raw=big, token=token)
            assert status == 200
            sha = uploaded["sha256"]
            status, fetched = call(f"{server.url}/bundles/{sha}")
            assert status == 200 and len(fetched) == len(big)
            assert call(f"{server.url}/bundles/{'0' * 64}")[0] == 404
            status, pushed = call(
                f"{api}/push", "POST", {"lesson": sha, "lesson_id": "drive-5"}, token
            )
            assert status == 200 and len(pushed["jobs"]) == 2
            wait_until(lambda: len(call(f"{api}/results", token=token)[1]) == 2, 30, "two results")
            _, mine = call(f"{api}/results?student=Wang%20Fang", token=token)
            assert [x["device"] for x in mine] == ["r00"]
            _, text = call(f"{api}/results.csv?lesson=drive-5", token=token)
            rows = list(csv.DictReader(io.StringIO(text)))
            assert sorted(row["device"] for row in rows) == ["r00", "r01"]
            assert {row["status"] for row in rows} == {"SUCCEEDED"}
            assert {row["student"] for row in rows} == {"Wang Fang", ""}
            # stop all / release through the API
            _, stopped = call(f"{api}/stop", "POST", token=token)
            assert stopped["active"] is True
            wait_until(lambda: all(a.estopped for a in r.agents.values()), 10, "stopped")
            _, released = call(f"{api}/release", "POST", token=token)
            assert released["epoch"] == stopped["epoch"] + 1
            wait_until(lambda: not any(a.estopped for a in r.agents.values()), 10, "released")
            _, stats = call(f"{api}/stats", token=token)
            assert stats["results_stored"] == 2
            assert stats["results_duplicate"] == 0
            on_postgres = not isinstance(db_url, Path)
            assert console.db.engine == ("postgresql" if on_postgres else "sqlite")
            assert not (tmp_path / "console" / "console.sqlite").exists()  # only db_url's
        finally:
            r.close()
            server.close()

"""The district's JSON API on a real PostgreSQL: staff login, schools, results, progress, live."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from district.app import make_app
from district.records import LiveCount, ResultRow
from district.server import DistrictServer
from district.store import DistrictStore
from fleet.core.signing import SigningKey, public_key_text
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration


class Answer:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> Any:
        return json.loads(self._body)


class Client:
    """Plain HTTP to the running server (urllib: no test client needed)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def request(
        self, method: str, path: str, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data = None if json_body is None else json.dumps(json_body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Answer(r.status, r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.read())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, None, headers)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None) -> Answer:
        return self.request("POST", path, json if json is not None else {}, headers)


def test_the_api_answers_staff_only_and_never_with_names(
    postgres: TempPostgres,  # noqa: F811
    tmp_path: Path,
) -> None:
    with DistrictStore(postgres.fresh_database()) as store:
        store.staff.add("ms-wang", "a long secret")
        server = DistrictServer(make_app(store)).start()
        client = Client(server.url)
        assert client.get("/api/v1/health").json() == {
            "ok": True, "broker_connected": None, "staff": True,
        }  # fmt: skip
        assert client.get("/api/v1/schools").status_code == 401
        assert (
            client.post("/api/v1/login", json={"username": "ms-wang", "password": "no"}).status_code
            == 401
        )
        token = client.post(
            "/api/v1/login", json={"username": "ms-wang", "password": "a long secret"}
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        key = SigningKey.load_or_create(tmp_path / "k.pem")
        made = client.post(
            "/api/v1/schools",
            json={"id": "s1", "name": "School One", "public_key": public_key_text(key.public_key)},
            headers=auth,
        )
        assert made.status_code == 201 and made.json()["kids"] == [key.kid]
        bad = client.post(
            "/api/v1/schools", json={"id": "all", "name": "x", "public_key": "0" * 64}, headers=auth
        )
        assert bad.status_code == 422
        store.results.add_many([
            ResultRow(f"r{n}", "s1", "room1", "7a" if n % 2 else "7b", f"p-{n % 3:016x}",
                      "apply", "line-follower", n / 10, "SUCCEEDED", 1000.0 + n)
            for n in range(6)
        ])  # fmt: skip
        store.live.update([LiveCount("s1", "room1", 5, 30, 2, 10.0, 10.0)])
        results = client.get("/api/v1/results?school=s1&class=7a", headers=auth).json()
        assert results["total"] == 3 and {r["class"] for r in results["results"]} == {"7a"}
        assert all("name" not in r for r in results["results"])
        schools = client.get("/api/v1/progress/schools", headers=auth).json()
        assert schools[0]["school"] == "s1" and schools[0]["results"] == 6
        classes = client.get("/api/v1/progress/classes?school=s1", headers=auth).json()
        assert [(c["class"], c["results"]) for c in classes] == [("7a", 3), ("7b", 3)]
        lessons = client.get("/api/v1/progress/lessons?grade_band=apply", headers=auth).json()
        assert lessons[0]["lesson_id"] == "line-follower" and lessons[0]["schools"] == 1
        live = client.get("/api/v1/live", headers=auth).json()
        assert live["robots_online"] == 5 and live["schools_reporting"] == 1
        assert client.get("/api/v1/schools", headers=auth).json()[0]["id"] == "s1"
        # The page's cookie: a cross-site POST is refused, a same-origin one is not.
        req = urllib.request.Request(
            client.url + "/api/v1/login", method="POST",
            data=json.dumps({"username": "ms-wang", "password": "a long secret",
                             "session": "cookie"}).encode(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=30) as answer:
            cookie = answer.headers["set-cookie"].split(";")[0]
            assert "httponly" in answer.headers["set-cookie"].lower()
        body = {"id": "s2", "name": "Two", "public_key": "0" * 64}
        evil = client.post("/api/v1/schools", json=body,
                           headers={"Cookie": cookie, "Origin": "http://evil.example"})  # fmt: skip
        assert evil.status_code == 403
        own = client.post("/api/v1/schools", json=body,
                          headers={"Cookie": cookie, "Origin": client.url})  # fmt: skip
        assert own.status_code == 201  # same origin: let through
        assert client.post("/api/v1/logout", headers=auth).json() == {"revoked": True}
        assert client.get("/api/v1/schools", headers=auth).status_code == 401
        server.close()

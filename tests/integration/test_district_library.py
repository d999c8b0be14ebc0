"""The district's lesson library and challenges on a real PostgreSQL, through the district's
app (HTTP, as schools and staff use it): signed entries, bundles by sha256, a school's
submission checked against its registered key, a student's best try counted once."""

from __future__ import annotations

import base64
import hashlib
import json as _json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from district.app import make_app
from district.library import Library, LibraryError
from district.server import DistrictServer
from district.store import DistrictStore
from district.web import mount_web
from fleet.core.districtlib import (
    SUBMISSION_HEADER,
    ChallengeNotice,
    ChallengeTries,
    LibraryEntry,
    Submission,
    bundle_reason,
    check,
    sign,
)
from fleet.core.signing import SigningKey, public_key_text
from lessons import pack_bundle
from lessons.library import LIBRARY
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration

STAFF, PASSWORD = "ms-wang", "a district secret"
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


class Answer:
    def __init__(self, status_code: int, content: bytes, headers: Any) -> None:
        self.status_code, self.content, self.headers = status_code, content, headers

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return _json.loads(self.content)


class Client:
    """HTTP to the district as a browser with its cookie, or a school's console without."""

    def __init__(self, url: str, *, cookies: bool = True) -> None:
        self.url = url
        handlers = [urllib.request.HTTPCookieProcessor(CookieJar())] if cookies else []
        self._opener = urllib.request.build_opener(*handlers)

    def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        heads = dict(headers or {})
        if json is not None:
            content = _json.dumps(json).encode()
            heads["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.url + path, data=content, headers=heads, method=method
        )
        try:
            with self._opener.open(request, timeout=30) as answer:
                return Answer(answer.status, answer.read(), answer.headers)
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read(), exc.headers)

    def get(self, path: str, **kw: Any) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Answer:
        return self.request("POST", path, **kw)


class District:
    def __init__(self, client: Client, store: DistrictStore, key: SigningKey) -> None:
        self.client, self.store, self.key = client, store, key
        self.school = Client(client.url, cookies=False)

    def staff(self, method: str, path: str, **kw: Any) -> Any:
        answer = self.client.request(method, path, headers=SAME_ORIGIN, **kw)
        assert answer.status_code < 300, answer.text
        return answer.json()


@pytest.fixture
def district(postgres: TempPostgres, tmp_path: Path) -> Iterator[District]:  # noqa: F811
    with DistrictStore(postgres.fresh_database()) as store:
        store.staff.add(STAFF, PASSWORD)
        key = SigningKey.load_or_create(tmp_path / "district-key.pem")
        app = make_app(store)
        mount_web(app, key)
        with DistrictServer(app) as server:
            client = Client(server.url)
            login = {"username": STAFF, "password": PASSWORD, "session": "cookie"}
            assert client.post("/api/v1/login", json=login, headers=SAME_ORIGIN).status_code == 200
            yield District(client, store, key)


def _school(district: District, tmp_path: Path, school: str) -> SigningKey:
    key = SigningKey.load_or_create(tmp_path / f"{school}.pem")
    district.store.schools.add(school, f"School {school}", public_key_text(key.public_key))
    return key


def test_published_lessons_are_signed_and_addressed_by_sha256(district: District) -> None:
    data = pack_bundle(LIBRARY / "line-follower")
    entry = LibraryEntry.model_validate(
        district.staff("POST", "/api/v1/library/publish", content=data)
    )
    assert entry.sha256 == hashlib.sha256(data).hexdigest() and entry.size == len(data)
    assert entry.challenge is not None and entry.challenge.metric == "lap_time_s"
    again = district.staff("POST", "/api/v1/library/publish", content=data)  # same bytes: same
    assert again == entry.model_dump(mode="json")
    key = district.client.get("/api/v1/library/key").json()
    assert key["kid"] == district.key.kid
    trusted = {district.key.kid: district.key.public_key}
    listed = district.client.get("/api/v1/library").json()["lessons"]  # no login: schools read
    assert [LibraryEntry.model_validate(e) for e in listed] == [entry]
    assert check(entry, trusted) is None
    assert check(entry.model_copy(update={"sha256": "0" * 64}), trusted) is not None
    fetched = district.client.get(f"/api/v1/library/bundles/{entry.sha256}").content
    assert fetched == data and bundle_reason(entry, fetched) is None
    tampered = fetched[:-1] + bytes([fetched[-1] ^ 1])
    assert "sha256" in (bundle_reason(entry, tampered) or "")
    assert district.client.get(f"/api/v1/library/bundles/{'0' * 64}").status_code == 404
    # not a lesson: refused with what to do
    broken = district.client.post(
        "/api/v1/library/publish", content=b"not a bundle", headers=SAME_ORIGIN
    )
    assert broken.status_code == 422 and "lesson pack" in broken.text
    # the staff's routes need the login; a cross-site page is refused
    assert district.school.get("/api/v1/library/items").status_code == 401
    cross = district.client.post(
        "/api/v1/library/publish", content=data, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    page = district.client.get("/")
    assert "script-src 'self'" in page.headers["content-security-policy"]


def _submit(district: District, key: SigningKey, school: str, data: bytes, **kw: Any) -> Any:
    sub = Submission(
        school=school,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        note="our version",
        issued=time.time(),
    )
    signed = sign(key, sub.model_copy(update=kw))
    header = base64.b64encode(signed.model_dump_json().encode()).decode()
    return district.school.post(
        "/api/v1/library/submissions", content=data, headers={SUBMISSION_HEADER: header}
    )


def test_a_school_shares_a_lesson_for_review(district: District, tmp_path: Path) -> None:
    key = _school(district, tmp_path, "binhai-01")
    stranger = SigningKey.load_or_create(tmp_path / "stranger.pem")
    data = pack_bundle(LIBRARY / "draw-a-square")
    assert _submit(district, stranger, "binhai-01", data).status_code == 403  # not its key
    assert _submit(district, key, "futian-02", data).status_code == 403  # not registered
    old = _submit(district, key, "binhai-01", data, issued=time.time() - 3600)
    assert old.status_code == 403 and "clock" in old.text
    other = pack_bundle(LIBRARY / "robot-dance")  # signed for one lesson, another sent
    sub = Submission(
        school="binhai-01",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(other),
        issued=time.time(),
    )
    header = base64.b64encode(sign(key, sub).model_dump_json().encode()).decode()
    swapped = district.school.post(
        "/api/v1/library/submissions", content=other, headers={SUBMISSION_HEADER: header}
    )
    assert swapped.status_code == 403
    shared = _submit(district, key, "binhai-01", data)
    assert shared.status_code == 201 and shared.json()["review"] == "waiting"
    assert district.client.get("/api/v1/library").json()["lessons"] == []  # not yet
    waiting = district.staff("GET", "/api/v1/library/items?review=waiting")
    assert [w["entry"]["origin"] for w in waiting] == ["binhai-01"]
    sha = waiting[0]["entry"]["sha256"]
    entry = LibraryEntry.model_validate(
        district.staff("POST", f"/api/v1/library/items/{sha}/approve")
    )
    assert entry.origin == "binhai-01"
    assert check(entry, {district.key.kid: district.key.public_key}) is None
    assert [e["sha256"] for e in district.client.get("/api/v1/library").json()["lessons"]] == [sha]
    # a school may have only so many lessons waiting at once
    strict = Library(district.store.db.transaction, district.key, max_waiting=1)
    dance = pack_bundle(LIBRARY / "robot-dance")
    assert _submit(district, key, "binhai-01", dance).status_code == 201  # one waits now
    wall = pack_bundle(LIBRARY / "wall-follower")
    sub = Submission(school="binhai-01", sha256=hashlib.sha256(wall).hexdigest(),
                     size=len(wall), issued=time.time())  # fmt: skip
    with pytest.raises(LibraryError, match="waiting for review"):
        strict.submit(sign(key, sub), wall, key.public_key)


def _tries(key: SigningKey, school: str, challenge: str, tries: list[dict[str, Any]]) -> Any:
    body = ChallengeTries(school=school, challenge=challenge, tries=tries, issued=time.time())
    return sign(key, body).model_dump(mode="json", by_alias=True)


def test_the_leaderboard_counts_each_students_best_once(district: District, tmp_path: Path) -> None:
    data = pack_bundle(LIBRARY / "line-follower")
    entry = district.staff("POST", "/api/v1/library/publish", content=data)
    made = district.staff("POST", "/api/v1/challenges", json={"sha256": entry["sha256"]})
    clash = district.client.post(
        "/api/v1/challenges", json={"sha256": entry["sha256"]}, headers=SAME_ORIGIN
    )
    assert clash.status_code == 409  # one open challenge per lesson
    notice = ChallengeNotice.model_validate(
        district.client.get("/api/v1/library/challenges").json()["challenges"][0]
    )
    assert notice.id == made["id"] and notice.rule.metric == "lap_time_s"
    assert check(notice, {district.key.kid: district.key.public_key}) is None
    a, b = _school(district, tmp_path, "binhai-01"), _school(district, tmp_path, "futian-02")
    now = time.time()
    ann, bo, cy = "p-" + "a" * 16, "p-" + "b" * 16, "p-" + "c" * 16

    def one(rid: str, student: str, value: float, cls: str = "4a") -> dict[str, Any]:
        return {"result_id": rid, "room": "lab", "class": cls, "student": student,
                "value": value, "score": 80.0, "at": now}  # fmt: skip

    path = f"/api/v1/library/challenges/{notice.id}/tries"
    first = _tries(a, "binhai-01", notice.id, [one("r1", ann, 14.2), one("r2", ann, 12.5)])
    assert district.school.post(path, json=first).json() == {
        "stored": 2, "already": 0, "outside": 0,
    }  # fmt: skip
    assert district.school.post(path, json=first).json()["already"] == 2  # a resend: once
    forged = _tries(a, "futian-02", notice.id, [one("r9", bo, 1.0)])  # binhai signs for futian
    assert district.school.post(path, json=forged).status_code == 403
    late = {**one("r8", cy, 0.5), "at": notice.ends + 1}
    second = _tries(
        b, "futian-02", notice.id, [one("r1", ann, 13.0, "5b"), one("r3", bo, 12.9), late]
    )
    assert district.school.post(path, json=second).json() == {
        "stored": 2, "already": 0, "outside": 1,
    }  # fmt: skip
    ranks = district.staff("GET", f"/api/v1/challenges/{notice.id}/leaderboard")["ranks"]
    assert [(r["school"], r["student_id"], r["value"], r["tries"]) for r in ranks] == [
        ("binhai-01", ann, 12.5, 2),  # her best of two, once
        ("futian-02", bo, 12.9, 1),
        ("futian-02", ann, 13.0, 1),  # the same pseudonym at another school: another student
    ]
    assert [r["rank"] for r in ranks] == [1, 2, 3]
    assert all("name" not in r for r in ranks)
    # binhai-01 deletes ann's class: her line goes, futian-02's ann stays, and a late try of
    # hers (a school resending) is not stored again
    assert district.store.results.purge("binhai-01", [ann]) == (0, 2)
    again = _tries(a, "binhai-01", notice.id, [one("r4", ann, 1.0)])
    assert district.school.post(path, json=again).json()["stored"] == 0
    ranks = district.staff("GET", f"/api/v1/challenges/{notice.id}/leaderboard")["ranks"]
    assert [(r["school"], r["student_id"]) for r in ranks] == [
        ("futian-02", bo),
        ("futian-02", ann),
    ]
    ended = district.staff("POST", f"/api/v1/challenges/{notice.id}/end")
    assert ended["ends"] <= time.time()
    assert district.client.get("/api/v1/library/challenges").json()["challenges"] == []

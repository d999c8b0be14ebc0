"""A school's console and its district over HTTP: browse and import the district's library
(signatures and sha256 checked), share a lesson up, open a district challenge and send its
hand-ins with their metric; a tampered bundle and a changed district key are refused; with
the district gone the console says so and works on.

Real parts: the district's PostgreSQL and app (uvicorn), the console's store and API
(uvicorn); the teacher's calls go through the console's HTTP API with a login.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from district.app import make_app
from district.server import DistrictServer
from district.store import DistrictStore
from district.web import mount_web
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.console.district import DistrictLink, DistrictSettings, save_settings
from fleet.console.districtlib import KEY_FILE, DistrictLib
from fleet.core.districtlib import LibraryEntry
from fleet.core.errors import DistrictLibError
from fleet.core.signing import SigningKey, public_key_text
from lessons import pack_bundle
from lessons.library import LIBRARY, find_lesson
from tests.postgres import TempPostgres, postgres  # noqa: F401 - the session fixture

pytestmark = pytest.mark.integration

SCHOOL = "binhai-01"
TEACHER, PASSWORD = "ms-li", "a long classroom secret"
STAFF = "ms-wang"


def call(base: str, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class School:
    def __init__(
        self,
        console: Console,
        server: ApiServer,
        token: str,
        district: DistrictServer,
        store: DistrictStore,
    ) -> None:
        self.console, self.server, self.url, self.token = console, server, server.url, token
        self.district, self.store = district, store


@pytest.fixture
def school(
    postgres: TempPostgres,  # noqa: F811
    tmp_path: Path,
    isolated_dirs: Path,
) -> Iterator[School]:
    """A district (store, app) and a school's console set up for it, the teacher logged in."""
    with DistrictStore(postgres.fresh_database()) as store:
        store.staff.add(STAFF, "a district secret")
        app = make_app(store)
        mount_web(app, SigningKey.load_or_create(tmp_path / "district-key.pem"))
        with DistrictServer(app) as district:
            console = Console(ConsoleConfig("127.0.0.1", 1, tmp_path / "console"))
            store.schools.add(SCHOOL, "Binhai No. 1", public_key_text(console.key.public_key))
            save_settings(
                console.config.data_dir, DistrictSettings(school=SCHOOL, url=district.url)
            )
            server = ApiServer(console).start()
            try:
                console.db.accounts.add_teacher(TEACHER, PASSWORD)
                status, login = call(server.url, "POST", "/api/v1/login",
                                     {"username": TEACHER, "password": PASSWORD})  # fmt: skip
                assert status == 200, login
                yield School(console, server, login["token"], district, store)
            finally:
                server.close()
                console.close()


def test_a_school_imports_shares_and_runs_a_district_challenge(
    school: School, isolated_dirs: Path
) -> None:
    console, url, token, district = school.console, school.url, school.token, school.district
    library = district.app.state.library
    entry = library.publish(pack_bundle(LIBRARY / "line-follower"), STAFF)
    status, view = call(url, "GET", "/api/v1/districtlib", token=token)
    assert status == 200 and view["reachable"] and view["school"] == SCHOOL
    assert view["kid"] == library.key.kid  # pinned now
    assert [(e["lesson_id"], e["imported"]) for e in view["lessons"]] == [("line-follower", False)]
    # a lesson the teacher does not have cannot shadow a built-in one
    status, refused = call(url, "POST", "/api/v1/districtlib/import", {"sha256": entry.sha256},
                           token)  # fmt: skip
    assert status == 409 and "built-in" in refused["detail"]

    # the teacher's own lesson, shared up for review, approved, imported by the school
    own = isolated_dirs / "data" / "lessons" / "my-square"
    own.mkdir(parents=True)
    source = LIBRARY / "draw-a-square"
    for path in source.rglob("*"):
        if path.is_file():
            target = own / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    yaml = (own / "lesson.yaml").read_text().replace("id: draw-a-square", "id: my-square")
    (own / "lesson.yaml").write_text(yaml)
    status, view = call(url, "GET", "/api/v1/districtlib", token=token)
    assert view["own"] == ["my-square"]
    status, shared = call(url, "POST", "/api/v1/districtlib/share",
                          {"lesson_id": "my-square", "note": "squares!"}, token)  # fmt: skip
    assert status == 200 and shared["review"] == "waiting", shared
    waiting = [i for i in library.items() if i.review == "waiting"]
    assert [(i.entry.origin, i.note) for i in waiting] == [(SCHOOL, "squares!")]
    # as another school would get it: the district publishes it, it is imported elsewhere
    published = library.approve(waiting[0].entry.sha256, STAFF)
    assert published.lesson_id == "my-square"

    # a challenge on a district lesson the school has not got: opening it imports it
    renamed = _renamed_lesson(isolated_dirs, "line-follower", "district-laps")
    laps = library.publish(renamed, STAFF)
    notice = district.app.state.challenges.start(laps.sha256, STAFF, hours=2)
    status, view = call(url, "GET", "/api/v1/districtlib", token=token)
    assert [c["id"] for c in view["challenges"]] == [notice.id]
    status, opened = call(url, "POST", f"/api/v1/districtlib/challenges/{notice.id}/open",
                          token=token)  # fmt: skip
    assert status == 200 and opened["lesson"]["lesson_id"] == "district-laps"
    assert find_lesson("district-laps").model.challenge is not None  # students can open it
    assert console.bundles.path(laps.sha256) is not None  # robots can fetch it by sha256
    status, listed = call(url, "GET", "/api/v1/districtlib/imported", token=token)
    assert [(x["id"], x["sha256"]) for x in listed] == [("district-laps", laps.sha256)]

    # two students hand in; the best of each goes up once, under the link's pseudonym
    sid = console.db.rosters.add_student("Li Ming", "4a")
    other = console.db.rosters.add_student("Wang Fang", "4a")
    for who, lap in ((sid, 14.0), (sid, 12.5), (other, 13.2)):
        console.db.work.add_graded(who, "district-laps", "code", "SUCCEEDED",
                                   {"status": "passed", "score": 90, "metrics": {"lap_time_s": lap}})  # fmt: skip
    console.db.work.add_graded(sid, "district-laps", "code", "SUCCEEDED",
                               {"status": "failed", "score": 10, "metrics": {"lap_time_s": 1.0}})  # fmt: skip
    link = DistrictLink(console, DistrictSettings(school=SCHOOL, url=district.url))
    sender = school.server.app.state.district_tries
    assert sender is not None  # started when the challenge was opened
    deadline = time.monotonic() + 30
    ranks: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(ranks) < 2:
        sender.poke()
        time.sleep(0.2)
        ranks = [r.to_json() for r in district.app.state.challenges.leaderboard(notice.id)]
    assert [(r["student_id"], r["value"], r["tries"]) for r in ranks] == [
        (link.pseudonym(sid), 12.5, 2),  # the failed 1.0 never counts
        (link.pseudonym(other), 13.2, 1),
    ]
    assert all(r["school"] == SCHOOL and r["classroom"] == "4a" for r in ranks)
    assert "Li Ming" not in json.dumps(ranks)
    assert sender.send() == 0  # nothing twice
    # the district away: a new hand-in waits at the school, and goes when it is back
    console.db.work.add_graded(other, "district-laps", "code", "SUCCEEDED",
                               {"status": "passed", "score": 95, "metrics": {"lap_time_s": 11.0}})  # fmt: skip
    sender.close()  # the test sends by hand from here
    lib = sender.lib
    sender.lib = DistrictLib("http://127.0.0.1:9", SCHOOL, lib.data_dir, lib.key, lib.bundles,
                             lib.lessons_root)  # fmt: skip
    with pytest.raises(DistrictLibError, match="cannot be reached"):
        sender.send()
    sender.lib = lib
    assert sender.send() == 1
    best = district.app.state.challenges.leaderboard(notice.id)[0]
    assert (best.student_id, best.value, best.tries) == (link.pseudonym(other), 11.0, 2)


def _renamed_lesson(isolated_dirs: Path, name: str, new: str) -> bytes:
    folder = isolated_dirs / "src" / new
    source = LIBRARY / name
    for path in source.rglob("*"):
        if path.is_file():
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    text = (folder / "lesson.yaml").read_text().replace(f"id: {name}", f"id: {new}")
    (folder / "lesson.yaml").write_text(text)
    return pack_bundle(folder)


def test_tampered_bundles_and_a_changed_key_are_refused(
    school: School, isolated_dirs: Path
) -> None:
    console, url, token, district = school.console, school.url, school.token, school.district
    library = district.app.state.library
    entry = library.publish(_renamed_lesson(isolated_dirs, "robot-dance", "district-dance"), STAFF)
    from fleet.console.api.districtlib import district_lib  # noqa: PLC0415

    lib = district_lib(console)
    assert lib is not None
    data = library.bundle(entry.sha256)
    assert data is not None
    tampered = data[:-2] + bytes([data[-2] ^ 1, data[-1]])
    with pytest.raises(DistrictLibError, match="sha256") as bad:
        lib.install(LibraryEntry.model_validate(entry.model_dump()), tampered)
    assert bad.value.status == 502
    assert not (isolated_dirs / "data" / "lessons" / "district-dance").exists()
    # the key the school pinned at first contact, and a district that shows another
    assert call(url, "GET", "/api/v1/districtlib", token=token)[1]["refused"] == 0
    (console.config.data_dir / KEY_FILE).write_text(
        public_key_text(SigningKey.load_or_create(isolated_dirs / "other.pem").public_key)
    )
    status, view = call(url, "GET", "/api/v1/districtlib", token=token)
    assert status == 200 and not view["reachable"]
    assert "key changed" in view["error"]["en"] and "公钥变了" in view["error"]["zh"]
    # the district gone: the page says so, the console works on
    (console.config.data_dir / KEY_FILE).unlink()
    district.close()
    status, view = call(url, "GET", "/api/v1/districtlib", token=token)
    assert status == 200 and view["reachable"] is False
    assert "cannot be reached" in view["error"]["en"] and "连不上" in view["error"]["zh"]
    status, answer = call(url, "POST", "/api/v1/districtlib/import",
                          {"sha256": entry.sha256}, token)  # fmt: skip
    assert status == 503 and "cannot be reached" in answer["detail"]
    assert call(url, "GET", "/api/v1/library", token=token)[0] == 200  # the rest works on

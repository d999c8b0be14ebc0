"""fleet/console/web.py without a broker or a browser: first-run set-up, the room snapshot,
the event stream, xAPI statements, the static pages and their translations."""

from __future__ import annotations

import configparser
import graphlib
import http.client
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.console.api import ApiServer
from fleet.console.cli import console as console_group
from fleet.console.console import Console, ConsoleConfig
from fleet.console.store import Database, Result
from fleet.console.web import STATIC, library, room_snapshot, xapi_statements
from fleet.core.limits import FailureLimiter
from fleet.core.protocol import DeviceState, JobResult, Status


def call(url: str, method: str = "GET", body: Any = None, token: str = "") -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
            kind = response.headers.get("content-type", "")
            return response.status, json.loads(text) if "json" in kind else text
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode() or "null")


@pytest.fixture
def server(tmp_path: Path, db_url: str | Path) -> Iterator[ApiServer]:
    """A console that is never connected (port 9: nothing listens) behind its API, its
    store on each engine."""
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"), Database(db_url))
    with ApiServer(console) as running:
        yield running
    console.close()


@pytest.fixture
def served(server: ApiServer) -> tuple[Console, str]:
    return server.console, server.url


def birth(console: Console, device: str, estopped: bool = False) -> None:
    state = DeviceState(
        device=device, session="s1", online=True, ts=time.time(), battery=7.4, estopped=estopped
    )
    assert console.db.devices.record_state(state)


def test_first_run_set_up_makes_one_account_only(server: ApiServer) -> None:
    console, url, code = server.console, server.url, server.setup_code
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert call(f"{url}/api/v1/health")[1]["teachers"] is False
    body = {"username": "ms-li", "password": "long enough", "code": code}
    assert call(f"{url}/api/v1/setup", "POST", {**body, "password": "short"})[0] == 422
    assert call(f"{url}/api/v1/setup", "POST", {**body, "username": "ms li"})[0] == 422
    # without the code printed on the console's screen, nobody can claim a fresh console
    assert call(f"{url}/api/v1/setup", "POST", {**body, "code": ""})[0] == 403
    assert call(f"{url}/api/v1/setup", "POST", {**body, "code": "AAAA-AAAA"})[0] == 403
    assert not console.db.accounts.teacher_exists("ms-li")
    # typed in lower case without the dash is fine
    typed = code.replace("-", "").lower()
    status, made = call(f"{url}/api/v1/setup", "POST", {**body, "code": typed})
    assert status == 200, made
    assert console.db.accounts.teacher_exists("ms-li")
    assert call(f"{url}/api/v1/room", token=made["token"])[0] == 200
    assert [e.action for e in console.db.audit.list()] == ["setup"]
    # once there is a teacher, nobody can make another account this way, code or not
    again = call(f"{url}/api/v1/setup", "POST", {**body, "username": "intruder"})
    assert again[0] == 409
    assert not console.db.accounts.teacher_exists("intruder")


def test_set_up_code_guesses_are_rate_limited(server: ApiServer) -> None:
    url = server.url
    body = {"username": "ms-li", "password": "long enough", "code": "AAAA-AAAA"}
    for _ in range(5):
        assert call(f"{url}/api/v1/setup", "POST", body)[0] == 403
    status, answer = call(f"{url}/api/v1/setup", "POST", {**body, "code": server.setup_code})
    assert status == 429  # even the right code, until the minute is over
    assert "wait" in answer["detail"] and "请等" in answer["detail"]
    assert not server.console.db.accounts.has_teachers()


def test_every_new_route_needs_a_teacher(served: tuple[Console, str]) -> None:
    _, url = served
    for path in ("room", "library", "events", "results.xapi", "devices/r1/log/events"):
        assert call(f"{url}/api/v1/{path}")[0] == 401, path
        assert call(f"{url}/api/v1/{path}", token="made-up")[0] == 401, path


def test_room_snapshot_joins_devices_jobs_and_results(tmp_path: Path) -> None:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    try:
        birth(console, "r1")
        birth(console, "r2", estopped=True)
        console.db.rosters.bind("r1", "Wang Fang", "7-2")
        console.telemetry["r1"] = {"ts": time.time(), "battery_v": 7.9}
        console.db.jobs.add("j1", "r1", "line-follower", "0" * 64, "{}")
        console.db.jobs.add("j2", "r1", "robot-dance", "0" * 64, "{}")
        console.db.jobs.set_status("j1", Status.SUCCEEDED, None)
        result = JobResult(
            device="r1",
            job="j1",
            result_id="res1",
            status=Status.SUCCEEDED,
            result={"status": "passed", "score": 90},
            ts=time.time(),
        )
        assert console.db.results.add(result)
        snap = room_snapshot(console)
    finally:
        console.close()
    r1, r2 = snap["devices"]
    assert r1["student"] == "Wang Fang"
    assert r1["roster"] == "7-2"
    assert r1["student_id"].startswith("s-")
    assert r1["battery_v"] == 7.9  # telemetry is fresher than the birth
    assert r1["job"]["job"] == "j2"  # the latest job
    assert r1["job"]["status"] == "PENDING"
    assert r1["last_result"] == {
        "lesson_id": "line-follower",
        "status": "SUCCEEDED",
        "score": 90.0,
        "passed": True,
    }
    assert r2["estopped"] is True
    assert r2["battery_v"] == 7.4
    assert r2["job"] is None
    assert snap["results"] == 1
    assert snap["estop"]["active"] is False


def test_event_stream_sends_the_room(served: tuple[Console, str]) -> None:
    console, url = served
    birth(console, "r1")
    console.db.accounts.add_teacher("ms-li", "long enough")
    token = console.db.accounts.new_token("ms-li", "test")
    request = urllib.request.Request(
        f"{url}/api/v1/events", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = []
        while "event: room" not in lines:
            lines.append(response.readline().decode().strip())
        data = response.readline().decode()
    assert data.startswith("data: ")
    snap = json.loads(data[len("data: ") :])
    assert [d["device"] for d in snap["devices"]] == ["r1"]


def test_xapi_statements() -> None:
    rows = [
        Result(
            result_id="res1",
            job="j1",
            device="r1",
            student="Wang Fang",
            student_id="s-0123456789abcdef",
            roster="7-2",
            lesson_id="line-follower",
            status=Status.SUCCEEDED,
            score=85.0,
            result={"status": "passed", "wall_seconds": 12.5},
            received=1_700_000_000.0,
        ),
        Result(
            result_id="res2",
            job="j2",
            device="r2",
            student=None,
            student_id=None,
            roster=None,
            lesson_id="line-follower",
            status=Status.FAILED,
            score=None,
            result={"status": "error", "reason": "crashed"},
            received=1_700_000_100.0,
        ),
    ]
    passed, errored = xapi_statements(rows, "http://console.local:8080")
    assert passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    # the pseudonymous id, never the display name (nor an e-mail)
    assert passed["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "http://console.local:8080", "name": "s-0123456789abcdef"},
    }
    assert "Wang Fang" not in json.dumps(passed)
    assert passed["object"]["id"] == "http://console.local:8080/lessons/line-follower"
    assert passed["result"] == {
        "completion": True,
        "success": True,
        "score": {"raw": 85.0, "min": 0, "max": 100, "scaled": 0.85},
        "duration": "PT12.5S",
    }
    assert passed["timestamp"].startswith("2023-11-14T22:13:20")
    assert errored["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attempted"
    assert errored["actor"]["account"]["name"] == "r2"  # no student bound: the robot
    assert errored["result"] == {"completion": False}
    # the same result always gives the same statement id (a re-export is not a new statement)
    assert xapi_statements(rows[:1], "http://console.local:8080")[0]["id"] == passed["id"]


def test_pages_are_served_and_need_nothing_from_the_internet(served: tuple[Console, str]) -> None:
    _, url = served
    status, html = call(f"{url}/")
    assert status == 200
    for name in ("main.js", "i18n.js", "i18n-zh.js", "style.css", "favicon.svg"):
        assert call(f"{url}/static/{name}")[0] == 200, name
    # every text file (Blockly's pictures and cursors in vendor/blockly-media are images)
    pictures = {".png", ".gif", ".cur"}
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file() and p.suffix not in pictures):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert "@import" not in text, path.name
        assert "url(http" not in text, path.name
        if "vendor" in path.relative_to(STATIC).parts:  # a bundle: no import statement at all
            # (Blockly's texts hold words like ' (from "' that are no import)
            assert not IMPORT.findall(text), path.name
        else:
            assert not re.search(r"\bfrom\s+[\"'](?!\./|\.\./)", text), (
                path.name
            )  # no bare or URL import
    assert "/static/main.js" in html


SCRIPTS = sorted(STATIC.rglob("*.js"))
# the hand-written ones; vendor/ holds bundles built from npm (tests/unit/test_frontend_bundle.py)
HANDWRITTEN = [s for s in SCRIPTS if "vendor" not in s.relative_to(STATIC).parts]
#: Each page and the one module it loads.
PAGES = {"index.html": "main.js", "student/index.html": "student/main.js"}
IMPORT = re.compile(
    r"""(?:^import\b[^;]*?\bfrom\s*|^export\b[^;]*?\bfrom\s*|\bimport\s*\()\s*["']([^"']+)["']""",
    re.M,
)


def imports(script: Path) -> list[str]:
    return IMPORT.findall(script.read_text(encoding="utf-8"))


def test_the_page_loads_one_module_and_every_script_is_one() -> None:
    """The page's JavaScript is ES modules from main.js down: no globals to hang parts on,
    no script tag but one (no inline code: the CSP allows only the console's own files),
    every relative import a file that exists, no top-level function over ~150 lines."""
    for page, module in PAGES.items():
        html = (STATIC / page).read_text(encoding="utf-8")
        tags = re.findall(r"<script\b[^>]*>", html)
        assert tags == [f'<script type="module" src="/static/{module}">'], tags
        assert re.findall(r"<script\b[^>]*>\s*</script>", html) == [
            f'<script type="module" src="/static/{module}"></script>'
        ]
        assert " on" + "click=" not in html and "javascript:" not in html
    assert len(HANDWRITTEN) > 10
    for script in HANDWRITTEN:
        text = script.read_text(encoding="utf-8")
        name = script.relative_to(STATIC)
        assert "window.RC" not in text, name
        assert "window.I18N" not in text, name
        assert not re.search(r"\bwindow\.\w+\s*=[^=]", text), name  # nothing hung on window
        assert not re.search(r"^\(\(\) =>|^\(function", text, re.M), name  # no wrapping IIFE
        assert re.search(r"^export\b", text, re.M) or script.name == "main.js", name
        for target in imports(script):
            assert target.startswith(("./", "../")), (name, target)
            assert (script.parent / target).resolve().is_file(), (name, target)
        for function, length in top_level_functions(text):
            assert length <= 150, f"{name}: {function} is {length} lines"
    # every module is reached from a page's main.js (nothing left over, nothing loaded another way)
    reached: set[Path] = set()
    todo = [STATIC / module for module in PAGES.values()]
    while todo:
        script = todo.pop().resolve()
        if script not in reached and "vendor" not in script.parts:
            reached.add(script)
            todo += [script.parent / target for target in imports(script)]
    assert reached == {s.resolve() for s in HANDWRITTEN}
    # and the imports point one way: no two modules need each other
    graph = {
        s.resolve(): {
            (s.parent / target).resolve() for target in imports(s) if "vendor" not in target
        }
        for s in HANDWRITTEN
    }
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError on a cycle


def top_level_functions(text: str) -> Iterator[tuple[str, int]]:
    """(name, lines) of each function declared at the top of a module: from its first
    line to the ``}`` that closes it in the first column."""
    lines = text.splitlines()
    start = re.compile(
        r"^(?:export\s+)?(?:async\s+)?function\s*\*?\s*(\w+)|^(?:export\s+)?const\s+(\w+)\s*=.*=>\s*\{$"
    )
    for i, line in enumerate(lines):
        found = start.match(line)
        if not found:
            continue
        end = next((j for j in range(i, len(lines)) if lines[j].startswith("}")), len(lines) - 1)
        yield found.group(1) or found.group(2), end - i + 1


def test_top_level_functions_are_measured() -> None:
    text = "function a() {\n  x();\n}\nexport async function b(c) {\n}\nconst d = () => {\n};\n"
    assert list(top_level_functions(text)) == [("a", 3), ("b", 2), ("d", 2)]


def test_scripts_are_served_as_javascript_under_a_csp_for_own_files_only(
    served: tuple[Console, str],
) -> None:
    _, url = served
    for script in SCRIPTS:
        path = script.relative_to(STATIC).as_posix()
        with urllib.request.urlopen(f"{url}/static/{path}", timeout=10) as response:
            kind = response.headers.get("content-type", "")
        assert kind.split(";")[0] in ("text/javascript", "application/javascript"), (path, kind)
    with urllib.request.urlopen(f"{url}/", timeout=10) as response:
        csp = response.headers.get("content-security-policy", "")
    policy = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert policy["script-src"] == ["'self'"], csp  # no inline, no eval, no other origin
    assert policy["default-src"] == ["'self'"], csp


def test_every_static_file_is_packaged() -> None:
    """setup.cfg's package_data names every file of the pages (a wheel without one breaks them)."""
    config = configparser.ConfigParser()
    config.read(STATIC.parents[2] / "setup.cfg")
    globs = config["options.package_data"]["fleet"].split()
    package = STATIC.parents[1]
    # setuptools' globs: `**` is any depth of folders (PurePath.match has no `**`)
    packaged = {p for pattern in globs for p in package.glob(pattern) if p.is_file()}
    for path in STATIC.rglob("*"):
        if path.is_file():
            name = PurePosixPath(path.relative_to(package).as_posix())
            assert path in packaged, name


#: Each page's word tables (one file per language, the same keys) and what uses them.
TABLES = {
    "teacher": (
        "i18n-{lang}.js",
        [p for p in HANDWRITTEN if "student" not in p.parts],
        "index.html",
    ),
    "student": (
        "student/words-{lang}.js",
        [p for p in HANDWRITTEN if "student" in p.parts],
        "student/index.html",
    ),
}


@pytest.mark.parametrize("page", sorted(TABLES))
def test_every_label_exists_in_both_languages(page: str) -> None:
    pattern, scripts, html = TABLES[page]
    tables = {}
    for lang in ("en", "zh"):
        text = (STATIC / pattern.format(lang=lang)).read_text(encoding="utf-8")
        tables[lang] = re.findall(r'^\s+"([a-zA-Z.]+)":', text, re.MULTILINE)
        assert len(tables[lang]) == len(set(tables[lang])), lang  # each key once
    en, zh = set(tables["en"]), set(tables["zh"])
    assert len(en) > 50
    assert en == zh
    used = set()
    for path in [*scripts, STATIC / html]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'\bt\(["`]([a-zA-Z]+\.[a-zA-Z.]+)["`]', source))
        used |= set(re.findall(r'data-i18n(?:-aria)?="([a-zA-Z.]+)"', source))
    assert len(used) > 30
    assert used <= en, sorted(used - en)
    if page == "teacher":
        assert {"enrol.claim", "audit.title", "preview.ended", "room.summary"} <= used


def test_library_gives_bilingual_titles_summaries_and_steps() -> None:
    lessons = {lesson["id"]: lesson for lesson in library()}
    lights = lessons["lights-and-sound"]
    assert lights["title"] == {
        "en": "Hello robot: lights and sound",
        "zh": "你好机器人：灯光和声音",
    }
    assert lights["band"] == "perceive"
    assert lights["steps"][0]["title"]["zh"] == "机器人听你的话"
    assert all(step["body"]["en"] and step["body"]["zh"] for step in lights["steps"])
    assert lessons["line-follower"]["challenge"]["metric"] == "lap_time_s"
    bands = [lesson["band"] for lesson in lessons.values()]
    assert bands == sorted(bands, key=["perceive", "apply", "create"].index)


def login_from(url: str, source: str, username: str, password: str) -> tuple[int, Any, str]:
    """POST /api/v1/login from a chosen loopback address (127.0.0.x are all this machine)."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        body = json.dumps({"username": username, "password": password})
        conn.request("POST", "/api/v1/login", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), response.getheader("Retry-After", "")
    finally:
        conn.close()


def test_login_is_rate_limited_per_name_and_client(served: tuple[Console, str]) -> None:
    console, url = served
    console.db.accounts.add_teacher("ms-li", "a long secret")
    for _ in range(4):
        assert login_from(url, "127.0.0.1", "ms-li", "guess")[0] == 401
    assert login_from(url, "127.0.0.1", "ms-li", "a long secret")[0] == 200  # resets the count
    for _ in range(5):
        assert login_from(url, "127.0.0.1", "ms-li", "guess")[0] == 401
    status, answer, retry = login_from(url, "127.0.0.1", "ms-li", "a long secret")
    assert status == 429  # the right password too, until the minute is over
    assert 0 < int(retry) <= 60
    assert "wait" in answer["detail"] and "请等" in answer["detail"]
    # another client, or another name from this client, is not held up
    assert login_from(url, "127.0.0.2", "ms-li", "a long secret")[0] == 200
    assert login_from(url, "127.0.0.1", "mr-wu", "guess")[0] == 401


def test_failure_limiter_forgets_after_the_window() -> None:
    now = [100.0]
    limiter = FailureLimiter(failures=2, window_s=60.0, clock=lambda: now[0])
    limiter.failed("k")
    assert limiter.retry_after("k") == 0.0
    now[0] += 10
    limiter.failed("k")
    assert limiter.retry_after("k") == 50.0  # the first failure leaves the window in 50 s
    assert limiter.retry_after("other") == 0.0
    now[0] += 50
    assert limiter.retry_after("k") == 0.0
    limiter.failed("k")
    limiter.succeeded("k")
    assert limiter.retry_after("k") == 0.0


def test_login_tokens_expire_and_logout_revokes(served: tuple[Console, str]) -> None:
    console, url = served
    console.db.accounts.add_teacher("ms-li", "a long secret")
    body = {"username": "ms-li", "password": "a long secret"}
    status, made = call(f"{url}/api/v1/login", "POST", body)
    assert status == 200 and made["expires_in"] == 12 * 3600
    token = made["token"]
    assert call(f"{url}/api/v1/room", token=token)[0] == 200
    assert call(f"{url}/api/v1/logout", "POST", token=token) == (200, {"revoked": True})
    assert call(f"{url}/api/v1/room", token=token)[0] == 401
    console.config.session_ttl_s = 0.0  # a console told to keep logins for no time at all
    _, made = call(f"{url}/api/v1/login", "POST", body)
    assert call(f"{url}/api/v1/room", token=made["token"])[0] == 401


def test_purge_a_class_from_the_api(served: tuple[Console, str]) -> None:
    console, url = served
    console.db.accounts.add_teacher("ms-li", "a long secret")
    token = console.db.accounts.new_token("ms-li", "test")
    for device in ("r1", "r2"):
        birth(console, device)
    status, bound = call(
        f"{url}/api/v1/devices/r1/student", "PUT", {"student": "Wang Fang", "roster": "7-2"}, token
    )
    assert status == 200
    assert bound["student_id"].startswith("s-") and bound["roster"] == "7-2"
    assert call(f"{url}/api/v1/devices/r2/student", "PUT", {"student": "Li Lei"}, token)[0] == 200
    bad = {"student": "x", "roster": "a/b"}
    assert call(f"{url}/api/v1/devices/r2/student", "PUT", bad, token)[0] == 422
    console.db.jobs.add("j1", "r1", "line-follower", "0" * 64, "{}")
    console.db.results.add(
        JobResult(
            device="r1",
            job="j1",
            result_id="res1",
            status=Status.SUCCEEDED,
            result={"status": "passed", "score": 90},
            ts=time.time(),
        )
    )
    _, rosters = call(f"{url}/api/v1/rosters", token=token)
    assert rosters == [
        {"roster": "7-2", "students": 1, "results": 1},
        {"roster": "default", "students": 1, "results": 0},
    ]
    _, students = call(f"{url}/api/v1/students?roster=7-2", token=token)
    assert [(s["name"], s["devices"]) for s in students] == [("Wang Fang", ["r1"])]
    purge = f"{url}/api/v1/rosters/7-2/purge"
    assert call(purge, "POST", {"confirm": "7-2"})[0] == 401
    assert call(purge, "POST", {"confirm": "7-3"}, token)[0] == 400  # the name typed again
    assert call(f"{url}/api/v1/rosters/7-9/purge", "POST", {"confirm": "7-9"}, token)[0] == 404
    assert console.db.results.list(roster="7-2")
    status, purged = call(purge, "POST", {"confirm": "7-2"}, token)
    assert status == 200
    assert (purged["students"], purged["results"], purged["devices"]) == (1, 1, ["r1"])
    assert call(f"{url}/api/v1/results", token=token)[1] == []
    assert [r["roster"] for r in call(f"{url}/api/v1/rosters", token=token)[1]] == ["default"]
    _, log = call(f"{url}/api/v1/audit?action=purge", token=token)
    assert [(e["who"], e["detail"]["roster"], e["detail"]["results"]) for e in log] == [
        ("ms-li", "7-2", 1)
    ]


def test_pushes_stops_releases_and_cancels_are_audited(served: tuple[Console, str]) -> None:
    console, url = served
    console.db.accounts.add_teacher("ms-li", "a long secret")
    token = console.db.accounts.new_token("ms-li", "test")
    birth(console, "r1")
    assert call(f"{url}/api/v1/audit")[0] == 401
    status, pushed = call(f"{url}/api/v1/push", "POST", {"lesson": "lights-and-sound"}, token)
    assert status == 200
    job = pushed["jobs"][0]["job"]
    assert call(f"{url}/api/v1/jobs/{job}/cancel", "POST", token=token)[0] == 200
    assert call(f"{url}/api/v1/stop", "POST", token=token)[0] == 200
    assert call(f"{url}/api/v1/release", "POST", token=token)[0] == 200
    status, log = call(f"{url}/api/v1/audit", token=token)
    assert status == 200
    assert [(e["who"], e["action"]) for e in log] == [
        ("ms-li", "release"),
        ("ms-li", "stop"),
        ("ms-li", "cancel"),
        ("ms-li", "push"),
    ]
    assert log[3]["detail"]["lesson_id"] == "lights-and-sound"
    assert log[3]["detail"]["devices"] == ["r1"]
    assert log[2]["detail"] == {"job": job}
    assert log[0]["detail"]["epoch"] == log[1]["detail"]["epoch"] + 1
    assert log[0]["ts"] >= log[3]["ts"]
    assert len(call(f"{url}/api/v1/audit?limit=2", token=token)[1]) == 2
    # /release's clearly named twin clears the stop the same way (and the log says so alike)
    assert call(f"{url}/api/v1/stop", "POST", token=token)[0] == 200
    status, cleared = call(f"{url}/api/v1/estop/clear", "POST", token=token)
    assert status == 200 and cleared["active"] is False
    assert cleared["epoch"] == log[0]["detail"]["epoch"] + 2
    assert [e["action"] for e in call(f"{url}/api/v1/audit?limit=2", token=token)[1]] == [
        "release",
        "stop",
    ]


def test_console_serve_prints_the_set_up_code_only_while_there_is_no_teacher(
    tmp_path: Path,
) -> None:
    args = ["serve", "--port", "0", "--data-dir", str(tmp_path), "--duration", "0.2"]
    fresh = CliRunner().invoke(console_group, [*args, "--json"])
    assert fresh.exit_code == 0, fresh.output
    facts = json.loads(fresh.output)
    assert facts["teachers"] is False
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", facts["setup_code"])
    text = CliRunner().invoke(console_group, args)
    assert re.search(r"type the set-up code [A-Z2-9]{4}-[A-Z2-9]{4}", text.output), text.output
    assert facts["setup_code"] not in text.output  # a new code every start
    with Database(tmp_path / "console.sqlite") as db:
        db.accounts.add_teacher("ms-li", "a long secret")
    claimed = CliRunner().invoke(console_group, [*args, "--json"])
    assert "setup_code" not in json.loads(claimed.output)

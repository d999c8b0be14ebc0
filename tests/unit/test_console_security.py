"""The console's web hardening without a broker or a browser (fleet/console/websecurity.py):
the session cookie, cross-site requests refused, security headers, API tokens per
teacher; and the live routes: a job's log, the camera preview's switch."""

from __future__ import annotations

import http.client
import json
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.broker.config import BrokerSettings, write_classroom
from fleet.console.api import ApiServer
from fleet.console.cli import console as console_group
from fleet.console.console import JOB_LOG_LINES, Console, ConsoleConfig
from fleet.console.preview import MAX_WATCHED
from fleet.console.store import Database
from fleet.console.tls import hub_names, web_certificate
from fleet.console.websecurity import COOKIE, refusal
from fleet.core.errors import BrokerError
from fleet.core.protocol import DeviceState, LogBatch, LogLine, encode

EVIL = "http://192.168.1.66:8000"


class Client:
    """Requests with exactly the headers a test gives (no library adds any)."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname or "", parsed.port or 80
        self.origin = f"{parsed.scheme}://{parsed.netloc}"

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            sent = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
            kind = response.getheader("content-type", "")
            return response.status, json.loads(text) if "json" in kind else text, response
        finally:
            conn.close()


@pytest.fixture
def served(tmp_path: Path, db_url: str | Path) -> Iterator[tuple[Console, Client]]:
    """A console that is never connected (port 9: nothing listens) behind its API, its
    store on each engine."""
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"), Database(db_url))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    console.db.accounts.add_teacher("mr-wu", "another long secret")
    with ApiServer(console) as server:
        yield console, Client(server.url)
    console.close()


def birth(console: Console, device: str) -> None:
    state = DeviceState(device=device, session="s1", online=True, ts=time.time())
    assert console.db.devices.record_state(state)


def cookie_login(client: Client, user: str = "ms-li", password: str = "a long secret") -> str:
    """Log in as the page does; returns the cookie header value."""
    status, body, response = client(
        "POST",
        "/api/v1/login",
        {"username": user, "password": password, "session": "cookie"},
        {"Origin": client.origin, "Sec-Fetch-Site": "same-origin"},
    )
    assert status == 200, body
    assert "token" not in body  # the page's scripts never see the token
    set_cookie = response.getheader("set-cookie") or ""
    parts = [p.strip().lower() for p in set_cookie.split(";")]
    assert parts[0].startswith(f"{COOKIE}=")
    assert "httponly" in parts
    assert "samesite=strict" in parts
    assert "path=/" in parts
    assert "secure" not in parts  # plain HTTP: a Secure cookie would never come back
    return set_cookie.split(";")[0]


def test_the_page_logs_in_with_an_httponly_samesite_cookie(served: tuple[Console, Client]) -> None:
    console, client = served
    cookie = cookie_login(client)
    status, who, _ = client("GET", "/api/v1/session", headers={"Cookie": cookie})
    assert (status, who) == (200, {"username": "ms-li", "login": True})
    assert client("GET", "/api/v1/room", headers={"Cookie": cookie})[0] == 200
    assert client("GET", "/api/v1/session")[0] == 401
    # log out: the console forgets it and the browser is told to drop it
    same = {"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}
    status, _, response = client("POST", "/api/v1/logout", headers=same)
    assert status == 200
    assert "max-age=0" in (response.getheader("set-cookie") or "").lower()
    assert client("GET", "/api/v1/room", headers={"Cookie": cookie})[0] == 401
    # scripts still log in for a bearer token, as before
    status, body, response = client(
        "POST", "/api/v1/login", {"username": "ms-li", "password": "a long secret"}
    )
    assert status == 200
    assert console.db.accounts.token_user(body["token"]) == "ms-li"
    assert response.getheader("set-cookie") is None


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),  # another port of the same hub
        ({"Origin": "SELF"}, True),
        ({"Origin": EVIL}, False),
        ({"Origin": "null"}, False),
        ({"Origin": "SELF:1"}, False),
        ({}, False),  # a cookie, and nothing to say where the request came from
    ],
)
def test_a_cross_site_state_change_is_refused(
    served: tuple[Console, Client], headers: dict[str, str], allowed: bool
) -> None:
    console, client = served
    cookie = cookie_login(client)
    sent = {k: v.replace("SELF", client.origin) for k, v in headers.items()}
    status, body, response = client("POST", "/api/v1/stop", headers={"Cookie": cookie, **sent})
    if allowed:
        assert status == 200, body
        assert console.db.estop.get().active
    else:
        assert status == 403
        assert "cross-site" in body["detail"]
        assert "跨站" in body["detail"]
        assert not console.db.estop.get().active
        assert response.getheader("content-security-policy")
        assert console.db.audit.list() == []


def test_forged_login_and_other_writes_are_refused_too(served: tuple[Console, Client]) -> None:
    console, client = served
    body = {"username": "ms-li", "password": "a long secret", "session": "cookie"}
    # login CSRF: another site cannot log the teacher's browser in as someone else
    assert client("POST", "/api/v1/login", body, {"Origin": EVIL})[0] == 403
    cookie = cookie_login(client)
    birth(console, "r1")
    evil = {"Cookie": cookie, "Sec-Fetch-Site": "cross-site", "Origin": EVIL}
    for method, path, data in (
        ("PUT", "/api/v1/devices/r1/student", {"student": "Wang Fang"}),
        ("POST", "/api/v1/push", {"lesson": "lights-and-sound"}),
        ("POST", "/api/v1/rosters/default/purge", {"confirm": "default"}),
        ("POST", "/api/v1/devices/r1/preview", {"on": True}),
        ("POST", "/api/v1/tokens", {"name": "mine-now"}),
        ("DELETE", "/api/v1/tokens/0123456789abcdef", None),
        ("POST", "/api/v1/logout", None),
    ):
        assert client(method, path, data, evil)[0] == 403, path
    assert console.db.jobs.list() == []
    assert console.previews.watching() == {}
    assert client("GET", "/api/v1/room", headers={"Cookie": cookie})[0] == 200  # still logged in
    # reading is not refused (SameSite keeps the cookie off cross-site reads; CORS hides answers)
    assert (
        client("GET", "/api/v1/room", headers={"Cookie": cookie, "Origin": client.origin})[0] == 200
    )


def test_bearer_scripts_need_no_browser_headers(served: tuple[Console, Client]) -> None:
    console, client = served
    token = console.db.accounts.new_token("ms-li", "script")
    status, _, _ = client("POST", "/api/v1/stop", headers={"Authorization": f"Bearer {token}"})
    assert status == 200
    assert [e.who for e in console.db.audit.list()] == ["ms-li"]


def test_refusal_rules() -> None:
    def scope(method: str, path: str, **headers: str) -> dict[str, Any]:
        return {
            "type": "http",
            "method": method,
            "path": path,
            "scheme": "https",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }

    host = {"host": "hub.local:8443"}
    assert refusal(scope("GET", "/api/v1/room", origin=EVIL, **host)) is None  # reads pass
    assert refusal(scope("POST", "/bundles/x", origin=EVIL, **host)) is None  # not the API
    assert refusal(scope("POST", "/api/v1/stop", origin="https://hub.local:8443", **host)) is None
    assert refusal(scope("POST", "/api/v1/stop", origin="http://hub.local:8443", **host))
    assert refusal(scope("POST", "/api/v1/stop", cookie=f"{COOKIE}=abc", **host))
    assert refusal(scope("POST", "/api/v1/stop", authorization="Bearer x", **host)) is None
    assert refusal(scope("DELETE", "/api/v1/tokens/x", **{"sec-fetch-site": "none"})) is None


def test_pages_and_api_carry_the_security_headers(served: tuple[Console, Client]) -> None:
    _, client = served
    for path in ("/", "/static/main.js", "/api/v1/health"):
        status, _, response = client("GET", path)
        assert status == 200
        csp = response.getheader("content-security-policy") or ""
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert response.getheader("x-content-type-options") == "nosniff"
        assert response.getheader("x-frame-options") == "DENY"
        assert response.getheader("referrer-policy") == "no-referrer"
    assert client("GET", "/api/v1/health")[2].getheader("cache-control") == "no-store"


def test_api_tokens_belong_to_one_teacher(served: tuple[Console, Client]) -> None:
    console, client = served
    same = {"Sec-Fetch-Site": "same-origin"}
    li = {"Cookie": cookie_login(client), **same}
    wu = {"Cookie": cookie_login(client, "mr-wu", "another long secret"), **same}
    status, made, _ = client("POST", "/api/v1/tokens", {"name": "xapi-export"}, li)
    assert status == 200, made
    assert console.db.accounts.token_user(made["token"]) == "ms-li"
    # the token acts as Ms Li, and only her list shows it
    status, listed, _ = client("GET", "/api/v1/tokens", headers=li)
    assert {t["name"] for t in listed} == {"login", "xapi-export"}
    assert [t["current"] for t in listed if t["name"] == "login"] == [True]
    assert all("token" not in t for t in listed)  # never the secret again
    status, theirs, _ = client("GET", "/api/v1/tokens", headers=wu)
    assert {t["name"] for t in theirs} == {"login"}
    # Mr Wu cannot revoke it; a token cannot make more tokens
    assert client("DELETE", f"/api/v1/tokens/{made['id']}", headers=wu)[0] == 404
    bearer = {"Authorization": f"Bearer {made['token']}"}
    assert client("POST", "/api/v1/tokens", {"name": "more"}, bearer)[0] == 403
    assert client("POST", "/api/v1/tokens", {"name": "login"}, li)[0] == 400
    assert client("POST", "/api/v1/tokens", {"name": " "}, li)[0] == 422
    assert client("POST", "/api/v1/stop", headers=bearer)[0] == 200
    # she revokes it: it stops working at once
    assert client("DELETE", f"/api/v1/tokens/{made['id']}", headers=li)[0] == 200
    assert client("GET", "/api/v1/room", headers=bearer)[0] == 401
    assert client("DELETE", f"/api/v1/tokens/{made['id']}", headers=li)[0] == 404
    assert [(e.who, e.action) for e in console.db.audit.list()][::-1] == [
        ("ms-li", "token"),
        ("ms-li", "stop"),
        ("ms-li", "revoke-token"),
    ]


def test_a_password_reset_logs_the_teacher_out_everywhere(
    served: tuple[Console, Client], tmp_path: Path, db_url: str | Path
) -> None:
    """Someone learnt Ms Li's password: she resets it with `roboclass console adduser`
    (on the hub, while the console runs). Their login token, the page's cookie and the
    API token they made all stop working; Mr Wu stays logged in."""
    console, client = served
    same = {"Sec-Fetch-Site": "same-origin"}
    status, body, _ = client(
        "POST", "/api/v1/login", {"username": "ms-li", "password": "a long secret"}
    )
    assert status == 200
    login = {"Authorization": f"Bearer {body['token']}"}
    cookie = {"Cookie": cookie_login(client), **same}
    status, made, _ = client("POST", "/api/v1/tokens", {"name": "xapi-export"}, cookie)
    assert status == 200, made
    api = {"Authorization": f"Bearer {made['token']}"}
    wu = {"Cookie": cookie_login(client, "mr-wu", "another long secret"), **same}
    for held in (login, cookie, api, wu):
        assert client("GET", "/api/v1/room", headers=held)[0] == 200

    store = ["--data-dir", str(tmp_path / "console"), "--store", str(db_url)]
    reset = CliRunner().invoke(
        console_group,
        ["adduser", "ms-li", "--password-stdin", *store],
        input="a new long secret\n",
    )
    assert reset.exit_code == 0, reset.output
    assert "3 old logins and API tokens of ms-li revoked" in reset.output
    assert "已注销" in reset.output

    for stale in (login, cookie, api):
        status, body, _ = client("GET", "/api/v1/room", headers=stale)
        assert status == 401 and "log in first" in body["detail"]
    assert client("POST", "/api/v1/stop", headers={**cookie, **same})[0] == 401
    assert client("GET", "/api/v1/room", headers=wu)[0] == 200  # another teacher: untouched
    old = {"username": "ms-li", "password": "a long secret"}
    assert client("POST", "/api/v1/login", old)[0] == 401
    status, body, _ = client(
        "POST", "/api/v1/login", {"username": "ms-li", "password": "a new long secret"}
    )
    assert status == 200
    assert (
        client("GET", "/api/v1/room", headers={"Authorization": f"Bearer {body['token']}"})[0]
        == 200
    )
    assert console.db.accounts.token_user(made["token"]) is None


def test_a_reset_also_ends_the_live_streams_opened_before_it(
    served: tuple[Console, Client], tmp_path: Path
) -> None:
    """A room stream opened with the old password does not keep showing the room."""
    console, client = served
    birth(console, "r1")
    token = console.db.accounts.login("ms-li", "a long secret")
    assert token is not None
    conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
    try:
        conn.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}"})
        stream = conn.getresponse()
        assert stream.status == 200
        assert stream.readline() == b"retry: 2000\n"
        while stream.readline() != b"event: room\n":
            pass
        assert console.db.accounts.add_teacher("ms-li", "a new long secret") == 1
        birth(console, "r2")  # a change an open stream would send
        rest = stream.read()  # the stream ends (the socket would time out after 10 s)
    finally:
        conn.close()
    assert b"r2" not in rest


def test_camera_preview_switch_is_audited_and_limited(served: tuple[Console, Client]) -> None:
    console, client = served
    token = console.db.accounts.new_token("ms-li", "test")
    auth = {"Authorization": f"Bearer {token}"}
    assert client("POST", "/api/v1/devices/r1/preview", {"on": True}, auth)[0] == 404
    devices = [f"r{i}" for i in range(MAX_WATCHED + 1)]
    for d in devices:
        birth(console, d)
    status, on, _ = client("POST", "/api/v1/devices/r0/preview", {"on": True}, auth)
    assert status == 200
    assert on["until"] == pytest.approx(time.time() + 120, abs=5)
    status, room, _ = client("GET", "/api/v1/room", headers=auth)
    card = next(d for d in room["devices"] if d["device"] == "r0")
    assert card["preview"]["by"] == "ms-li"
    assert next(d for d in room["devices"] if d["device"] == "r1")["preview"] is None
    for d in devices[1:MAX_WATCHED]:
        assert client("POST", f"/api/v1/devices/{d}/preview", {"on": True}, auth)[0] == 200
    status, said, _ = client("POST", f"/api/v1/devices/{devices[-1]}/preview", {"on": True}, auth)
    assert status == 409
    assert f"at most {MAX_WATCHED}" in said["detail"]
    assert client("POST", "/api/v1/devices/r0/preview", {"on": False}, auth)[0] == 200
    assert "r0" not in console.previews.watching()
    entries = [(e.action, e.detail) for e in console.db.audit.list()][::-1]
    assert entries[0] == ("preview", {"device": "r0", "on": True})
    assert entries[-1] == ("preview", {"device": "r0", "on": False})


def test_a_jobs_log_is_kept_per_job_bounded_and_only_from_its_robot(
    served: tuple[Console, Client],
) -> None:
    console, client = served
    token = console.db.accounts.new_token("ms-li", "test")
    auth = {"Authorization": f"Bearer {token}"}
    birth(console, "r1")
    birth(console, "r2")
    status, pushed, _ = client("POST", "/api/v1/push", {"lesson": "lights-and-sound"}, auth)
    jobs = {j["device"]: j["job"] for j in pushed["jobs"]}
    assert client("GET", f"/api/v1/jobs/{jobs['r1']}/log", headers=auth)[1]["kept"] is False

    def say(device: str, job: str | None, *lines: str) -> None:
        batch = LogBatch(
            device=device, job=job, lines=[LogLine(stream="stdout", line=x) for x in lines]
        )
        console._on_message(console.topics.log(device), encode(batch))

    say("r1", jobs["r1"], "hello", "lap 1")
    say("r2", jobs["r2"], "r2's own")
    say("r2", jobs["r1"], "a fake line for r1's job")  # dropped: not r2's job
    say("r1", None, "preflight: ok")  # the robot's log, no job's
    status, log, _ = client("GET", f"/api/v1/jobs/{jobs['r1']}/log", headers=auth)
    assert status == 200
    assert (log["device"], log["kept"]) == ("r1", True)
    assert [x["line"] for x in log["lines"]] == ["hello", "lap 1"]
    assert client("GET", "/api/v1/jobs/j-none/log", headers=auth)[0] == 404
    assert client("GET", f"/api/v1/jobs/{jobs['r1']}/log")[0] == 401
    for start in range(0, 600, 200):
        say("r1", jobs["r1"], *[f"line {i}" for i in range(start, start + 200)])
    kept = console.job_log(jobs["r1"]) or []
    assert len(kept) == JOB_LOG_LINES
    assert kept[-1]["line"] == "line 599"


def test_https_with_a_certificate_from_the_classroom_ca(tmp_path: Path) -> None:
    """``roboclass console serve --tls``: the room's CA issues the web certificate; the
    login cookie is then Secure, and the origin check knows the scheme."""
    layout = write_classroom(BrokerSettings(hosts=("hub.local", "127.0.0.1")), tmp_path / "room")
    names = hub_names(layout.root, "127.0.0.1")
    assert names[0] == "127.0.0.1"
    assert {"hub.local", "localhost"} <= set(names)
    cert, key = web_certificate(layout.root, tmp_path / "web", names)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    made = cert.stat().st_mtime_ns
    assert web_certificate(layout.root, tmp_path / "web", names) == (cert, key)  # kept
    assert cert.stat().st_mtime_ns == made
    web_certificate(layout.root, tmp_path / "web", [*names, "lab-2.local"])  # a new name
    assert cert.stat().st_mtime_ns != made
    with pytest.raises(BrokerError, match="no classroom CA key"):
        web_certificate(tmp_path / "nowhere", tmp_path / "web2", names)

    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    console.db.accounts.add_teacher("ms-li", "a long secret")
    trust = ssl.create_default_context(cafile=str(layout.ca_cert))
    try:
        with ApiServer(console, tls=(cert, key)) as server:
            assert server.url.startswith("https://127.0.0.1:")
            conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=trust, timeout=10)
            origin = {"Origin": server.url, "Content-Type": "application/json"}
            body = json.dumps(
                {"username": "ms-li", "password": "a long secret", "session": "cookie"}
            )
            conn.request("POST", "/api/v1/login", body=body, headers=origin)
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            set_cookie = response.getheader("set-cookie") or ""
            assert "; secure" in set_cookie.lower()
            assert "httponly" in set_cookie.lower()
            cookie = set_cookie.split(";")[0]
            conn.request("POST", "/api/v1/stop", headers={**origin, "Cookie": cookie})
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            plain = {**origin, "Cookie": cookie, "Origin": server.url.replace("https", "http")}
            conn.request("POST", "/api/v1/release", headers=plain)
            response = conn.getresponse()
            response.read()
            assert response.status == 403  # http://... is another origin than https://...
            conn.close()
            # a client that does not trust the room's CA is refused
            with pytest.raises(ssl.SSLError):
                untrusting = http.client.HTTPSConnection(
                    "127.0.0.1", server.port, context=ssl.create_default_context(), timeout=10
                )
                untrusting.request("GET", "/api/v1/health")
    finally:
        console.close()


def test_console_serve_tls_options_are_checked(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "c"), "--duration", "0"]
    result = runner.invoke(console_group, ["serve", "--tls", *data])
    assert result.exit_code != 0
    assert "--tls needs the console's folder" in result.output
    pem = tmp_path / "x.pem"
    pem.write_text("x")
    result = runner.invoke(console_group, ["serve", "--tls-cert", str(pem), *data])
    assert result.exit_code != 0
    assert "together" in result.output


def test_the_new_routes_need_a_teacher(served: tuple[Console, Client]) -> None:
    console, client = served
    birth(console, "r1")
    for method, path in (
        ("GET", "/api/v1/session"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/0123456789abcdef"),
        ("GET", "/api/v1/jobs/j1/log"),
        ("GET", "/api/v1/jobs/j1/log/events"),
        ("POST", "/api/v1/devices/r1/preview"),
        ("GET", "/api/v1/devices/r1/preview/events"),
    ):
        body = {"on": True} if path.endswith("preview") else {"name": "x"}
        status = client(method, path, body if method == "POST" else None)[0]
        assert status == 401, path
    assert console.previews.watching() == {}


def test_a_preview_ends_when_its_robot_goes_offline(tmp_path: Path) -> None:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    try:
        on = DeviceState(device="r1", session="s1", online=True, ts=time.time())
        console._on_message(console.topics.state("r1"), encode(on))
        console.preview_on("r1", "ms-li")
        assert set(console.previews.watching()) == {"r1"}
        off = DeviceState(device="r1", session="s1", online=False, ts=time.time())
        console._on_message(console.topics.state("r1"), encode(off))
        assert console.previews.watching() == {}
    finally:
        console.close()

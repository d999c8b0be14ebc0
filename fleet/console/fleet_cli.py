"""``roboclass fleet ...``: the console's JSON API from the command line.

The console's address comes from ``--url`` or ``ROBOCLASS_CONSOLE_URL``; the
API token from ``--token`` or ``ROBOCLASS_TOKEN`` (``roboclass console
token NAME`` makes one), or log in with ``--user`` (password from
``ROBOCLASS_PASSWORD`` or a prompt).
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from fleet.core.errors import ConsoleApiError

__all__ = ["ApiClient", "fleet"]

_TIMEOUT_S = 30.0


@dataclass
class ApiClient:
    """A tiny client of the console's API (standard library only)."""

    url: str
    token: str | None = None

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = f"{self.url.rstrip('/')}{path}" + (
            f"?{urllib.parse.urlencode(query)}" if query else ""
        )
        if not url.startswith(("http://", "https://")):
            raise ConsoleApiError(f"the console address must start with http:// ({self.url})")
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - checked above
        request.add_header(
            "Content-Type", "application/octet-stream" if raw is not None else "application/json"
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310 - http(s) checked above
                text = response.read().decode()
                kind = response.headers.get("content-type", "")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("detail", detail)
            raise ConsoleApiError(f"the console said {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ConsoleApiError(
                f"cannot reach the console at {self.url} ({exc}); is `roboclass console serve` running?"
            ) from exc
        return json.loads(text) if "json" in kind else text

    def login(self, username: str, password: str) -> str:
        token = str(
            self.call("POST", "/api/v1/login", {"username": username, "password": password})[
                "token"
            ]
        )
        self.token = token
        return token


@click.group()
@click.option(
    "--url", envvar="ROBOCLASS_CONSOLE_URL", default="http://127.0.0.1:8080", show_default=True
)
@click.option("--token", envvar="ROBOCLASS_TOKEN", default=None, help="An API token.")
@click.option("--user", default=None, help="Log in as this teacher instead of a token.")
@click.pass_context
def fleet(ctx: click.Context, url: str, token: str | None, user: str | None) -> None:
    """Use the teacher's console: devices, push, stop, results."""
    client = ApiClient(url, token)
    if user is not None and token is None:
        password = os.environ.get("ROBOCLASS_PASSWORD") or click.prompt("password", hide_input=True)
        try:
            client.login(user, password)
        except ConsoleApiError as exc:
            raise click.ClickException(str(exc)) from exc
    ctx.obj = {**(ctx.obj or {}), "client": client}


def _client(ctx: click.Context) -> ApiClient:
    client: ApiClient = ctx.obj["client"]
    return client


def _run(ctx: click.Context, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    try:
        return _client(ctx).call(method, path, body, **kw)
    except ConsoleApiError as exc:
        raise click.ClickException(str(exc)) from exc


JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@fleet.command()
@JSON
@click.pass_context
def devices(ctx: click.Context, as_json: bool) -> None:
    """List the robots the console knows."""
    rows = _run(ctx, "GET", "/api/v1/devices")
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for d in rows:
        state = "online " if d["online"] else "offline"
        stop = " STOPPED" if d["estopped"] else ""
        click.echo(
            f"{d['device']:<16} {state} {d['student'] or '-':<16} job={d['job'] or '-'}{stop}"
        )


@fleet.command()
@click.argument("lesson")
@click.option("--device", "devices_", multiple=True, help="Only these robots (default: all).")
@click.option(
    "--bundle",
    type=click.Path(exists=True, path_type=Path),
    help="Upload this bundle file and push it.",
)
@click.option(
    "--code",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The student's program (a .py file) to run with the lesson (default: its starter code).",
)
@click.option("--time-limit", type=float, default=300.0, show_default=True)
@JSON
@click.pass_context
def push(
    ctx: click.Context,
    lesson: str,
    devices_: tuple[str, ...],
    bundle: Path | None,
    code: Path | None,
    time_limit: float,
    as_json: bool,
) -> None:
    """Push LESSON (a built-in id, or with --bundle a name for the file) to robots.

    With --code FILE every robot runs FILE as the student's program.
    """
    body: dict[str, Any] = {"lesson": lesson, "time_limit_s": time_limit}
    if code is not None:
        try:
            body["code"] = code.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.BadParameter(
                f"cannot read {code} as UTF-8 text / 读不了这个文件: {exc}", param_hint="--code"
            ) from exc
    if bundle is not None:
        uploaded = _run(ctx, "POST", "/api/v1/bundles", raw=bundle.read_bytes())
        body = {**body, "lesson": uploaded["sha256"], "lesson_id": lesson}
    if devices_:
        body["devices"] = list(devices_)
    out = _run(ctx, "POST", "/api/v1/push", body)
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(f"pushed {out['lesson_id']} to {len(out['jobs'])} robots")


@fleet.command("push-model")
@click.argument("model")
@click.option("--device", "devices_", multiple=True, help="Only these robots (default: all).")
@click.option("--as", "name", default=None, help="Install it under this name instead.")
@JSON
@click.pass_context
def push_model(
    ctx: click.Context, model: str, devices_: tuple[str, ...], name: str | None, as_json: bool
) -> None:
    """Install MODEL on robots: a model on this computer by name, or its .onnx/.yaml.

    Run it on the robot where a student taught the model to share it through
    the console; the robots can then use `Classifier(NAME)`.
    """
    from fleet.core.modelpush import MAX_MODEL_BYTES  # noqa: PLC0415 - only this command needs it
    from models import ModelError, Registry  # noqa: PLC0415

    try:
        entry = Registry().find(model)
        data = entry.read_verified()  # a model changed since its manifest never leaves
        manifest = entry.manifest_path.read_text(encoding="utf-8")
    except ModelError as exc:
        raise click.ClickException(f"{exc.text('en')}\n{exc.text('zh')}") from exc
    if len(data) > MAX_MODEL_BYTES:
        raise click.ClickException(
            f"{entry.model_path} is too large: {len(data)} bytes, the limit is {MAX_MODEL_BYTES}\n"
            f"{entry.model_path} 太大：{len(data)} 字节，上限是 {MAX_MODEL_BYTES}"
        )
    uploaded = _run(ctx, "POST", "/api/v1/bundles", raw=data)
    body: dict[str, Any] = {"manifest": manifest, "sha256": uploaded["sha256"], "name": name}
    if devices_:
        body["devices"] = list(devices_)
    out = _run(ctx, "POST", "/api/v1/models/push", body)
    if as_json:
        click.echo(json.dumps(out))
    else:
        click.echo(
            f"pushed model {out['model']} ({out['size']} bytes, sha256 {out['sha256'][:12]}) "
            f"to {len(out['jobs'])} robots"
        )


@fleet.command()
@JSON
@click.pass_context
def stop(ctx: click.Context, as_json: bool) -> None:
    """STOP every robot in the room now (until `clear-stop`)."""
    out = _run(ctx, "POST", "/api/v1/stop")
    click.echo(json.dumps(out) if as_json else f"all robots stopped (epoch {out['epoch']})")


@fleet.command(name="clear-stop")
@JSON
@click.pass_context
def clear_stop(ctx: click.Context, as_json: bool) -> None:
    """Clear the room's STOP; robots stay still until told to move."""
    out = _run(ctx, "POST", "/api/v1/estop/clear")
    click.echo(json.dumps(out) if as_json else f"stop cleared (epoch {out['epoch']})")


@fleet.command(hidden=True)
@JSON
@click.pass_context
def release(ctx: click.Context, as_json: bool) -> None:
    """The old name of `clear-stop` (kept for one release)."""
    if not as_json:
        click.echo("`roboclass fleet release` is now `roboclass fleet clear-stop`", err=True)
    ctx.invoke(clear_stop, as_json=as_json)


FILTERS = [
    click.option("--device", default=None),
    click.option("--student", default=None),
    click.option("--lesson", default=None),
    click.option("--status", default=None),
]


def _filters(f: Any) -> Any:
    for option in reversed(FILTERS):
        f = option(f)
    return f


@fleet.command()
@_filters
@JSON
@click.pass_context
def results(
    ctx: click.Context,
    device: str | None,
    student: str | None,
    lesson: str | None,
    status: str | None,
    as_json: bool,
) -> None:
    """Show results, newest last."""
    params = {"device": device, "student": student, "lesson": lesson, "status": status}
    rows = _run(ctx, "GET", "/api/v1/results", params=params)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for r in rows:
        score = "-" if r["score"] is None else f"{r['score']:.0f}"
        click.echo(
            f"{r['device']:<16} {r['student'] or '-':<16} {r['lesson_id'] or '-':<20} {r['status']:<10} {score}"
        )


@fleet.command()
@_filters
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Write here (default: stdout)."
)
@click.pass_context
def export(
    ctx: click.Context,
    device: str | None,
    student: str | None,
    lesson: str | None,
    status: str | None,
    out: Path | None,
) -> None:
    """Export results as CSV."""
    params = {"device": device, "student": student, "lesson": lesson, "status": status}
    text = str(_run(ctx, "GET", "/api/v1/results.csv", params=params))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}", err=True)

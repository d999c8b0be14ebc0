"""``roboclass lesson ...``: browse, check, pack and run lessons."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from lessons.bundle import bundle_sha256, pack_bundle
from lessons.errors import LessonError
from lessons.library import builtin_lessons, find_lesson, lesson_folders
from lessons.model import load_lesson
from rcbase import Lang, Text

__all__ = ["lesson"]


def _lang(ctx: click.Context) -> Lang:
    lang: Lang = (ctx.obj or {}).get("lang", "en")
    return lang


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group()
def lesson() -> None:
    """Lessons: list, show, validate, pack and run them."""


@lesson.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the lessons as JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the built-in lessons and your own, by grade band."""
    lang = _lang(ctx)
    found, broken = [], []
    for folder in lesson_folders():
        try:
            found.append(load_lesson(folder))
        except LessonError as exc:
            broken.append({"folder": str(folder), "error": str(exc)})
    if as_json:
        _dump({"lessons": [item.summary(lang) for item in found], "broken": broken})
        return
    table = Table("id", "band", "grades", "min", "title")
    for item in found:
        s = item.summary(lang)
        table.add_row(
            s["id"], s["band"], "{}-{}".format(*s["grades"]), str(s["minutes"]), s["title_local"]
        )
    Console().print(table)
    for b in broken:
        click.echo(f"broken lesson {b['folder']}: {b['error']}", err=True)


@lesson.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the lesson as JSON.")
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show a lesson's summary and steps."""
    lang = _lang(ctx)
    try:
        item = find_lesson(name)
    except LessonError as exc:
        raise click.ClickException(str(exc)) from exc
    m = item.model
    steps = [
        {"title": {"en": s.title.en, "zh": s.title.zh}, "body": {"en": s.body.en, "zh": s.body.zh}}
        for s in m.steps
    ]
    if as_json:
        _dump({**item.summary(lang), "path": str(item.path), "steps": steps})
        return
    pick = "zh" if lang == "zh" else "en"
    click.echo(
        f"{getattr(m.title, pick)}  ({m.id}, {m.band}, {m.minutes} min)\n{getattr(m.summary, pick)}\n"
    )
    for i, step in enumerate(steps, 1):
        click.echo(f"{i}. {step['title'][pick]}\n   {step['body'][pick].strip()}\n")


@lesson.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def validate(folders: tuple[Path, ...], as_json: bool) -> None:
    """Check lesson folders (default: every built-in lesson); every error names its file and line."""
    targets = list(folders) or [item.path for item in builtin_lessons()]
    results = []
    for folder in targets:
        try:
            item = load_lesson(folder)
            results.append({"folder": str(folder), "id": item.id, "ok": True, "error": None})
        except LessonError as exc:
            results.append({"folder": str(folder), "id": None, "ok": False, "error": str(exc)})
    if as_json:
        _dump(results)
    else:
        for r in results:
            click.echo(f"{r['folder']}: ok" if r["ok"] else f"{r['error']}")
    if not all(r["ok"] for r in results):
        raise SystemExit(1)


@lesson.command()
@click.argument("name")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Bundle file (default: ID-SHA.rcl).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the bundle's id, size and sha256 as JSON."
)
def pack(name: str, out: Path | None, as_json: bool) -> None:
    """Pack a lesson into one bundle file, named by its sha256."""
    try:
        item = find_lesson(name)
        data = pack_bundle(item.path)
    except LessonError as exc:
        raise click.ClickException(str(exc)) from exc
    digest = bundle_sha256(data)
    path = out or Path(f"{item.id}-{digest[:12]}.rcl")
    path.write_bytes(data)
    info = {
        "id": item.id,
        "version": item.model.version,
        "file": str(path),
        "bytes": len(data),
        "sha256": digest,
    }
    if as_json:
        _dump(info)
    else:
        click.echo(f"{path}: {len(data)} bytes, sha256 {digest}")


@lesson.command()
@click.argument("name")
@click.option(
    "--code",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The student's program (default: the lesson's starter).",
)
@click.option("--solution", is_flag=True, help="Run the lesson's reference solution.")
@click.option("--sim/--robot", default=True, help="In the simulator (default) or on this robot.")
@click.option("--world", default=None, help="Another simulator world.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def run(
    ctx: click.Context,
    name: str,
    code: Path | None,
    solution: bool,
    sim: bool,
    world: str | None,
    as_json: bool,
) -> None:
    """Run a student's program for a lesson and grade it.

    Exits with status 0 when the lesson is passed, 1 otherwise.
    """
    from hardware.settings import load_settings  # noqa: PLC0415
    from lessons.runner import run_lesson  # noqa: PLC0415
    from lessons.sandbox import available  # noqa: PLC0415

    lang = _lang(ctx)
    try:
        item = find_lesson(name)
    except LessonError as exc:
        raise click.ClickException(str(exc)) from exc
    program = item.file("solution.py") if solution else code
    backend = "sim" if sim else (load_settings().backend or "gpio")

    def echo(stream: str, line: str) -> None:
        if not as_json:
            click.echo(line, err=stream == "stderr")

    box = available()
    if not box.ok:  # the student's own file on their own computer: it may run, and we say so
        click.echo(
            Text(
                f"warning: no sandbox ({box.reason}); the program runs with your rights. "
                f"Fix: {box.fix}",
                f"注意：没有沙箱（{box.reason}），程序以你的权限运行。修复：{box.fix}",
            )(lang),
            err=True,
        )
    stop = threading.Event()
    try:
        result = run_lesson(
            item,
            code=program,
            backend=backend,
            world=world,
            on_line=echo,
            stop=stop,
            unconfined_ok=True,
        )
    except KeyboardInterrupt:
        stop.set()
        raise
    except LessonError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _dump(result.as_dict())
    else:
        console = Console()
        console.print(
            f"\n[bold]{result.status}[/]  score {result.score}/100  ({result.run_status}, {result.seconds:.1f} s)"
        )
        for r in result.grade.rubric:
            mark = "[green]✓[/]" if r.passed else "[red]✗[/]"
            console.print(f"  {mark} {r.title_zh if lang == 'zh' else r.title_en}  ({r.points})")
        console.print(result.grade.feedback.get(lang, ""))
        if result.error:
            console.print(f"[red]{result.error}[/]")
    raise SystemExit(0 if result.status == "passed" else 1)

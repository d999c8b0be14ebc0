"""fleet/console/api/: a router per area, documented answers, one set of result filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.console.api import create_app
from fleet.console.console import Console, ConsoleConfig

#: Routes that answer something other than JSON (a file, CSV, an event stream).
NOT_JSON = {
    "/bundles/{sha256}",
    "/api/v1/student/teach/events",
    "/api/v1/student/teach/pictures/{label}/{number}",  # a thumbnail, image/jpeg
    "/api/v1/results.csv",
    "/api/v1/events",
    "/api/v1/devices/{device}/log/events",
    "/api/v1/jobs/{job}/log/events",
    "/api/v1/devices/{device}/preview/events",
    "/api/v1/results.xapi",
    "/api/v1/periods/{period_id}/qr.svg",
    "/api/v1/student/runs/{run}/events",
}
#: Routes whose answers are not described field by field.
LOOSE = {
    "/api/v1/devices/{device}/log",  # log lines as the robot sent them
    "/api/v1/library",  # each lesson's summary, as lessons.model.Lesson.summary() gives it
    "/api/v1/student/lesson",  # the same summary, with the steps and the student's code
    "/api/v1/student/lessons",  # the same summaries, shortened
}


@pytest.fixture
def spec(tmp_path: Path) -> Iterator[dict[str, Any]]:
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    try:
        yield create_app(console).openapi()
    finally:
        console.close()


def _answer(op: dict[str, Any]) -> dict[str, Any] | None:
    content = op["responses"].get("200", {}).get("content", {})
    json_body = content.get("application/json")
    return None if json_body is None else json_body.get("schema")


def test_every_json_route_documents_its_answer_with_a_model(spec: dict[str, Any]) -> None:
    loose = []
    for path, ops in spec["paths"].items():
        if path in NOT_JSON | LOOSE:
            continue
        for method, op in ops.items():
            schema = _answer(op)
            assert schema, (method, path)
            items = schema.get("items", schema)
            if "$ref" not in items and "anyOf" not in items:
                loose.append(f"{method.upper()} {path}")
    assert loose == [], loose


def test_result_lists_share_one_set_of_filters(spec: dict[str, Any]) -> None:
    filters = {"device", "student", "lesson", "status", "since", "until", "student_id", "roster"}
    for path in ("/api/v1/results", "/api/v1/results.csv", "/api/v1/results.xapi"):
        params = {p["name"] for p in spec["paths"][path]["get"].get("parameters", [])}
        assert filters <= params, path


def test_release_has_a_clearly_named_twin_and_is_deprecated(spec: dict[str, Any]) -> None:
    assert spec["paths"]["/api/v1/release"]["post"]["deprecated"] is True
    assert not spec["paths"]["/api/v1/estop/clear"]["post"].get("deprecated", False)


def test_the_api_has_a_router_per_area(spec: dict[str, Any]) -> None:
    tags = {
        tag for ops in spec["paths"].values() for op in ops.values() for tag in op.get("tags", [])
    }
    assert {
        "accounts",
        "devices",
        "roster",
        "jobs",
        "lessons",
        "results",
        "e-stop",
        "audit",
        "live",
        "previews",
    } <= tags


def test_the_console_and_brokers_share_the_one_closeable_lifecycle(tmp_path: Path) -> None:
    from fleet.broker.embedded import EmbeddedBroker  # noqa: PLC0415
    from fleet.broker.mosquitto import Mosquitto  # noqa: PLC0415
    from fleet.console.api import ApiServer  # noqa: PLC0415
    from fleet.enrol.console import Enroller  # noqa: PLC0415
    from rcbase.closeable import Closeable  # noqa: PLC0415

    for owner in (Console, ApiServer, EmbeddedBroker, Mosquitto, Enroller):
        assert issubclass(owner, Closeable), owner
        assert not {"close", "closed", "__exit__"} & set(vars(owner)), owner
    console = Console(ConsoleConfig("127.0.0.1", 9, tmp_path / "console"))
    with ApiServer(console) as server:
        assert server.port and not server.closed
    assert server.closed
    server.close()  # again: nothing happens
    console.close()
    console.close()
    assert console.closed and console.db.closed

"""The console's body cap (:mod:`fleet.console.limits`), uploads and a bundle's unpacking caps."""

from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request

from fleet.console.limits import BodyLimit
from fleet.core.bundles import BundleCache, BundleStore
from fleet.core.errors import JobRejected
from fleet.core.protocol import BundleRef
from lessons import BundleError, unpack_bundle
from lessons.bundle import MAX_ENTRIES

Message = dict[str, Any]


def app_reading_its_body(seen: list[int]) -> FastAPI:
    app = FastAPI()

    @app.post("/json")
    async def json_route(request: Request) -> dict[str, int]:
        seen.append(len(await request.body()))
        return {"read": seen[-1]}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        seen.append(size)
        return {"read": size}

    return app


def call(
    app: Any, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, Any, int]:
    """POST ``chunks`` to ``app``; its status, JSON answer and how many chunks it read."""
    sent: list[Message] = []
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    taken = 0

    async def receive() -> Message:
        nonlocal taken
        if taken < len(pending):
            taken += 1
            return pending[taken - 1]
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers or [],
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
        "http_version": "1.1",
        "root_path": "",
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), taken


def test_a_body_under_the_cap_reaches_the_route() -> None:
    seen: list[int] = []
    guarded = BodyLimit(app_reading_its_body(seen), default=100)
    assert call(guarded, "/json", [b"x" * 60, b"x" * 40])[:2] == (200, {"read": 100})


def test_a_declared_length_over_the_cap_is_refused_before_the_route_runs() -> None:
    seen: list[int] = []
    guarded = BodyLimit(app_reading_its_body(seen), default=100)
    status, answer, taken = call(guarded, "/json", [b"x" * 101], [(b"content-length", b"101")])
    assert status == 413 and taken == 0 and seen == []
    assert "too large" in answer["detail"] and "请求过大" in answer["detail"]


@pytest.mark.parametrize("path", ["/json", "/upload"])
def test_a_chunked_body_stops_at_the_cap_without_reading_more(path: str) -> None:
    seen: list[int] = []
    guarded = BodyLimit(app_reading_its_body(seen), default=100)
    status, answer, taken = call(guarded, path, [b"x" * 60] * 10)
    assert status == 413 and taken == 2 and seen == []  # the second chunk passed the cap
    assert "100 bytes" in answer["detail"] and "100 字节" in answer["detail"]


def test_a_route_may_have_its_own_cap() -> None:
    seen: list[int] = []
    guarded = BodyLimit(app_reading_its_body(seen), default=100, routes={"/upload": 1000})
    assert call(guarded, "/upload", [b"x" * 300] * 3)[:2] == (200, {"read": 900})
    assert call(guarded, "/json", [b"x" * 300] * 3)[0] == 413
    assert call(guarded, "/upload", [b"x" * 300] * 4)[0] == 413


def _tar(*members: tuple[tarfile.TarInfo, bytes], fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def test_a_huge_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    long_name = "a/" * 1_000_000 + "b.py"  # a 2 MB pax header: tarfile would read it whole
    bundle = _tar(_file("lesson.yaml"), _file(long_name), fmt=tarfile.PAX_FORMAT)
    with pytest.raises(BundleError, match=r"header .* is over") as caught:
        unpack_bundle(bundle, tmp_path / "out")
    assert "头部" in str(caught.value)


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    many = [_file(f"f{i}.txt") for i in range(MAX_ENTRIES + 1)]
    with pytest.raises(BundleError, match="more than 2000 entries") as caught:
        unpack_bundle(_tar(_file("lesson.yaml"), *many), tmp_path / "out")
    assert "条目" in str(caught.value)


def test_an_upload_is_kept_only_when_it_is_committed(tmp_path: Path) -> None:
    store = BundleStore(tmp_path / "bundles")
    with store.incoming() as part:
        part.write(b"half a bun")  # the client went away: nothing is kept
    assert list(store.root.iterdir()) == []
    for _ in range(2):  # the same bytes twice: one file, at its sha256
        with store.incoming() as part:
            part.write(b"a whole ")
            part.write(b"bundle")
            sha = part.commit()
    assert sha == hashlib.sha256(b"a whole bundle").hexdigest() and part.size == 14
    assert [p.name for p in store.root.iterdir()] == [sha]
    assert store.path(sha) is not None and (store.root / sha).stat().st_mode & 0o777 == 0o644


@pytest.fixture
def console_serving(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server over a folder, as the console serves ``/bundles/SHA``."""
    root = tmp_path / "served"
    (root / "bundles").mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", root / "bundles"
        finally:
            server.shutdown()


def test_a_fetched_bundle_goes_to_disk_as_it_comes_and_stops_past_its_limit(
    tmp_path: Path, console_serving: tuple[str, Path]
) -> None:
    url, served = console_serving
    data = bytes(range(256)) * 1000
    sha = hashlib.sha256(data).hexdigest()
    (served / sha).write_bytes(data)
    cache = BundleCache(tmp_path / "cache")
    ref = BundleRef(id="lesson", sha256=sha, size=len(data))
    assert cache.fetch(ref, url).read_bytes() == data
    (cache.root / sha).unlink()
    with pytest.raises(JobRejected, match="too large") as caught:  # the job's size was a lie
        cache.fetch(ref.model_copy(update={"size": 1000}), url, limit=1000)
    assert "太大" in str(caught.value)
    other = hashlib.sha256(b"other").hexdigest()
    (served / other).write_bytes(data)  # not what its name says
    with pytest.raises(JobRejected, match="bad sha256"):
        cache.fetch(BundleRef(id="lesson", sha256=other, size=len(data)), url)
    assert list(cache.root.iterdir()) == []  # nothing half-written is kept


def test_a_bundle_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.tar.gz"
    with huge.open("wb") as f:
        f.truncate(300 * 1024 * 1024)  # sparse: reading it whole would take 300 MB
    with pytest.raises(BundleError, match="the limit is") as caught:
        unpack_bundle(huge, tmp_path / "out")
    assert "上限" in str(caught.value)

"""A student's own model through the fleet, on Mosquitto: taught on one robot, pushed through
the console to two others, installed (sha256 verified) and used by a lesson there.

Robot A is the teach-your-robot solution run with its own data folder (the real capture,
training and export path). The other robots are simulated agents with the real lesson runner,
each with its own cache folder, so a model can only reach them through the push. Tampered
pushes (a bad signature, a file that does not match its sha256) are REJECTED and install nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.agent.agent import lessons_runner
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from fleet.core.modelpush import MAX_MODEL_BYTES, prepare_model
from fleet.core.protocol import JobDocument, encode
from lessons import find_lesson, run_lesson
from models import Registry, sha256_of
from roboclass.cli import cli
from tests.integration.test_fleet_api import call
from tests.integration.test_fleet_e2e import publish_raw
from tests.integration.test_fleet_support import Room, broker, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def robot_a(tmp_path: Path) -> Path:
    """Robot A's data folder, where its student taught ``my-signs`` (teach-your-robot)."""
    data = tmp_path / "robot-a"
    lesson = find_lesson("teach-your-robot")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ROBOCLASS_DATA_DIR", str(data))
        taught = run_lesson(lesson, code=lesson.file("solution.py"))
    assert taught.status == "passed", taught.output[-1500:]
    return data


@pytest.fixture
def classroom(isolated_dirs: Path, tmp_path: Path) -> Iterator[tuple[Room, ApiServer, str]]:
    """Mosquitto, a console with its API, and robots r01-r03 running the lesson runner."""
    with broker("mosquitto") as (host, port):
        console = Console(ConsoleConfig(host, port, tmp_path / "console", keepalive=2))
        server = ApiServer(console).start()
        console.config.url = server.url
        console.start()
        room = Room(console, host, port, tmp_path)
        try:
            assert console.wait_connected(10)
            console.db.accounts.add_teacher("ms-li", "a long secret")
            token = console.db.accounts.new_token("ms-li", "test")
            for name in ("r01", "r02", "r03"):
                room.agent(name, runner=lessons_runner, cache_dir=cache_of(tmp_path, name))
            wait_until(lambda: len(console.db.devices.ids(online_only=True)) == 3, 20, "births")
            yield room, server, token
        finally:
            room.close()
            server.close()


def cache_of(tmp: Path, device: str) -> Path:
    return tmp / "agents" / device / "cache"


def installed(tmp: Path, device: str) -> Path:
    return cache_of(tmp, device) / "models" / "my-signs.onnx"


def reasons(room: Room) -> dict[str, str | None]:
    return {r.job: r.reason for r in room.console.db.jobs.list()}


def test_a_taught_model_is_pushed_installed_and_used_and_tampering_is_rejected(
    robot_a: Path, classroom: tuple[Room, ApiServer, str], tmp_path: Path
) -> None:
    room, server, token = classroom
    console = room.console
    taught = Registry(roots=[(robot_a / "models", "data")]).find("my-signs")
    sha = taught.manifest.sha256

    # 1. From robot A through the console: `roboclass fleet push-model` reads robot A's model.
    fleet = ["fleet", "--url", server.url, "--token", token]
    pushed = CliRunner().invoke(
        cli,
        [*fleet, "push-model", "my-signs", "--device", "r01", "--device", "r02", "--json"],
        env={"ROBOCLASS_DATA_DIR": str(robot_a)},
        catch_exceptions=False,
    )
    assert pushed.exit_code == 0, pushed.output
    out = json.loads(pushed.output)
    assert out["model"] == "my-signs" and out["sha256"] == sha
    model_jobs = {j["job"] for j in out["jobs"]}
    wait_until(
        lambda: all(room.jobs()[j] == "SUCCEEDED" for j in model_jobs),
        30,
        f"installs {room.jobs()}",
    )
    for device in ("r01", "r02"):
        assert sha256_of(installed(tmp_path, device)) == sha  # the very bytes robot A exported
        entry = Registry(roots=[(cache_of(tmp_path, device) / "models", "cache")]).find("my-signs")
        assert entry.manifest.label_ids() == ["stop", "left", "right"]
        assert entry.read_verified()
    assert not installed(tmp_path, "r03").exists()
    audit = console.db.audit.list(action="push-model")
    assert audit and audit[0].detail["devices"] == ["r01", "r02"]

    # 2. A lesson that needs the student's own model runs on both, with Classifier on it.
    program = find_lesson("drive-by-your-signs").file("solution.py").read_text(encoding="utf-8")
    status, lesson = call(
        f"{server.url}/api/v1/push",
        "POST",
        {"lesson": "drive-by-your-signs", "devices": ["r01", "r02", "r03"], "code": program},
        token,
    )
    assert status == 200
    lesson_jobs = {j["device"]: j["job"] for j in lesson["jobs"]}
    final = {"SUCCEEDED", "FAILED", "REJECTED", "TIMED_OUT", "CANCELED"}
    wait_until(
        lambda: all(room.jobs()[j] in final for j in lesson_jobs.values()), 90, "lesson runs"
    )
    # a job's status can arrive before its result is stored (results are written in batches)
    wait_until(
        lambda: (
            {"r01", "r02"}
            <= {r.device for r in console.db.results.list(lesson="drive-by-your-signs")}
        ),
        30,
        "the lesson results stored",
    )
    results = {r.device: r for r in console.db.results.list(lesson="drive-by-your-signs")}
    for device in ("r01", "r02"):
        assert room.jobs()[lesson_jobs[device]] == "SUCCEEDED"
        assert results[device].result["status"] == "passed", results[device].result
        assert results[device].result["metrics"]["signs_reported"] == "left, right, stop"
    # r03 never got the model: the lesson does not start, and says why (en + zh)
    assert room.jobs()[lesson_jobs["r03"]] == "FAILED"
    why = reasons(room)[lesson_jobs["r03"]] or ""
    assert 'has not learned "my-signs"' in why and "还没有学会" in why

    # 3. Tampered pushes to r03 are REJECTED with a reason, and nothing is installed.
    ref = prepare_model(console.bundles, taught.manifest_path.read_text(encoding="utf-8"), sha)
    now = time.time()
    signed = console.key.sign(
        JobDocument(
            job="forged", device="r03", model=ref, issued=now, expires=now + 60, kid=console.key.kid
        )
    )
    forged = signed.model_copy(  # the manifest changed after signing: other labels
        update={"model": ref.model_copy(update={"manifest": ref.manifest.replace("left", "go")})}
    )
    console.db.jobs.add("forged", "r03", "model:my-signs", sha, encode(forged).decode())
    publish_raw(room.host, room.port, [(console.topics.job("r03", "forged"), encode(forged))])
    stored = console.bundles.path(sha)
    assert stored is not None
    good = stored.read_bytes()
    stored.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # the console's copy, changed on disk
    changed = console.push_model(ref, ["r03"])[0]["job"]
    wait_until(
        lambda: room.jobs()["forged"] == "REJECTED" and room.jobs()[changed] == "REJECTED",
        30,
        f"rejections {room.jobs()}",
    )
    assert "bad signature" in (reasons(room)["forged"] or "")
    assert "签名不对" in (reasons(room)["forged"] or "")
    assert "bad sha256" in (reasons(room)[changed] or "")
    assert "sha256 不符" in (reasons(room)[changed] or "")
    assert not installed(tmp_path, "r03").exists()
    stored.write_bytes(good)

    # 4. The API refuses a model with a wrong sha256, a wrong manifest, or one too large.
    api = f"{server.url}/api/v1"
    manifest = taught.manifest_path.read_text(encoding="utf-8")
    other = call(f"{api}/bundles", "POST", raw=b"another file", token=token)[1]["sha256"]
    status, said = call(
        f"{api}/models/push", "POST", {"manifest": manifest, "sha256": other}, token
    )
    assert status == 400 and "bad sha256" in said["detail"] and "sha256 不符" in said["detail"]
    bad = manifest.replace("task: classify", "task: sort")
    status, said = call(f"{api}/models/push", "POST", {"manifest": bad, "sha256": sha}, token)
    assert status == 400 and "wrong manifest" in said["detail"] and "task" in said["detail"]
    huge = b"\0" * (MAX_MODEL_BYTES + 1)
    big = call(f"{api}/bundles", "POST", raw=huge, token=token)[1]["sha256"]
    status, said = call(
        f"{api}/models/push",
        "POST",
        {"manifest": manifest.replace(sha, big), "sha256": big},
        token,
    )
    assert status == 413 and "too large" in said["detail"] and "太大" in said["detail"]
    assert len(room.console.db.jobs.list()) == len(room.jobs())  # nothing was pushed by those

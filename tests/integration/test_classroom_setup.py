"""The classroom set-up of docs/maintainers.md works as written: every command, in order.

The page's ``sh classroom`` blocks are run as they are (``bash -e``, the
settings block of step 1 first, as a maintainer types it in every
terminal); ``sh classroom-background`` blocks keep running, each in a
terminal of its own, so the test starts them in the background and waits
until they answer. Only the page's variables differ from a real hub: a
temporary ``CLASSROOM``, ``HUB=localhost`` and free ports. Real Mosquitto
with the generated configuration, the console and two agents on the sim
backend; a program pushed with ``roboclass fleet push --code`` comes back
from both robots as a stored result.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fleet.core.bundles import INLINE_LIMIT
from lessons.bundle import pack_bundle
from tests.conftest import free_port, system_part

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "maintainers.md"
LIBRARY = ROOT / "lessons" / "library"
BLOCK = re.compile(r"^( *)```sh (classroom(?:-background)?)\n(.*?)^\1```", re.M | re.S)
#: The whole set-up, from `broker config` to both results, is bounded by this.
DEADLINE_S = 100.0


def blocks(section: str) -> list[tuple[str, str]]:
    """(kind, commands) of each marked block, dedented, in page order."""
    return [
        (kind, textwrap.dedent(indent + body.replace("\n" + indent, "\n")).strip() + "\n")
        for indent, kind, body in BLOCK.findall(section)
    ]


def sections() -> tuple[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    english, _, chinese = text.partition("\n## 中文\n")
    return english, chinese


def without_comments(commands: str) -> str:
    return re.sub(r"\s+# [^\n]*", "", commands)


def test_the_page_says_the_same_in_both_languages() -> None:
    english, chinese = sections()
    en, zh = blocks(english), blocks(chinese)
    assert len(en) >= 8, "the English set-up lost its marked commands"
    assert [(k, without_comments(c)) for k, c in en] == [(k, without_comments(c)) for k, c in zh], (
        "the zh and en set-ups must run the same commands"
    )


class Run:
    """The page's commands in one temporary classroom; background ones are stopped at the end."""

    def __init__(self, tmp: Path, settings: str, stack: ExitStack) -> None:
        self.tmp = tmp
        self.settings = settings
        self.stack = stack
        self.classroom = tmp / "classroom"
        self.web_port = free_port()
        bin_dir = str(Path(sys.executable).parent)
        self.env = {
            **os.environ,
            "CLASSROOM": str(self.classroom),
            "HUB": "localhost",
            "MQTT_PORT": str(free_port()),
            "WEB_PORT": str(self.web_port),
            "ROBOCLASS_DATA_DIR": str(tmp / "data"),
            "ROBOCLASS_CACHE_DIR": str(tmp / "cache"),
            "ROBOCLASS_CONFIG_DIR": str(tmp / "config"),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("ROBOCLASS_TOKEN", None)
        self.env.pop("ROBOCLASS_CONSOLE_URL", None)
        self.logs: list[Path] = []

    def script(self, commands: str) -> list[str]:
        return ["bash", "-euo", "pipefail", "-c", self.settings + "\n" + commands]

    def run(self, commands: str) -> str:
        done = subprocess.run(
            self.script(commands),
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (
            f"{commands}\nfailed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def start(self, commands: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"background-{len(self.logs)}.log"
        self.logs.append(log)
        out = log.open("wb")
        self.stack.callback(out.close)
        proc = subprocess.Popen(
            self.script(commands),
            env=self.env,
            cwd=self.tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.stack.callback(stop, proc)
        return proc

    def said(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs
        )

    def api(self, path: str) -> Any:
        token = (self.classroom / "ms-li.token").read_text().strip()
        request = urllib.request.Request(f"http://localhost:{self.web_port}{path}")
        request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the block's whole process group (as Ctrl+C in its terminal), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_until(check: Callable[[], bool], run: Run, what: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}:\n{run.said()}")


def listening(port: int) -> bool:
    with socket.create_connection(("localhost", port), timeout=1):
        return True


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # it answered


def uids_of_children(proc: subprocess.Popen[bytes], name: str) -> list[int]:
    """The real uids of the processes named ``name`` in ``proc``'s session."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            stat = (status.parent / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if f"Name:\t{name}\n" in text and int(fields[3]) == proc.pid:  # its session id
            found.append(int(re.search(r"^Uid:\t(\d+)", text, re.M).group(1)))  # type: ignore[union-attr]
    return found


def wait_for_ready(run: Run, commands: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Wait as the maintainer does before the next step: until the block's program answers."""
    if "broker up" in commands:
        port = int(run.env["MQTT_PORT"])
        wait_until(lambda: listening(port), run, "Mosquitto listening", deadline)
        # Mosquitto never runs as root, even when the page is run by root
        uids = uids_of_children(proc, "mosquitto")
        assert uids and 0 not in uids, (uids, run.said())
    elif "console serve" in commands:
        url = f"http://localhost:{run.web_port}/"
        wait_until(lambda: answers(url), run, "the console answering", deadline)
    elif "devices/robot-02" in commands:  # both robots are started: both online
        wait_until(
            lambda: (
                sorted(d["device"] for d in run.api("/api/v1/devices") if d["online"])
                == ["robot-01", "robot-02"]
            ),
            run,
            "both robots online",
            deadline,
        )


def push_a_large_bundle(run: Run, deadline: float) -> None:
    """Not on the page: a lesson of one's own, too large to travel inside the job."""
    lesson = run.tmp / "big-lights"
    shutil.copytree(LIBRARY / "lights-and-sound", lesson)
    (lesson / "padding.bin").write_bytes(os.urandom(2 * INLINE_LIMIT))  # does not compress
    bundle = run.tmp / "big-lights.tar.gz"
    bundle.write_bytes(pack_bundle(lesson))
    assert bundle.stat().st_size > INLINE_LIMIT
    run.run(
        'export ROBOCLASS_TOKEN=$(cat "$CLASSROOM/ms-li.token")\n'
        f"roboclass fleet push big-lights --bundle {bundle} --code lights.py\n"
    )
    wait_until(
        lambda: (
            len([r for r in run.api("/api/v1/results?lesson=big-lights") if r["score"] == 100]) == 2
        ),
        run,
        "both robots' results of the large bundle",
        deadline,
    )


@contextmanager
def classroom(tmp_path: Path) -> Iterator[tuple[Run, list[tuple[str, str]]]]:
    english, _ = sections()
    steps = blocks(english)
    with ExitStack() as stack:
        yield Run(tmp_path, steps[0][1], stack), steps


def test_the_documented_classroom_set_up_runs_as_written(tmp_path: Path) -> None:
    system_part("mosquitto")
    system_part("bwrap")
    deadline = time.monotonic() + DEADLINE_S
    with classroom(tmp_path) as (run, steps):
        kinds = [kind for kind, _ in steps]
        assert kinds.count("classroom-background") == 4, "broker, console and two robots"
        background: list[subprocess.Popen[bytes]] = []
        for kind, commands in steps[1:]:
            if kind == "classroom":
                if "fleet results" in commands:  # the page says "a few seconds later"
                    wait_until(
                        lambda: (
                            len([r for r in run.api("/api/v1/results") if r["score"] is not None])
                            == 2
                        ),
                        run,
                        "both robots' results stored",
                        deadline,
                    )
                out = run.run(commands)
                if "fleet devices" in commands:
                    assert re.search(r"robot-01\s+online", out), out
                    assert re.search(r"robot-02\s+online", out), out
                if "fleet push" in commands:
                    assert "pushed lights-and-sound to 2 robots" in out, out
                if "fleet results" in commands:
                    rows = [line.split() for line in out.splitlines() if line.strip()]
                    assert sorted(row[0] for row in rows) == ["robot-01", "robot-02"], out
                continue
            background.append(run.start(commands))
            wait_for_ready(run, commands, background[-1], deadline)
        for proc in background:
            assert proc.poll() is None, f"a background command stopped:\n{run.said()}"

        results = run.api("/api/v1/results")
        assert sorted(r["device"] for r in results) == ["robot-01", "robot-02"]
        for r in results:
            # 100 only with the program of the page (the lesson's starter code scores 30)
            assert (r["lesson_id"], r["score"]) == ("lights-and-sound", 100), r
        # A bundle over the inline limit is fetched from the address the robots were told.
        push_a_large_bundle(run, deadline)

        # robots were told an address on the hub's name, not the console's loopback bind
        said = run.said()
        assert f"console API on http://localhost:{run.web_port} (listening on 0.0.0.0:" in said
        # each robot ran the console's jobs with the key from its own folder (console.pub)
        pub = run.classroom / "broker" / "devices" / "robot-01" / "console.pub"
        assert pub.read_text().strip() in said

"""A class purged while a robot is off still reaches that robot (issue 23: "a purge of the
class leaves no picture of its students anywhere on the console or the robots").

Mosquitto, the console with its API, and one real ``roboclass agent`` process on
the sim backend. Two students of two classes take teach pictures on the robot
(cards held up to its simulated camera); the agent stops; the teacher purges one
class, which the robot, off, cannot hear; the agent starts again on the same
folders, the console asks it which students it holds, and it deletes the
purged class's pictures. The other class's stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.broker.mosquitto import Mosquitto
from fleet.console.api import ApiServer
from fleet.console.console import Console, ConsoleConfig
from tests.conftest import system_part
from tests.integration.test_fleet_faults import AgentProcess
from tests.integration.test_fleet_support import wait_until
from tests.unit.test_console_security import Client

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROBOT = "robot-01"
TEACHER, PASSWORD = "ms-li", "a long classroom secret"
PICTURES = 3


@pytest.fixture
def room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Console, ApiServer, AgentProcess]]:
    system_part("mosquitto")
    for name in ("DATA", "CACHE", "CONFIG"):  # the agent process's folders, in tmp_path
        monkeypatch.setenv(f"ROBOCLASS_{name}_DIR", str(tmp_path / name.lower()))
    with Mosquitto.loopback() as broker:
        console = Console(ConsoleConfig(broker.host, broker.port, tmp_path / "console"))
        server = ApiServer(console).start()
        console.config.url = server.url
        agent = AgentProcess(ROBOT, broker, console, tmp_path)  # type: ignore[arg-type]
        try:
            console.start()
            assert console.wait_connected(10)
            yield console, server, agent
        finally:
            agent.close()
            server.close()
            console.close()


def online(console: Console) -> bool:
    return console.db.devices.ids(online_only=True) == [ROBOT]


def pictures(folder: Path) -> int:
    try:
        return sum(1 for _ in folder.rglob("*.jpg"))
    except FileNotFoundError:  # being deleted right now
        return 0


def take_pictures(console: Console, student: str, signs: tuple[str, ...]) -> None:
    teach = console.teach
    for sign in signs:
        teach.command(ROBOT, student, "label", label=sign, en=sign, zh=sign)
        teach.command(ROBOT, student, "card", card=sign)
        teach.command(ROBOT, student, "capture", label=sign, count=PICTURES)
    teach.command(ROBOT, student, "card", card=None)


def test_a_robot_off_during_a_purge_deletes_the_pictures_when_it_comes_back(
    room: tuple[Console, ApiServer, AgentProcess], tmp_path: Path
) -> None:
    console, server, agent = room
    ana = console.db.rosters.add_student("Ana", "7A")  # purged
    cy = console.db.rosters.add_student("Cy", "7B")  # kept
    console.db.accounts.add_teacher(TEACHER, PASSWORD)
    folders = tmp_path / "state" / "teach"
    agent.start()
    wait_until(lambda: online(console), 60, "the robot online")
    take_pictures(console, ana, ("stop", "left"))
    take_pictures(console, cy, ("stop",))
    console.teach.command(ROBOT, ana, "train")  # and Ana's model goes onto the robot
    console.teach.command(ROBOT, ana, "deploy", model="ana-signs")
    model = tmp_path / "cache" / "models" / "ana-signs.onnx"
    wait_until(model.exists, 120, f"Ana's model on the robot\n{agent.log()}")
    assert pictures(folders / ana) == 2 * PICTURES and pictures(folders / cy) == PICTURES

    agent.close()  # the robot is off
    wait_until(lambda: not online(console), 30, "the robot offline")
    client = Client(server.url)
    status, login, _ = client("POST", "/api/v1/login", {"username": TEACHER, "password": PASSWORD})
    assert status == 200, login
    auth = {"Authorization": f"Bearer {login['token']}", "Sec-Fetch-Site": "same-origin"}
    status, purged, _ = client("POST", "/api/v1/rosters/7A/purge", {"confirm": "7A"}, auth)
    assert status == 200 and purged["students"] == 1, purged
    assert pictures(folders / ana) == 2 * PICTURES and model.exists()  # off: it heard nothing

    agent.start()  # on again, on the same folders: it says what it holds, the console answers
    wait_until(lambda: online(console), 60, "the robot online again")
    wait_until(lambda: not (folders / ana).exists(), 60, f"the robot's purge\n{agent.log()}")
    assert not model.exists() and not model.with_suffix(".yaml").exists()
    assert pictures(folders / cy) == PICTURES  # a student the console knows keeps hers
    assert not [p for p in tmp_path.rglob("*") if ana in str(p)]  # nothing of Ana, anywhere

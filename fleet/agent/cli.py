"""``roboclass agent``: run this robot's fleet agent."""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fleet.agent.agent import Agent, AgentConfig, JobRunner, lessons_runner
from fleet.core.brokerlink import broker_link
from fleet.core.protocol import Reassign
from fleet.core.signing import key_id, load_public_key
from fleet.core.wait import wait_for_stop
from fleet.enrol import CONSOLE_KEY_FILE, ENROL_PORT
from rcbase.paths import paths

if TYPE_CHECKING:
    from fleet.enrol.robot import Claim, CredentialFolder
    from hardware import Robot


__all__ = ["agent"]

logger = logging.getLogger(__name__)


def load_runner(spec: str) -> JobRunner:
    if spec == "lessons":
        return lessons_runner
    module_name, _, attribute = spec.partition(":")
    try:
        runner = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise click.BadParameter(f"cannot load runner {spec!r}: {exc}") from exc
    if not callable(runner):
        raise click.BadParameter(f"{spec} is not callable")
    return runner  # type: ignore[no-any-return]


@click.command()
@click.option(
    "--device",
    default=None,
    help="This robot's id (letters, digits, - _ .); default: the --broker-folder's.",
)
@click.option("--broker", "broker_addr", default=None, help="The classroom broker, host:port.")
@click.option(
    "--broker-folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="This robot's folder from `roboclass broker config` (TLS: CA, certificate, key).",
)
@click.option(
    "--console-key",
    default=None,
    help="The console's public key (64 hex digits, or a file holding them): "
    "`roboclass console key` prints it. Default: the --broker-folder's console.pub "
    "(`roboclass broker config` and enrolment write it).",
)
@click.option(
    "--enrol",
    is_flag=True,
    help="With no credentials yet, wait to be claimed from the console first "
    "(the folder: --broker-folder, default the data folder's agent/credentials).",
)
@click.option(
    "--enrol-port",
    type=click.IntRange(0, 65535),
    default=ENROL_PORT,
    show_default=True,
    help="Where an unclaimed robot waits for the console (0: any free port).",
)
@click.option(
    "--enrol-host",
    default="0.0.0.0",  # noqa: S104 - the console reaches the robot over the LAN
    show_default=True,
    help="The address an unclaimed robot listens on.",
)
@click.option(
    "--mdns-interface",
    "mdns_interfaces",
    multiple=True,
    help="Announce the unclaimed robot only on this address (repeat; default: every interface).",
)
@click.option("--no-mdns", is_flag=True, help="Do not announce the unclaimed robot over mDNS.")
@click.option("--console-url", default=None, help="Where the console serves bundles (http://...).")
@click.option("--site", default=None, help="Default: the --broker-folder's, else school.")
@click.option("--room", default=None, help="Default: the --broker-folder's, else room1.")
@click.option(
    "--backend", default=None, help="Robot backend: sim, gpio or bridge (default: settings)."
)
@click.option("--kit", default=None, help="Kit profile (default: settings; sim for --backend sim).")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Outbox and bundle cache (default: the data folder's agent/DEVICE).",
)
@click.option("--telemetry-hz", type=click.FloatRange(0, 5), default=1.0, show_default=True)
@click.option(
    "--runner",
    default="lessons",
    show_default=True,
    help="What runs a job: 'lessons' (the lesson runner) or module:function.",
)
@click.option("--no-robot", is_flag=True, help="Run without opening the robot (jobs get none).")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the agent's start-up facts as JSON.")
def agent(
    device: str | None,
    broker_addr: str | None,
    broker_folder: Path | None,
    console_key: str | None,
    enrol: bool,
    enrol_port: int,
    enrol_host: str,
    mdns_interfaces: tuple[str, ...],
    no_mdns: bool,
    console_url: str | None,
    site: str | None,
    room: str | None,
    backend: str | None,
    kit: str | None,
    state_dir: Path | None,
    telemetry_hz: float,
    runner: str,
    no_robot: bool,
    duration: float | None,
    as_json: bool,
) -> None:
    """Run this robot's fleet agent (jobs, e-stop, results).

    A robot with no credentials yet (--enrol, or an empty --broker-folder)
    first waits to be claimed: it shows a claim code (here, on its LED and
    buzzer, in claim-label.txt) that the teacher types into the console.
    As a service: `roboclass agent install`.
    """
    if broker_folder is None and enrol and broker_addr is None:
        broker_folder = paths().data / "agent" / "credentials"
    robot = None
    if not no_robot:
        from hardware import Robot  # noqa: PLC0415 - opened only when a robot is wanted

        if backend == "sim" or backend is None:
            robot = Robot(kit=kit or "sim", backend="sim", realtime=False)
        else:
            robot = Robot(kit=kit, backend=backend)
    try:
        while True:
            if (
                broker_folder is not None
                and broker_addr is None
                and not (broker_folder / "broker.json").is_file()
            ):
                # Only an unclaimed robot (or one that left its room) loads the enrolment (SPAKE2, zeroconf).
                from fleet.enrol.robot import CredentialFolder  # noqa: PLC0415

                _enrol(
                    CredentialFolder(broker_folder),
                    robot,
                    enrol_host,
                    enrol_port,
                    mdns_interfaces,
                    no_mdns,
                    as_json,
                )
            if not _run(
                robot,
                device,
                broker_addr,
                broker_folder,
                console_key,
                console_url,
                site,
                room,
                backend,
                kit,
                state_dir,
                telemetry_hz,
                runner,
                duration,
                as_json,
            ):
                break
            device = None  # renamed or left the room: the folder says who this robot is now
    finally:
        if robot is not None:
            robot.close()


def _enrol(
    folder: CredentialFolder,
    robot: Robot | None,
    host: str,
    port: int,
    interfaces: tuple[str, ...],
    no_mdns: bool,
    as_json: bool,
) -> None:
    """Wait until the console claims this robot; its credentials are then in ``folder``."""
    from fleet.enrol.robot import wait_for_claim  # noqa: PLC0415

    stop = threading.Event()

    def show(claim: Claim, bound: int) -> None:
        if as_json:
            click.echo(
                json.dumps({"enrol": {"robot": claim.robot_id, "code": claim.code, "port": bound}})
            )
        else:
            click.echo(
                f"robot {claim.robot_id} waits to be claimed on port {bound}: "
                f"claim code {claim.code} (label: {folder.label_file})"
            )
        logger.warning(
            "unclaimed: robot %s, claim code %s, port %d", claim.robot_id, claim.code, bound
        )

    found: dict[str, Any] = {}

    def claim() -> None:
        try:
            found["grant"] = wait_for_claim(
                folder,
                host=host,
                port=port,
                robot=robot,
                on_code=show,
                announce=not no_mdns,
                interfaces=interfaces or None,
                stop=stop,
            )
        except Exception as exc:  # handed to the main thread, which reports it
            found["error"] = exc
        finally:
            stop.set()

    worker = threading.Thread(target=claim, name="enrol", daemon=True)
    worker.start()
    wait_for_stop(None, stop)  # Ctrl+C or SIGTERM ends the wait as anywhere else
    worker.join(timeout=15)
    error = found.get("error")
    if isinstance(error, OSError):
        raise click.ClickException(f"cannot wait for the console on port {port}: {error}")
    if error is not None:
        raise error
    grant = found.get("grant")
    if grant is None:
        raise click.ClickException("stopped before the console claimed this robot")
    if as_json:
        click.echo(json.dumps({"claimed": {"device": grant.identity, "room": grant.room}}))
    else:
        click.echo(f"claimed as {grant.identity} in {grant.site}/{grant.room}")


def _opener(
    robot: Robot | None, kit: str | None, backend: str | None
) -> Callable[[], Robot] | None:
    """How the agent opens a real robot again after lending it to a lesson."""
    if robot is None or backend in (None, "sim"):
        return None
    import hardware  # noqa: PLC0415 - as for the first robot

    return lambda: hardware.Robot(kit=kit, backend=backend)


def _run(
    robot: Robot | None,
    device: str | None,
    broker_addr: str | None,
    broker_folder: Path | None,
    console_key: str | None,
    console_url: str | None,
    site: str | None,
    room: str | None,
    backend: str | None,
    kit: str | None,
    state_dir: Path | None,
    telemetry_hz: float,
    runner: str,
    duration: float | None,
    as_json: bool,
) -> bool:
    """Run the agent until Ctrl+C or ``duration``; True when the console renamed the robot
    or let it go to another room (the caller starts again, enrolling first if it left the room)."""
    link = broker_link(broker_addr, broker_folder, site, room)
    device = device or link.identity
    if device is None:
        raise click.UsageError("say which robot this is: --device NAME (or --broker-folder)")
    if link.identity is not None and device != link.identity:
        raise click.BadParameter(
            f"the broker folder holds {link.identity}'s certificate, not {device}'s",
            param_hint="--device",
        )
    host, port, site, room = link.host, link.port, link.site, link.room
    if console_key is None and broker_folder is not None:
        saved = broker_folder / CONSOLE_KEY_FILE
        console_key = str(saved) if saved.is_file() else None
    if console_key is None:
        where = f"{broker_folder / CONSOLE_KEY_FILE} is missing: " if broker_folder else ""
        raise click.UsageError(
            f"{where}say which console this robot obeys: copy the robot's whole folder from "
            "`roboclass broker config` (it holds console.pub), or give --console-key "
            "(`roboclass console key` prints it) / 请指明机器人听从哪个控制台：复制 "
            "broker config 生成的整个机器人文件夹（含 console.pub），或用 --console-key"
        )
    public = load_public_key(console_key)
    renamed, left, stop = threading.Event(), threading.Event(), threading.Event()
    config = AgentConfig(
        device=device,
        host=host,
        port=port,
        state_dir=state_dir or paths().data / "agent" / device,
        trusted_keys={key_id(public): public},
        site=site,
        room=room,
        console_url=console_url,
        backend=backend or "sim",
        kit=kit,
        telemetry_hz=telemetry_hz,
        runner=load_runner(runner),
        tls=link.tls,
        on_reassign=None if broker_folder is None else _renamer(broker_folder, renamed, stop),
        on_leave_room=None if broker_folder is None else _leaver(broker_folder, left, stop),
        open_robot=_opener(robot, kit, backend),
    )
    with Agent(config, robot=robot) as running:
        facts = {
            "device": device,
            "session": running.session,
            "broker": f"{host}:{port}",
            "state_dir": str(config.state_dir),
            "estopped": running.estopped,
        }
        if as_json:
            click.echo(json.dumps(facts))
        else:
            click.echo(
                f"agent {device} -> {host}:{port} (session {running.session}); Ctrl+C stops it"
            )
        wait_for_stop(duration, stop)
    if left.is_set():
        if as_json:  # "released": the name scripts already read
            click.echo(json.dumps({"released": {"device": device}}))
        else:
            click.echo(f"{device} left this room: it waits to be claimed again")
    return renamed.is_set() or left.is_set()


def _leaver(folder: Path, left: threading.Event, stop: threading.Event) -> Callable[[], bool]:
    """What the agent calls when the console lets the robot go: forget the room, enrol again."""

    def forget() -> bool:
        from fleet.enrol.robot import CredentialFolder  # noqa: PLC0415

        if not CredentialFolder(folder).leave_room():
            return False
        left.set()
        stop.set()
        return True

    return forget


def _renamer(
    folder: Path, renamed: threading.Event, stop: threading.Event
) -> Callable[[Reassign], bool]:
    """What the agent calls with a new name from the console: write it, then start again."""

    def take(message: Reassign) -> bool:
        from fleet.enrol.robot import CredentialFolder  # noqa: PLC0415

        if not CredentialFolder(folder).reassign(message):
            return False
        renamed.set()
        stop.set()
        return True

    return take

"""The ``roboclass`` command.

Each package owns its command group in its own ``cli.py`` (``fleet/broker/cli.py``
owns ``broker``, ...). This module only lists them; a group's module is
imported when that group runs, so ``roboclass --help`` stays fast on a Pi Zero.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from rcbase.i18n import detect_lang
from roboclass import __version__

__all__ = ["COMMANDS", "main"]

# name -> ("module:attribute", one-line help). Keep it sorted by name.
COMMANDS: dict[str, tuple[str, str]] = {
    "agent": (
        "fleet.agent.cli:agent",
        "Run this robot's fleet agent (jobs, e-stop, results).",
    ),
    "bridge": (
        "firmware_bridge.cli:bridge",
        "Talk to a robot's microcontroller board.",
    ),
    "broker": ("fleet.broker.cli:broker", "Run an MQTT broker for a classroom or the demo."),
    "console": (
        "fleet.console.cli:console",
        "The teacher's console service and its teacher accounts.",
    ),
    "demo": (
        "roboclass.demo:demo",
        "Start the embedded demo: broker, console and simulated robots.",
    ),
    "district": (
        "district.cli:district",
        "The district: many schools on one platform.",
    ),
    "doctor": (
        "roboclass.doctor_cli:doctor",
        "Check this computer and say how to fix what is wrong.",
    ),
    "flash": (
        "firmware_bridge.flash_cli:flash",
        "Flash the firmware onto boards in parallel and check each one.",
    ),
    "fleet": (
        "fleet.console.fleet_cli:fleet",
        "Use the teacher's console: devices, push, stop, results.",
    ),
    "hw": ("hardware.cli:hw", "Robot hardware: kit profiles and pre-flight checks."),
    "models": ("models.cli:models", "Vision models: list, check and add ONNX models."),
    "offline": (
        "roboclass.offline_cli:offline",
        "Install with no internet: wheel bundles for the robots and the hub.",
    ),
    "service": (
        "roboclass.services_cli:service",
        "Install the agent, console, broker and district as systemd services.",
    ),
    "teach": (
        "vision.teach.cli:teach",
        "Teach the robot: collect pictures, train, export, evaluate.",
    ),
    "vision": ("vision.cli:vision", "Vision on the robot: benchmark models on this computer."),
    "lesson": ("lessons.cli:lesson", "Lessons: list, show, validate, pack and run them."),
    "sim": ("hardware.sim_cli:sim", "The simulator: run a student's script, list the worlds."),
}


#: ``roboclass agent install ...`` runs ``roboclass service install agent ...`` (one code path).
ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("agent", "install"): ("service", "install", "agent"),
    ("console", "install"): ("service", "install", "console"),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        alias = ALIASES.get((args[0], args[1])) if len(args) >= 2 else None
        return super().resolve_command(ctx, [*alias, *args[2:]] if alias else args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="roboclass")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug).")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of messages (default: from ROBOCLASS_LANG or the locale).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, lang: str | None) -> None:
    """RoboClass: robots, simulator, vision, lessons and the teacher's console.

    Every command that reports something accepts --json.
    """
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.ensure_object(dict)
    ctx.obj["lang"] = lang or detect_lang()


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``roboclass`` console script."""
    return cli.main(args=argv, prog_name="roboclass")

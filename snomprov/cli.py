# -*- test-case-name: tests.test_cli -*-
"""
The C{snomprov} command: C{snomprov [--config FILE] COMMAND ...}; the
configuration is found as L{snomprov.configpath} says, C{--config} being
accepted after the command too.

Exit 0 on success, 2 on bad input with one line per problem on standard
error.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .commands.base import COMMANDS, UsageProblem, command
from .startup import StartupProblem, loadEverything

__all__ = ["main", "UsageProblem", "command", "COMMAND_MODULES"]


COMMAND_MODULES = (
    "check", "importcsv", "devices", "render", "dhcp", "resync",
    "settings", "events", "user", "token", "pbx", "credential",
)  # fmt: skip
"""
The modules of L{snomprov.commands} that define the commands, listed
explicitly; each registers its own with L{command}.
"""


def _loadCommands() -> dict:
    """
    Import the command modules (once) and return the registry they fill.
    """
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"snomprov.commands.{name}")
    return COMMANDS


_CONFIG_HELP = ("the TOML configuration file (default: $SNOMPROV_CONFIG, else "
                "/etc/snomprov/snomprov.toml if it exists, else the built-in defaults)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snomprov", description="snomprov provisioning server")
    parser.add_argument("-c", "--config", metavar="FILE", help=_CONFIG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help, run) in _loadCommands().items():
        commandParser = sub.add_parser(name, help=help)
        arguments = getattr(run, "arguments", None)
        if arguments is not None:
            arguments(commandParser)
        _acceptConfig(commandParser)
    return parser


def _acceptConfig(parser: argparse.ArgumentParser) -> None:
    """
    C{--config} after the command too (C{snomprov devices --config FILE}),
    and after its sub-commands; given there, it replaces the one before.
    """
    # SUPPRESS: not given after the command, it leaves the value from before.
    parser.add_argument("-c", "--config", metavar="FILE", default=argparse.SUPPRESS, help=_CONFIG_HELP)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _acceptConfig(child)


def main(argv: Sequence[str] | None = None, out=None, err=None) -> int:
    """
    Run the command line; return the exit status.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config, registry = loadEverything(args.config)
        _, run = COMMANDS[args.command]
        return run(args, config, registry, out)
    except StartupProblem as e:
        for problem in e.problems:
            print(problem, file=err)
        return 2


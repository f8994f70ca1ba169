"""
What every command shares, and nothing else: the command type, the
registry the C{command} decorator fills and L{UsageProblem}.  A leaf: it
imports no command and not L{snomprov.cli}, so that neither imports the
other in a cycle (L{snomprov.cli} imports the commands, the commands import
this).
"""

from __future__ import annotations

import argparse
from typing import Callable

from ..startup import StartupProblem

__all__ = ["UsageProblem", "Command", "COMMANDS", "command"]


class UsageProblem(StartupProblem):
    """
    Bad input to a command: it prints these lines and exits 2.
    """


Command = Callable[[argparse.Namespace, object, object, object], int]
"""
C{run(args, config, registry, out) -> int}, with an optional
C{run.arguments(parser)}.
"""

COMMANDS: dict[str, tuple[str, Command]] = {}
"""
Name to C{(help, run)}, filled as the command modules are imported.
"""


def command(name: str, help: str):
    """
    Register C{run(args, config, registry, out) -> int} under C{name}, with
    an optional C{run.arguments(parser)}.
    """

    def register(run):
        COMMANDS[name] = (help, run)
        return run

    return register

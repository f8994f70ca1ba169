"""
Why an operation was refused: one line, never a secret.  The command line
prints it and exits 2; the API answers it as a problem document (C{NotFound}
404, C{Conflict} 409, any other C{Refused} 400).

A refusal of input with several problems (a CSV file's bad rows, a settings
file's bad line, a layer's bad fields) carries every one of them as an
L{InputProblem}: the API lists them in the problem document's C{errors}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Refused", "NotFound", "Conflict", "InputProblem"]


@dataclass(frozen=True)
class InputProblem:
    """
    One problem of a refused input.

    @ivar message: what is wrong, never a secret.
    @ivar field: where, as a JSON pointer into a JSON body (C{/settings/0/idx}),
        or C{None} for a body that is not JSON.
    @ivar line: the line of a text input (a CSV file, a settings file),
        or C{None}.
    """

    message: str
    field: str | None = None
    line: int | None = None


class Refused(Exception):
    """
    Bad input: nothing was changed.

    @ivar problems: every problem found (L{InputProblem}s), or empty when
        the message says it all.
    """

    def __init__(self, message: str = "", problems: Iterable[InputProblem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class NotFound(Refused):
    """
    The object named does not exist.
    """


class Conflict(Refused):
    """
    The change clashes with what is stored (a name taken, the last admin).
    """

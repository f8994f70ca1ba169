"""
Why an operation was refused: one line, never a secret.  The command line
prints it and exits 2; the API answers it as a problem document (C{NotFound}
404, C{Conflict} 409, C{PreconditionFailed} 412, C{Forbidden} 403, any other
C{Refused} 400, C{Invalid} with its fields).

A refusal of input with several problems (a CSV file's bad rows, a settings
file's bad line, a layer's bad fields) may carry every one of them as an
L{InputProblem}: the API lists them in the problem document's C{errors}.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

__all__ = ["Refused", "Invalid", "NotFound", "Conflict", "PreconditionFailed", "Forbidden", "InputProblem"]


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


class Invalid(Refused):
    """
    Bad input, field by field.

    @ivar errors: C{(field, message)} pairs, the field a JSON pointer into
        what was given (C{/lines/0/user}); no message carries a password.
    """

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in errors))
        self.errors = list(errors)


class NotFound(Refused):
    """
    The object named does not exist.
    """


class Conflict(Refused):
    """
    The change clashes with what is stored (a name taken, the last admin).
    """


class PreconditionFailed(Refused):
    """
    The change was made against a revision of the object that is no longer
    the stored one: someone else changed it first, and nothing was
    overwritten.
    """


class Forbidden(Refused):
    """
    The actor's role does not allow this (revealing SIP passwords needs an
    admin).
    """

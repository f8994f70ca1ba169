"""
Why an operation was refused: one line, never a secret.  The command line
prints it and exits 2; the API answers it as a problem document (C{NotFound}
404, C{Conflict} 409, C{PreconditionFailed} 412, C{Forbidden} 403, any other
C{Refused} 400, C{Invalid} with its fields).
"""

__all__ = ["Refused", "Invalid", "NotFound", "Conflict", "PreconditionFailed", "Forbidden"]


class Refused(Exception):
    """
    Bad input: nothing was changed.
    """


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

"""
Why an operation was refused: one line, never a secret.  The command line
prints it and exits 2; the API answers it as a problem document (C{NotFound}
404, C{Conflict} 409, any other C{Refused} 400).
"""

__all__ = ["Refused", "NotFound", "Conflict"]


class Refused(Exception):
    """
    Bad input: nothing was changed.
    """


class NotFound(Refused):
    """
    The object named does not exist.
    """


class Conflict(Refused):
    """
    The change clashes with what is stored (a name taken, the last admin).
    """

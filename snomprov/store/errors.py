"""
The errors of the device stores.
"""

__all__ = [
    "StoreError", "UnknownDevice", "PreconditionFailed", "NoSuchStore", "AccountExists", "NoAdmin",
    "LastAdmin",
]


class StoreError(Exception):
    """
    A store refused a write or could not be opened; nothing was changed.
    """


class UnknownDevice(StoreError):
    """
    A write needs a device that is not stored (lines for an unknown MAC).
    """


class PreconditionFailed(StoreError):
    """
    A device write was made against a revision that is no longer the
    stored one (another write came first), or against a device that is
    missing (or, for a creation, present).
    """


class AccountExists(StoreError):
    """
    An operator or a token of that name is already stored.
    """


class NoAdmin(StoreError):
    """
    The first operator added is not an admin.
    """


class LastAdmin(StoreError):
    """
    The operator to remove is the last admin.
    """


# ---------------------------------------------------------------------------
# Opening


class NoSuchStore(StoreError):
    """
    The store to open does not exist and was not to be created.

    @ivar location: the SQLite file looked for.
    """

    def __init__(self, location: str) -> None:
        super().__init__(f"no store at {location}")
        self.location = location

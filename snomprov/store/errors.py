"""
The errors of the device stores.
"""

__all__ = ["StoreError", "UnknownDevice", "NoSuchStore", "AccountExists", "NoAdmin", "LastAdmin"]


class StoreError(Exception):
    """
    A store refused a write or could not be opened; nothing was changed.
    """


class UnknownDevice(StoreError):
    """
    A write needs a device that is not stored (lines for an unknown MAC).
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

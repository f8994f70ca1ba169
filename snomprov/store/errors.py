"""
The errors of the device stores.
"""

__all__ = ["StoreError", "UnknownDevice"]


class StoreError(Exception):
    """
    A store refused a write or could not be opened; nothing was changed.
    """


class UnknownDevice(StoreError):
    """
    A write needs a device that is not stored (lines for an unknown MAC).
    """


# ---------------------------------------------------------------------------
# Opening

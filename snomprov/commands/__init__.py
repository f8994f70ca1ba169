"""
The subcommands of C{snomprov}; each module registers its own.
"""

from . import check, devices, dhcp, events, importcsv, render, resync, settings, token, user  # noqa: F401

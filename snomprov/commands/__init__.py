"""
The subcommands of C{snomprov}; each module registers its own.
"""

from . import check  # noqa: F401

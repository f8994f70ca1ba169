# -*- test-case-name: tests.test_privatefiles -*-
"""
The data directory and the database file are created private to the
service user: a directory C{0700}, a file C{0600} (the process's umask may
only take more away).  What exists already is left as it is.
"""

from __future__ import annotations

import os

__all__ = ["makePrivateDirectory", "createPrivateFile"]


def makePrivateDirectory(path: str) -> None:
    """
    Create C{path} (and missing parents) if it does not exist; the
    directories created are C{0700}.

    @raise OSError: as L{os.makedirs}.
    """
    if os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path and not os.path.isdir(parent):
        makePrivateDirectory(parent)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not os.path.isdir(path):
            raise


def createPrivateFile(path: str) -> None:
    """
    Create C{path} empty and C{0600} unless it exists (SQLite then reads it
    as an empty database, and gives its journal and WAL files the same
    mode).

    @raise OSError: as L{os.open}.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass

"""
Tests for L{snomprov.privatefiles} and its callers: the data directory and
the SQLite file are created private (0700 / 0600) whatever the umask; what
exists already is left alone.
"""

from __future__ import annotations

import os
import stat

import pytest

from snomprov.privatefiles import createPrivateFile, makePrivateDirectory
from snomprov.store import checkStoreOpens


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def openUmask():
    """
    The loosest umask while the test runs: the modes seen are the code's.
    """
    old = os.umask(0)
    yield
    os.umask(old)


def test_directoryAndFilePrivate(tmp_path, openUmask):
    """
    A new directory (and its new parents' leaf) is 0700; a new file 0600.
    """
    data = tmp_path / "a" / "var"
    makePrivateDirectory(str(data))
    assert _mode(data) == 0o700
    createPrivateFile(str(data / "f"))
    assert _mode(data / "f") == 0o600


def test_existingLeftAlone(tmp_path, openUmask):
    """
    A directory or file that exists keeps its mode (and its content).
    """
    os.mkdir(tmp_path / "shared", 0o755)
    (tmp_path / "shared" / "f").write_text("kept")
    os.chmod(tmp_path / "shared" / "f", 0o644)
    makePrivateDirectory(str(tmp_path / "shared"))
    createPrivateFile(str(tmp_path / "shared" / "f"))
    assert _mode(tmp_path / "shared") == 0o755
    assert _mode(tmp_path / "shared" / "f") == 0o644
    assert (tmp_path / "shared" / "f").read_text() == "kept"


def test_storeCreatedPrivate(tmp_path, openUmask):
    """
    The daemon's check of its SQLite store creates the data directory 0700
    and the database file 0600.
    """
    checkStoreOpens("sqlite:var/snomprov.sqlite", str(tmp_path))
    assert _mode(tmp_path / "var") == 0o700
    assert _mode(tmp_path / "var" / "snomprov.sqlite") == 0o600

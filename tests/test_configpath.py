"""
Tests for L{snomprov.configpath}: which configuration the daemon and the
command line read.
"""

import os

import pytest

from snomprov.config import ConfigError
from snomprov.configpath import defaultDataDir, discoverConfig, findConfig


@pytest.fixture
def fakeRoot(tmp_path):
    """
    A directory standing for C{/}, with C{etc/snomprov/snomprov.toml}.
    """
    root = tmp_path / "root"
    (root / "etc" / "snomprov").mkdir(parents=True)
    (root / "etc" / "snomprov" / "snomprov.toml").write_text('[server]\ndata_dir = "state"\n')
    return root


def test_flagFirst(tmp_path, fakeRoot):
    """
    C{--config} wins over the environment and C{/etc}.
    """
    assert findConfig("given.toml", {"SNOMPROV_CONFIG": "env.toml"}, str(fakeRoot)) == "given.toml"


def test_environmentNext(fakeRoot):
    """
    Without C{--config}, C{SNOMPROV_CONFIG} wins over C{/etc}; an empty one
    counts as unset.
    """
    assert findConfig(None, {"SNOMPROV_CONFIG": "env.toml"}, str(fakeRoot)) == "env.toml"
    system = str(fakeRoot / "etc" / "snomprov" / "snomprov.toml")
    assert findConfig(None, {"SNOMPROV_CONFIG": ""}, str(fakeRoot)) == system


def test_systemFileWhenItExists(fakeRoot):
    """
    Without flag or environment, C{/etc/snomprov/snomprov.toml} (under the
    root given) is read, and its relative C{data_dir} is relative to it.
    """
    config = discoverConfig(None, {}, str(fakeRoot), uid=1000)
    assert config.source == str(fakeRoot / "etc" / "snomprov" / "snomprov.toml")
    assert config.server.dataDir == str(fakeRoot / "etc" / "snomprov" / "state")
    assert config.storeURL == "sqlite:" + str(fakeRoot / "etc" / "snomprov" / "state" / "snomprov.sqlite")


def test_noneFound(tmp_path):
    """
    With nothing found: the built-in defaults, the data directory and store
    at L{defaultDataDir}, whatever the current directory.
    """
    root = tmp_path / "empty"
    root.mkdir()
    environ = {"HOME": str(tmp_path / "home")}
    assert findConfig(None, environ, str(root)) is None
    here = os.getcwd()
    try:
        os.chdir(root)
        config = discoverConfig(None, environ, str(root), uid=1000)
    finally:
        os.chdir(here)
    state = str(tmp_path / "home" / ".local" / "state" / "snomprov")
    assert config.source == "<defaults>"
    assert config.server.dataDir == state
    assert config.storeURL == "sqlite:" + os.path.join(state, "snomprov.sqlite")
    assert not os.path.exists(state)


def test_givenButMissing(tmp_path):
    """
    A file named by flag or environment that cannot be read is an error
    naming it, not a fall-back to the defaults.
    """
    missing = str(tmp_path / "nope.toml")
    with pytest.raises(ConfigError) as e:
        discoverConfig(None, {"SNOMPROV_CONFIG": missing}, str(tmp_path))
    assert e.value.problems == [f"{missing}: cannot read: No such file or directory"]


@pytest.mark.parametrize("environ,uid,expected", [
    ({"HOME": "/home/ann"}, 1000, "/home/ann/.local/state/snomprov"),
    ({"HOME": "/home/ann", "XDG_STATE_HOME": "/srv/state"}, 1000, "/srv/state/snomprov"),
    ({"HOME": "/home/ann", "XDG_STATE_HOME": "relative"}, 1000, "/home/ann/.local/state/snomprov"),
    ({"HOME": "/root"}, 0, "/var/lib/snomprov"),
])
def test_defaultDataDir(environ, uid, expected):
    """
    The defaults' data directory: C{/var/lib/snomprov} for root, else the
    user's XDG state directory (a relative C{XDG_STATE_HOME} is ignored, as
    the XDG specification says).
    """
    assert defaultDataDir(environ, uid) == expected

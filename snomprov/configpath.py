# -*- test-case-name: tests.test_configpath -*-
"""
Which configuration the daemon and the command line use, found the same way
by both:

  1. the C{--config FILE} given;
  2. else the file named by the environment variable C{SNOMPROV_CONFIG};
  3. else C{/etc/snomprov/snomprov.toml}, when it exists;
  4. else the built-in defaults, with the data directory (and so the SQLite
     store) at L{defaultDataDir}: C{/var/lib/snomprov} for root, else
     C{$XDG_STATE_HOME/snomprov} (C{~/.local/state/snomprov}).  Never the
     current directory, so that every command finds the daemon's store
     wherever it is run from.

In a file, a relative C{data_dir} or C{sqlite:} path is relative to the
file's directory (L{snomprov.config.parseConfig}).
"""

from __future__ import annotations

import os
from typing import Mapping

from .config import Config, loadConfig

__all__ = ["ENVIRONMENT_VARIABLE", "SYSTEM_CONFIG", "findConfig", "defaultDataDir", "discoverConfig"]

ENVIRONMENT_VARIABLE = "SNOMPROV_CONFIG"

SYSTEM_CONFIG = "/etc/snomprov/snomprov.toml"


def findConfig(
    given: str | None, environ: Mapping[str, str] | None = None, root: str = "/"
) -> str | None:
    """
    The configuration file to read, or C{None} for the built-in defaults.

    @param given: the C{--config} argument, or C{None}.
    @param environ: the environment (default: C{os.environ}).
    @param root: the directory standing for C{/} when looking for
        L{SYSTEM_CONFIG} (tests give a scratch directory).
    @return: a path; one that was given (flag or environment) is returned
        even when it does not exist, so that reading it reports the problem.
    """
    environ = os.environ if environ is None else environ
    if given:
        return given
    if environ.get(ENVIRONMENT_VARIABLE):
        return environ[ENVIRONMENT_VARIABLE]
    system = os.path.join(root, SYSTEM_CONFIG.lstrip("/"))
    if os.path.isfile(system):
        return system
    return None


def defaultDataDir(environ: Mapping[str, str] | None = None, uid: int | None = None) -> str:
    """
    The data directory of the built-in defaults, absolute and independent
    of the current directory.

    @param environ: the environment (default: C{os.environ}); its
        C{XDG_STATE_HOME} and C{HOME} are used.
    @param uid: the effective user id (default: C{os.geteuid()}).
    """
    environ = os.environ if environ is None else environ
    if (os.geteuid() if uid is None else uid) == 0:
        return "/var/lib/snomprov"
    state = environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):
        home = environ.get("HOME") or os.path.expanduser("~")
        state = os.path.join(home, ".local", "state")
    return os.path.normpath(os.path.join(state, "snomprov"))


def discoverConfig(
    given: str | None, environ: Mapping[str, str] | None = None, root: str = "/", uid: int | None = None
) -> Config:
    """
    Find (L{findConfig}) and read the configuration.

    @raise snomprov.config.ConfigError: if the file cannot be read or is
        refused.
    """
    return loadConfig(findConfig(given, environ, root), defaultDataDir(environ, uid))

"""
The deployment files in C{conf/} and the packaging metadata: the systemd
unit passes C{systemd-analyze verify}, the example CSV imports, and the
C{LICENSE} file is the licence C{pyproject.toml} names.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest

from daemon import ROOT, Daemon

UNIT = os.path.join(ROOT, "conf", "snomprov.service")
INSTALLED_TWISTD = "/opt/snomprov/.venv/bin/twistd"


def _systemdAnalyze() -> str:
    """
    The path of C{systemd-analyze}; skips the test where it is missing,
    except under CI, where that is a failure.
    """
    path = shutil.which("systemd-analyze")
    if path is None:
        reason = "no systemd-analyze (install the Debian package systemd)"
        pytest.skip(reason)
    return path


def _unitHere(tmp_path) -> str:
    """
    A copy of the unit whose C{ExecStart} runs this venv's C{twistd}
    rather than the documented install prefix's (C{systemd-analyze verify}
    refuses a command that does not exist).

    @return: the copy's path.
    """
    with open(UNIT) as f:
        text = f.read()
    assert f"ExecStart={INSTALLED_TWISTD} " in text
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    assert os.access(twistd, os.X_OK), f"{twistd} missing: run make install-test"
    path = tmp_path / "snomprov.service"
    path.write_text(text.replace(INSTALLED_TWISTD, twistd))
    return str(path)


def _serviceSettings() -> dict[str, list[str]]:
    """
    The unit's C{[Service]} assignments, each key with its values in order.
    """
    settings: dict[str, list[str]] = {}
    section = None
    with open(UNIT) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and line and not line.startswith("#"):
                key, _, value = line.partition("=")
                settings.setdefault(key, []).append(value)
    return settings


def test_systemdUnitVerifies(tmp_path):
    """
    C{systemd-analyze verify} accepts the unit without a single complaint
    (an unknown key or a bad value is only a warning there, so its output
    must be empty too).
    """
    result = subprocess.run(
        [_systemdAnalyze(), "verify", _unitHere(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout + result.stderr == ""


def test_systemdUnitExposure(tmp_path):
    """
    C{systemd-analyze security} rates the unit's sandbox at 2.5 or better
    on its 0 (locked down) to 10 (exposed) scale.
    """
    result = subprocess.run(
        [_systemdAnalyze(), "security", "--offline=true", "--no-pager", _unitHere(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"Overall exposure level for snomprov\.service: ([0-9.]+)", result.stdout)
    assert found, result.stdout
    assert float(found.group(1)) <= 2.5, result.stdout


def test_systemdUnitRunsDaemonUnprivileged():
    """
    The unit runs twistd in the foreground without a pid file on the /etc
    config, as a user of its own that can bind ports below 1024 and do
    nothing else a root process could.
    """
    settings = _serviceSettings()
    assert settings["ExecStart"] == [
        f"{INSTALLED_TWISTD} -n --pidfile= snomprov --config /etc/snomprov/snomprov.toml"
    ]
    assert settings["User"] == ["snomprov"]
    assert settings["StateDirectory"] == ["snomprov"]
    assert settings["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert settings["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX AF_NETLINK"]


def test_exampleCSVImports(tmp_path):
    """
    C{snomprov import conf/example.csv} registers its three phones (four
    lines) in an empty store.
    """
    cli = Daemon(tmp_path, sip=False, tftp=False)
    example = os.path.join(ROOT, "conf", "example.csv")
    result = cli.run("import", example)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported 3 devices with 4 lines from {example}\n"


def test_licenseFileMatchesMetadata():
    """
    C{pyproject.toml} names its licence by SPDX expression and ships the
    C{LICENSE} file, which holds that licence.
    """
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text

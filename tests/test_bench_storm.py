"""
C{bench/storm.py} with a handful of phones: the real daemon (SQLite), the
bare baselines (C{bench/bare_responder.py}, C{static.File}, tftpd-hpa) and
the load generator, end to end.  No wall-clock figure is checked: only
that every phone is provisioned, with its account, and that the output
has its figures and ratios.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from daemon import ROOT, _env

_FIGURES = re.compile(
    r"^(?P<name>snomprov|bare) \(.*\):\n"
    r"  completed (?P<completed>\d+) of (?P<phones>\d+), lost (?P<lost>\d+) \(why: (?P<why>[^)]*)\); "
    r"with accounts (?P<accounts>\d+)\n"
    r"  wall [\d.]+ s \(arrivals [\d.]+ s\); servers idle [\d.]+ s after the first phone\n"
    r"  first packet -> settings p50 [\d.]+ ms, p99 [\d.]+ ms \(snom: SUBSCRIBE -> NOTIFY p50 [\d.]+ ms, "
    r"NOTIFY -> settings p50 [\d.]+ ms\); SUBSCRIBE resent \d+, HTTP tries again \d+, "
    r"TFTP resent \d+\n"
    r"  server CPU [\d.]+ s \(user [\d.]+, system [\d.]+\), peak RSS \d+ MB; generator CPU [\d.]+ s$",
    re.M,
)
_RATIOS = re.compile(r"^ratios snomprov / bare: wall [\d.]+, p50 [\d.]+, p99 [\d.]+, server CPU [\d.]+, "
                     r"peak RSS [\d.]+$", re.M)


def test_smallStorm():
    """
    50 phones, one in five an SPA: all provisioned by the daemon and by the
    baselines, each with its account, none lost, figures and ratios
    printed, exit status 0.
    """
    if shutil.which("in.tftpd") is None and not os.path.exists("/usr/sbin/in.tftpd"):
        pytest.skip("tftpd-hpa is not installed (apt-get install tftpd-hpa)")
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "storm.py"), "--phones", "50", "--rate", "100",
         "--spa-share", "0.2"],
        capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "50 phones (40 snom by PnP + HTTP, 10 SPA by TFTP)" in result.stdout
    found = {m["name"]: m for m in _FIGURES.finditer(result.stdout)}
    assert set(found) == {"snomprov", "bare"}, result.stdout
    for figures in found.values():
        assert (figures["phones"], figures["completed"], figures["lost"], figures["why"]) == ("50", "50", "0", "none")
        assert figures["accounts"] == "50"
    assert _RATIOS.search(result.stdout), result.stdout
    assert re.search(r"\nsnomprov: 50 provisioned, 0 lost, wall [\d.]+ s\n$", result.stdout), result.stdout


def test_smallStormOnPostgreSQL():
    """
    C{--store postgresql}: the daemon on a test PostgreSQL provisions every
    phone, and the run prints the database's CPU and the transactions it
    committed during the storm (some: the recorder's writes at least).
    """
    from pgserver import missingReason

    reason = missingReason()
    if reason is not None:
        pytest.skip(reason)
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "storm.py"), "--phones", "30", "--rate", "100",
         "--spa-share", "0", "--servers", "snomprov", "--store", "postgresql"],
        capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    found = {m["name"]: m for m in _FIGURES.finditer(result.stdout)}
    assert (found["snomprov"]["completed"], found["snomprov"]["lost"]) == ("30", "0"), result.stdout
    database = re.search(r"^  PostgreSQL CPU [\d.]+ s, (\d+) transactions committed \(([\d.]+) per phone\)$",
                         result.stdout, re.M)
    assert database is not None, result.stdout
    assert int(database[1]) > 0 and float(database[2]) == pytest.approx(int(database[1]) / 30, abs=0.001)

"""
C{bench/soak.py} runs and reports: a 10-second soak against the real
daemon boots its fleet in rounds with hostile traffic between them, samples
RSS, open files and store size, and prints each one's growth per hour.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from daemon import ROOT, _env

pytestmark = pytest.mark.slow


def test_tenSecondSoak():
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "soak.py"), "--minutes", str(10 / 60),
         "--phones", "50", "--interval", "1", "--json"],
        capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    result = json.loads(lines[-1])
    assert result["rounds"] >= 1 and result["last_round"]["provisioned"] == 50
    assert result["provisioned"] >= 50
    assert result["hostile_sent"]["garbage"] > 0 and result["hostile_sent"]["bad-sip"] > 0
    assert result["hostile_sent"]["http-traversal"] > 0 and result["hostile_sent"]["tftp-traversal"] > 0
    assert (result["third_party_packets"], result["traversal_leaks"], result["alive_after"]) == (0, 0, True)
    assert result["samples"] >= 5
    assert set(result["growth"]) == {"rss_bytes", "open_files", "store_bytes"}
    for measure in result["growth"].values():
        assert measure["first"] > 0 and measure["max"] >= measure["last"]
        assert isinstance(measure["per_hour"], float)
    # The store grows by the rounds' events.
    assert result["growth"]["store_bytes"]["last"] > result["growth"]["store_bytes"]["first"]
    table = [line.split()[0] for line in lines]
    assert {"rss_bytes", "open_files", "store_bytes"} <= set(table)

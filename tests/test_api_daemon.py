"""
The API on a real daemon: an operator added with the command line logs in
with curl; and schemathesis drives the API from outside against its own
OpenAPI document.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from daemon import Daemon
from snomprov.web.api import allEndpoints


def _needed(program: str) -> str:
    found = shutil.which(program) or (
        os.path.join(os.path.dirname(sys.executable), program)
        if os.path.exists(os.path.join(os.path.dirname(sys.executable), program)) else None)
    if found is None:
        pytest.skip(f"{program} is not installed")
    return found


def _curl(*args: str) -> tuple[int, dict | None]:
    result = subprocess.run([_needed("curl"), "-sS", "-w", "\n%{http_code}", *args],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    body, _, code = result.stdout.rpartition("\n")
    return int(code), (json.loads(body) if body else None)


@pytest.fixture
def daemon(tmp_path):
    daemon = Daemon(tmp_path, sip=False, tftp=False).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def test_meWithBasicAuthentication(daemon):
    """
    C{snomprov user add} on the daemon's store, then C{GET /api/me} with
    that operator's name and password; a wrong password is 401.
    """
    added = daemon.run("user", "add", "alice", input="alice-secret\n")
    assert added.returncode == 0, added.stderr
    code, body = _curl("-u", "alice:alice-secret", f"{daemon.baseURL}/api/me")
    assert (code, body) == (200, {"kind": "operator", "name": "alice", "role": "admin",
                                  "actor": "operator:alice"})
    code, body = _curl("-u", "alice:wrong", f"{daemon.baseURL}/api/me")
    assert code == 401 and body["status"] == 401
    code, body = _curl(f"{daemon.baseURL}/api/openapi.json")
    assert code == 200 and "/api/me" in body["paths"]
    assert "alice-secret" not in daemon.log()


@pytest.mark.slow
def test_schemathesis(daemon, tmp_path):
    """
    schemathesis, from its own reading of C{/api/openapi.json}, sends
    several hundred generated requests (positive and negative, stateful
    sequences too) with an admin token: no 5xx, and every answer matches
    the document (schema, status code and content type).
    """
    program = _needed("schemathesis")
    assert daemon.run("user", "add", "alice", input="alice-secret\n").returncode == 0
    issued = daemon.run("token", "add", "schemathesis", "--role", "admin")
    assert issued.returncode == 0, issued.stderr
    secret = next(word for word in issued.stdout.split() if word.startswith("snp_"))
    result = subprocess.run(
        [program, "run", f"{daemon.baseURL}/api/openapi.json",
         "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,"
                     "content_type_conformance",
         "--header", f"Authorization: Bearer {secret}", "--max-examples", "50", "--seed", "9",
         "--report", "junit", "--report-dir", str(tmp_path / "report"), "--no-color"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    generated = [int(line.split()[0]) for line in output.splitlines() if line.strip().endswith("passed")
                 and line.split()[0].isdigit() and "generated" in line]
    assert generated and generated[0] >= 300, output[-4000:]
    # Every operation is tested (schemathesis leaves out the document's
    # own GET /api/openapi.json).
    operations = len(allEndpoints()) - 1
    assert f"Selected: {operations}/{operations}" in output and f"Tested: {operations}" in output, \
        output[-4000:]


SNOM_UA = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 010.1.33.33)"


def _settings(daemon, mac: str) -> str:
    result = subprocess.run([_needed("curl"), "-sS", "-f", "-A", SNOM_UA,
                             f"{daemon.baseURL}/snom/{mac}-settings.xml"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _eventually(check, seconds: float = 10.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def test_changesServedByThisDaemonAndFromOtherProcesses(daemon, tmp_path):
    """
    A change through the API is served by the daemon at once (the next
    fetch); a change by another process (the command line) is served after
    the daemon's next poll of the change feed; the device says it is stale
    between the change and its next fetch.
    """
    mac = "000413922D24"
    assert daemon.run("user", "add", "alice", input="alice-secret\n").returncode == 0
    auth = ("-u", "alice:alice-secret")
    code, body = _curl(*auth, "-H", "Content-Type: application/json", "-d",
                       json.dumps({"mac": mac, "vendor": "snom", "model": "snomD785",
                                   "lines": [{"index": 1, "user": "201", "displayName": "Reception"}]}),
                       f"{daemon.baseURL}/api/devices")
    assert code == 201, body
    assert "Reception" in _settings(daemon, mac)

    code, body = _curl(*auth, "-X", "PATCH", "-H", "Content-Type: application/json", "-H",
                       f'If-Match: "{body["revision"]}"', "-d",
                       json.dumps({"lines": [{"index": 1, "user": "201", "displayName": "Front desk"}]}),
                       f"{daemon.baseURL}/api/devices/{mac}")
    assert code == 200, body
    assert "Front desk" in _settings(daemon, mac)
    assert _eventually(lambda: _curl(*auth, f"{daemon.baseURL}/api/devices/{mac}")[1]["settings"]
                       ["stale"] is False)

    layer = tmp_path / "site.xml"
    layer.write_text('<settings><phone-settings><language perm="">Deutsch</language>'
                     "</phone-settings></settings>\n")
    uploaded = daemon.run("settings", "upload", "--scope", "site", str(layer))
    assert uploaded.returncode == 0, uploaded.stderr
    assert _curl(*auth, f"{daemon.baseURL}/api/devices/{mac}")[1]["settings"]["stale"] is True
    assert _eventually(lambda: "Deutsch" in _settings(daemon, mac))
    assert _eventually(lambda: _curl(*auth, f"{daemon.baseURL}/api/devices/{mac}")[1]["settings"]
                       ["stale"] is False)

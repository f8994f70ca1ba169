"""
The limits on a real daemon, from outside: curl for the requests, raw
sockets for the clients that misbehave (a client that never completes its
headers, one that holds connections open).  Only loopback addresses.

- request headers not complete in C{[http] header_timeout}: closed;
- a phone-facing body above C{[http] max_body}: 413, while the same body
  reaches the API (C{[admin] max_body});
- past C{[http] connections_per_address} open connections from 127.0.0.1,
  curl from 127.0.0.1 is refused while curl from 127.0.0.2 is served;
- the data directory and the database file are private.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import time

import pytest

from daemon import Daemon


def _curl() -> str:
    found = shutil.which("curl")
    if found is None:
        pytest.skip("curl is not installed")
    return found


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    daemon = Daemon(tmp_path_factory.mktemp("limits"), sip=False, tftp=False,
                    httpConfig="header_timeout = 1\nmax_body = 1024\nconnections_per_address = 4\n")
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_curl(), "-sS", "-o", "/dev/null", "-w", "%{http_code}", *args],
                          capture_output=True, text=True, timeout=30)


def test_slowHeadersClosed(daemon):
    """
    A client that sends part of its headers and then nothing is answered
    408 and its connection closed by the daemon (a read returns the end of
    the stream), long before the 30 s this test waits at most.
    """
    with socket.create_connection(("127.0.0.1", daemon.httpPort), timeout=30) as client:
        client.sendall(b"GET /snom/snomD785.htm HTTP/1.1\r\nHost: x\r\n")
        received = b""
        while True:
            chunk = client.recv(4096)
            if not chunk:
                break
            received += chunk
    assert received.startswith(b"HTTP/1.1 408 ")


def test_oversizedBody(daemon, tmp_path):
    """
    A phone-facing POST of 2,000 bytes (the limit is 1,024) is answered 413
    by the daemon, curl sending the body or not; the same body to the API
    passes the listener's bound (it reaches the API, which asks for a
    login: 401).
    """
    body = tmp_path / "body"
    body.write_bytes(b"x" * 2000)
    result = _run("--data-binary", f"@{body}", f"{daemon.baseURL}/snom/snomD785.htm")
    assert result.stdout == "413", result.stderr
    result = _run("--data-binary", f"@{body}", "-H", "Content-Type: text/csv", f"{daemon.baseURL}/api/imports")
    assert result.stdout == "401", result.stderr
    chunked = _run("-H", "Transfer-Encoding: chunked", "--data-binary", f"@{body}",
                   f"{daemon.baseURL}/snom/snomD785.htm")
    assert chunked.stdout == "413", chunked.stderr


def test_connectionsPerAddress(daemon):
    """
    With 4 connections held open from 127.0.0.1, curl from 127.0.0.1 gets
    no answer (the daemon closes the connection at once), while curl from
    127.0.0.2 is served; once they are closed, 127.0.0.1 is served again.
    """
    url = f"{daemon.baseURL}/snom/snomD785.htm"
    held = [socket.create_connection(("127.0.0.1", daemon.httpPort), timeout=10) for _ in range(4)]
    try:
        refused = _run(url)
        assert refused.returncode != 0 and refused.stdout == "000", (refused.returncode, refused.stdout)
        other = _run("--interface", "127.0.0.2", url)
        assert other.returncode == 0 and other.stdout == "200", other.stderr
    finally:
        for client in held:
            client.close()
    for _ in range(50):
        served = _run(url)
        if served.stdout == "200":
            break
        time.sleep(0.1)  # the daemon has not yet seen the closes
    assert served.stdout == "200", served.stderr


def test_dataPrivate(daemon):
    """
    The data directory is 0700 and the database file and its WAL 0600.
    """
    var = os.path.join(daemon.directory, "var")
    assert stat.S_IMODE(os.stat(var).st_mode) == 0o700
    files = [name for name in os.listdir(var) if name.startswith("snomprov.sqlite")]
    assert "snomprov.sqlite" in files
    for name in files:
        assert stat.S_IMODE(os.stat(os.path.join(var, name)).st_mode) == 0o600, name


def test_tftpTransfersPerClient(tmp_path):
    """
    With two transfers from 127.0.0.1 that are never acknowledged, curl's
    TFTP fetch from 127.0.0.1 is answered with an ERROR (curl fails at
    once, no timeout), while curl from 127.0.0.2 gets the file.
    """
    curl = _curl()
    with Daemon(tmp_path, sip=False, extraConfig="transfers_per_client = 2\n") as daemon:
        url = f"tftp://127.0.0.1:{daemon.tftpPort}/spa942.cfg"
        stuck = []
        try:
            for _ in range(2):
                client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                client.bind(("127.0.0.1", 0))
                client.settimeout(10)
                client.sendto(b"\x00\x01spa942.cfg\x00octet\x00", ("127.0.0.1", daemon.tftpPort))
                assert client.recvfrom(4096)[0][:2] == b"\x00\x03"  # DATA 1, never ACKed
                stuck.append(client)
            refused = subprocess.run([curl, "-sS", "-o", str(tmp_path / "refused"), url],
                                     capture_output=True, text=True, timeout=30)
            assert refused.returncode != 0 and "timeout" not in refused.stderr.lower(), refused.stderr
            served = subprocess.run([curl, "-sS", "--interface", "127.0.0.2", "-o", str(tmp_path / "ok"), url],
                                    capture_output=True, text=True, timeout=30)
            assert served.returncode == 0, served.stderr
            assert b"<flat-profile" in (tmp_path / "ok").read_bytes()
        finally:
            for client in stuck:
                client.close()

"""
The real daemon: starts with no config, answers on its ports, stops cleanly
on SIGTERM.
"""

import os
import subprocess
import urllib.error
import urllib.request

import pytest

from daemon import ROOT, Daemon, twistdCommand


def test_startsAnswersAndStops(tmp_path):
    """
    C{twistd -n snomprov} starts, logs what it listens on, answers HTTP
    (404 for an unknown name), and shuts down cleanly on SIGTERM.
    """
    daemon = Daemon(tmp_path).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{daemon.baseURL}/nothing-here.cfg", timeout=5)
        assert e.value.code == 404
        log = daemon.log()
        assert f"on UDP 0.0.0.0:{daemon.sipPort}" in log and f"on UDP 127.0.0.1:{daemon.tftpPort}" in log
    finally:
        # twistd re-raises the signal after a clean shutdown.
        assert daemon.stop() in (0, -15)
    assert "Server Shut Down" in daemon.log()


def test_noConfigAtAll(tmp_path):
    """
    With no config file the daemon starts on the embedded defaults (HTTP
    8080, SIP 5060, TFTP 6969), its data under the working directory.
    """
    process = subprocess.Popen(
        [*twistdCommand(), "-n", "--pidfile=", "snomprov", "--data-dir", str(tmp_path / "var")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        import time

        deadline = time.monotonic() + 20
        out = b""
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:8080/x", timeout=1)
            except urllib.error.HTTPError as e:
                assert e.code == 404
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("no HTTP answer on 8080")
    finally:
        process.terminate()
        try:
            out = process.communicate(timeout=20)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            out = process.communicate()[0].decode()
            pytest.fail(f"no clean stop within 20 s of SIGTERM:\n{out}")
    assert "Listening for HTTP tcp:8080 on TCP 0.0.0.0:8080" in out
    assert "Listening for SIP UDP 5060 (group 224.0.1.75, port not shared) on UDP 0.0.0.0:5060" in out
    assert "Listening for TFTP UDP 6969 on UDP 0.0.0.0:6969" in out
    assert process.returncode in (0, -15) and "Server Shut Down" in out
    assert (tmp_path / "var" / "snomprov.sqlite").exists()

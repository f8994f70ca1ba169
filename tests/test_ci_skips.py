"""
The suite's rule, kept by one hook in C{tests/conftest.py}: under
C{CI=true} a skipped test (a missing peer or privilege) fails, with its
reason; elsewhere it stays a skip.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _run(tmp_path, ci: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_probe.py").write_text(
        "import pytest\n\ndef test_needsAPeer():\n    pytest.skip('no such peer installed')\n")
    # The suite's conftest.py, loaded as a plugin (on PYTHONPATH).
    env = {**os.environ, "PYTHONPATH": HERE, "CI": "true" if ci else "false"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "-p", "no:randomly", "-p", "conftest", str(tmp_path / "test_probe.py")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_skipFailsUnderCI(tmp_path):
    result = _run(tmp_path, ci=True)
    assert result.returncode == 1, result.stdout
    assert "1 failed" in result.stdout and "no such peer installed" in result.stdout


def test_skipStaysASkipElsewhere(tmp_path):
    result = _run(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout and "no such peer installed" in result.stdout

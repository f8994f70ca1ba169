"""
Every shell block of C{README.md} and C{docs/*.md} runs as printed.

The convention for fenced blocks in those files:

    - C{```sh}: a runnable block.  It is run here, by C{bash} with C{set -e}
      (so any failing command fails the test), with a time limit
      (L{BLOCK_TIMEOUT}), its output captured.
    - C{```sh-norun}: shell the reader runs but this test cannot: a block
      that starts the daemon and does not return (C{make run}, C{twistd}),
      runs the whole suite (C{make test}), needs root or real phones, or
      runs a benchmark for minutes.
    - Anything else (C{```text}, C{```toml}, C{```ini}, C{```json}): not run.
    - A line C{<!-- test_docs: daemon FILE -->} (invisible when rendered),
      placed where the page tells the reader to start the daemon on FILE
      (C{make run CONFIG=FILE}): here the test starts
      C{twistd -n --pidfile= snomprov --config FILE} itself, with C{--http},
      C{--sip-port} and C{--tftp-port} on free loopback ports, waits until its
      store is open and HTTP answers, runs the page's later blocks against
      it, and stops it after the page's last block (L{ScratchDaemon}).

The blocks of one file run in order, each in its own C{bash}, in one scratch
directory per file: a copy of the repository (without C{.git}, C{.venv} and
C{var}), with C{.venv} a link to the venv running the tests (C{sys.prefix})
and that venv's C{bin} first on C{PATH}.  So a later block may use a file an
earlier block of the same page wrote (the quickstart's C{site.toml}), and no
block touches the checkout.  Blocks name the configuration with
C{--config FILE}, never C{SNOMPROV_CONFIG} (removed from their environment).
Blocks never name the daemon's ports, which a test cannot choose for the
reader: a block after a daemon directive finds the daemon at
C{$SNOMPROV_URL} (C{http://127.0.0.1:PORT}, set here), so a page writes
C{${SNOMPROV_URL:-http://localhost:8080}}: the reader's daemon on its
default port, the test's on its free one, the same command as printed.
Other blocks that talk to a daemon by port (C{tftp}) are C{sh-norun}.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest

from daemon import freePort, readLog, twistdCommand

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BLOCK_TIMEOUT = 60
"""
Seconds one block may run.
"""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)$")
_DAEMON = re.compile(r"^\s*<!-- test_docs: daemon (?P<config>\S+) -->\s*$")


def extractBlocks(text: str) -> list[tuple[str, int, str]]:
    """
    The fenced code blocks of a Markdown text.

    @return: C{(info, line, code)} per block: the fence's info string (its
        first word: C{sh}, C{sh-norun}, C{toml} …), the 1-based line of the
        opening fence, and the code with the fence's indentation removed.  A
        daemon directive is C{("daemon", line, FILE)}.
    @raise ValueError: a fence is never closed.
    """
    blocks = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            directive = _DAEMON.match(lines[index])
            if directive is not None:
                blocks.append(("daemon", index + 1, directive["config"]))
            index += 1
            continue
        indent = opening["indent"]
        info = opening["info"].strip().split(" ")[0]
        start = index + 1
        index += 1
        body = []
        while index < len(lines) and lines[index].strip() != "```":
            line = lines[index]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            index += 1
        if index == len(lines):
            raise ValueError(f"line {start}: the ``` fence is never closed")
        index += 1
        blocks.append((info, start, "\n".join(body) + "\n"))
    return blocks


def documentationFiles() -> list[str]:
    """
    C{README.md} and every C{docs/*.md}, relative to the repository root.
    """
    docs = os.path.join(ROOT, "docs")
    names = sorted(n for n in os.listdir(docs) if n.endswith(".md")) if os.path.isdir(docs) else []
    return ["README.md", *(os.path.join("docs", n) for n in names)]


def _scratchCopy(destination: str) -> None:
    """
    Copy the repository to C{destination}, with the running venv linked as
    C{.venv} rather than copied, and no state.
    """
    shutil.copytree(ROOT, destination, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "__pycache__", ".hypothesis", "_trial_temp", "*.egg-info", "build",
        "dropin.cache"))
    os.symlink(sys.prefix, os.path.join(destination, ".venv"))


def runBlock(code: str, cwd: str, daemonURL: str | None = None) -> subprocess.CompletedProcess:
    """
    Run one block with C{bash -e} in C{cwd}, the venv first on C{PATH}.

    @param daemonURL: the scratch daemon's URL, as C{$SNOMPROV_URL}.
    """
    env = dict(os.environ)
    env["PATH"] = os.path.join(cwd, ".venv", "bin") + os.pathsep + env.get("PATH", "")
    env.pop("SNOMPROV_CONFIG", None)
    env.pop("SNOMPROV_URL", None)
    if daemonURL is not None:
        env["SNOMPROV_URL"] = daemonURL
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT,
                          stdin=subprocess.DEVNULL)


class ScratchDaemon:
    """
    C{twistd -n snomprov --config FILE} in a scratch directory, on free
    loopback ports.
    """

    def __init__(self, config: str, cwd: str) -> None:
        self.cwd = cwd
        self.httpPort = freePort()
        self.logPath = os.path.join(cwd, "twistd-docs.log")
        self.argv = [*twistdCommand(), "-n", "--pidfile=", "--logfile", self.logPath, "snomprov",
                     "--config", config, "--http", f"tcp:{self.httpPort}:interface=127.0.0.1",
                     "--sip-port", str(freePort(socket.SOCK_DGRAM)),
                     "--tftp-port", str(freePort(socket.SOCK_DGRAM))]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """
        Where the page's blocks find it (C{$SNOMPROV_URL}).
        """
        return f"http://127.0.0.1:{self.httpPort}"

    def log(self) -> str:
        return readLog(self.logPath)

    def start(self, timeout: float = 30.0) -> None:
        """
        Start it and wait until its store is open and HTTP accepts.

        @raise RuntimeError: it exited, or was not up in C{timeout} seconds.
        """
        env = dict(os.environ)
        env.pop("SNOMPROV_CONFIG", None)
        self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode(errors="replace")
                raise RuntimeError(f"twistd exited {self.process.returncode}:\n{self.log()}{output}")
            if "Store open" in self.log() and self._httpUp():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"twistd did not start in {timeout} s:\n{self.log()}")

    def _httpUp(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.httpPort), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def test_extractBlocks():
    """
    Fences are found with their info word and line, indented fences (in a
    list) included, and an unclosed fence is an error.
    """
    text = ("# t\n```sh\necho a\n```\n- item\n\n  ```toml\n  [x]\n  ```\n```sh-norun\nmake run\n```\n"
            "<!-- test_docs: daemon site.toml -->\n")
    assert extractBlocks(text) == [
        ("sh", 2, "echo a\n"), ("toml", 7, "[x]\n"), ("sh-norun", 10, "make run\n"),
        ("daemon", 13, "site.toml")]
    with pytest.raises(ValueError):
        extractBlocks("```sh\necho a\n")


def test_failingBlockFails(tmp_path):
    """
    A block whose first command fails fails, even when a later one succeeds.
    """
    assert runBlock("false\ntrue\n", str(tmp_path)).returncode != 0
    assert runBlock("true\n", str(tmp_path)).returncode == 0


def test_blocksFindTheDaemon(tmp_path):
    """
    A block finds the scratch daemon at C{$SNOMPROV_URL}; without one it
    falls back to what the page prints for the reader.
    """
    code = 'echo "${SNOMPROV_URL:-http://localhost:8080}"\n'
    assert runBlock(code, str(tmp_path)).stdout == "http://localhost:8080\n"
    assert runBlock(code, str(tmp_path), "http://127.0.0.1:1234").stdout == "http://127.0.0.1:1234\n"


def test_readmeHasSetupCommands():
    """
    The README opens with the two set-up commands, C{make run} and
    C{make test}, and says that C{.ci/run} runs C{make test}.
    """
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    first = extractBlocks(text)[0]
    assert first[0] == "sh-norun"
    assert [line.split("#")[0].strip() for line in first[2].splitlines()] == ["make run", "make test"]
    assert ".ci/run" in text


@pytest.mark.parametrize("path", documentationFiles())
def test_shellBlocksRun(path, tmp_path):
    """
    Every C{```sh} block of C{path} runs, in order, to a zero exit status.
    """
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        blocks = extractBlocks(f.read())
    scratch = str(tmp_path / "repo")
    _scratchCopy(scratch)
    daemons = []
    try:
        for info, line, code in blocks:
            if info == "daemon":
                daemon = ScratchDaemon(code, scratch)
                daemons.append(daemon)
                daemon.start()
                continue
            if info != "sh":
                continue
            result = runBlock(code, scratch, daemons[-1].url if daemons else None)
            assert result.returncode == 0, (
                f"{path}:{line}: the sh block exited {result.returncode}\n--- block\n{code}"
                f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}")
        for daemon in daemons:
            assert daemon.process.poll() is None, f"{path}: the daemon exited:\n{daemon.log()}"
            assert "Store open" in daemon.log()
    finally:
        for daemon in daemons:
            daemon.stop()

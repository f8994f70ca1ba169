"""
C{snomprov user ...} and C{snomprov token ...}, run as users run them (a
child process) against a store prepared as the daemon's first start
prepares it.
"""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import sys
import time

import pytest

from daemon import ROOT, Daemon

from snomprov.accounts import tokenHash, verifyPassword


@pytest.fixture
def cli(tmp_path):
    """
    A config and its store (no daemon running) to run commands against.
    """
    return Daemon(tmp_path, sip=False, tftp=False)


def storePath(cli) -> str:
    return os.path.join(cli.directory, "var", "snomprov.sqlite")


def rows(cli, query):
    connection = sqlite3.connect(storePath(cli))
    try:
        return connection.execute(query).fetchall()
    finally:
        connection.close()


def audits(cli) -> list[str]:
    return [detail for (detail,) in rows(cli, "SELECT detail FROM events WHERE kind = 'audit' ORDER BY id")]


def add(cli, name, password="pw", *options):
    return cli.run("user", "add", name, *options, input=password + "\n")


def test_firstUserIsAdmin(cli):
    """
    The first user is made an admin whatever role was asked, and the
    command says so; the next gets the role asked, C{operator} by default.
    """
    first = add(cli, "alice", "pw", "--role", "viewer")
    assert (first.returncode, first.stderr) == (0, "")
    assert first.stdout == "added user alice as admin, not viewer: the first user is always an admin\n"
    second = add(cli, "bob", "pw2", "--role", "viewer")
    assert second.stdout == "added user bob (viewer)\n"
    assert add(cli, "carol").stdout == "added user carol (operator)\n"
    listed = cli.run("user", "list")
    assert listed.returncode == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["NAME", "ROLE"], ["alice", "admin"], ["bob", "viewer"], ["carol", "operator"]]
    assert audits(cli) == [
        "cli user:alice: added as admin (the first user is an admin)",
        "cli user:bob: added as viewer",
        "cli user:carol: added as operator",
    ]


def test_passwordStoredAsScrypt(cli, tmp_path):
    """
    The stored password is an scrypt hash that verifies the password given
    on standard input (its line end not included) or in a file (its first
    line); the password itself is nowhere in the store or in the output.
    """
    result = add(cli, "alice", "correct horse battery")
    assert result.returncode == 0, result.stderr
    (tmp_path / "pw").write_text("staple pw\nignored\n")
    fromFile = cli.run("user", "add", "bob", "--password-file", str(tmp_path / "pw"))
    assert fromFile.returncode == 0, fromFile.stderr
    stored = dict(rows(cli, "SELECT name, password_hash FROM operators"))
    assert stored["alice"].startswith("scrypt$") and verifyPassword("correct horse battery", stored["alice"])
    assert verifyPassword("staple pw", stored["bob"]) and not verifyPassword("staple pw\n", stored["bob"])
    files = b"".join(open(os.path.join(cli.directory, "var", name), "rb").read()
                     for name in os.listdir(os.path.join(cli.directory, "var")))
    assert b"correct horse battery" not in files and b"staple pw" not in files
    assert "correct horse" not in result.stdout + result.stderr + "".join(audits(cli))


@pytest.mark.parametrize("args,input,message", [
    (["user", "add", "Alice"], "pw\n",
     "bad user name 'Alice': use 1 to 64 lower-case letters, digits, '.', '_' or '-', "
     "starting with a letter or a digit"),
    (["user", "add", "alice", "--role", "root"], "pw\n", "unknown role 'root': use admin, operator or viewer"),
    (["user", "add", "alice"], "\n", "user alice: the password is empty"),
    (["user", "add", "alice"], "", "user alice: the password is empty"),
    (["user", "add", "alice", "--password-file", "/nonexistent/pw"], "",
     "/nonexistent/pw: cannot read: No such file or directory"),
    (["user", "remove", "zed"], "", "no user zed"),
    (["token", "add", "c i"], "", "bad token name 'c i': use 1 to 64 lower-case letters, digits, '.', '_' "
     "or '-', starting with a letter or a digit"),
    (["token", "add", "ci", "--role", "god"], "", "unknown role 'god': use admin, operator or viewer"),
    (["token", "revoke", "ci"], "", "no token ci"),
])
def test_badInputOneLine(cli, args, input, message):
    """
    Bad input is one line on standard error and exit 2, nothing stored and
    nothing audited.
    """
    result = cli.run(*args, input=input)
    assert (result.returncode, result.stderr, result.stdout) == (2, message + "\n", "")
    assert rows(cli, "SELECT name FROM operators") == [] and rows(cli, "SELECT name FROM tokens") == []
    assert audits(cli) == []


def test_emptyPasswordFileRefused(cli, tmp_path):
    (tmp_path / "pw").write_text("\n")
    result = cli.run("user", "add", "alice", "--password-file", str(tmp_path / "pw"))
    assert (result.returncode, result.stderr) == (2, "user alice: the password is empty\n")


def test_existingUserRefused(cli):
    """
    Adding a user of a name taken is exit 2 with one line; the stored user
    keeps its password.
    """
    add(cli, "alice", "first")
    again = add(cli, "alice", "second")
    assert (again.returncode, again.stderr, again.stdout) == (2, "user alice exists already\n", "")
    (stored,) = rows(cli, "SELECT password_hash FROM operators")
    assert verifyPassword("first", stored[0])
    assert len(audits(cli)) == 1


def test_lastAdminKept(cli):
    """
    The last admin cannot be removed; other users can, and once there is
    another admin, so can the first.
    """
    add(cli, "alice")
    add(cli, "bob", "pw", "--role", "viewer")
    refused = cli.run("user", "remove", "alice")
    assert (refused.returncode, refused.stderr) == (2, "user alice is the last admin: make another admin first\n")
    removed = cli.run("user", "remove", "bob")
    assert (removed.returncode, removed.stdout) == (0, "removed user bob (viewer)\n")
    add(cli, "carol", "pw", "--role", "admin")
    assert cli.run("user", "remove", "alice").returncode == 0
    assert rows(cli, "SELECT name, role FROM operators") == [("carol", "admin")]
    assert audits(cli)[-1] == "cli user:alice: removed (admin)"


def test_tokens(cli):
    """
    C{token add} prints the new token alone on standard output, once; only
    its hash is stored; C{token list} shows names and roles, C{token
    revoke} forgets it.  Each change is audited without the token.
    """
    issued = cli.run("token", "add", "ci", "--role", "viewer")
    assert issued.returncode == 0, issued.stderr
    secret = issued.stdout.strip()
    assert issued.stdout == secret + "\n" and secret.startswith("snp_") and len(secret) == 47
    assert issued.stderr == "issued token ci (viewer); it is shown only this once\n"
    assert rows(cli, "SELECT name, role, token_hash FROM tokens") == [("ci", "viewer", tokenHash(secret))]
    other = cli.run("token", "add", "backup").stdout.strip()
    assert other != secret
    again = cli.run("token", "add", "ci")
    assert (again.returncode, again.stderr, again.stdout) == (2, "token ci exists already\n", "")
    listed = cli.run("token", "list").stdout
    assert [line.split()[:2] for line in listed.splitlines()] == [
        ["NAME", "ROLE"], ["backup", "operator"], ["ci", "viewer"]]
    assert secret not in listed
    revoked = cli.run("token", "revoke", "ci")
    assert (revoked.returncode, revoked.stdout) == (0, "revoked token ci\n")
    assert rows(cli, "SELECT name FROM tokens") == [("backup",)]
    assert audits(cli) == ["cli token:ci: issued (viewer)", "cli token:backup: issued (operator)",
                           "cli token:ci: revoked"]
    assert not any(secret in line or other in line for line in audits(cli))


@pytest.mark.parametrize("command", [["user", "list"], ["user", "add", "alice"], ["token", "add", "ci"]])
def test_noStoreIsNotCreated(tmp_path, command):
    """
    Without a store the commands say so (one line, exit 2) and create none,
    before asking for any password.
    """
    config = tmp_path / "snomprov.toml"
    config.write_text('[server]\ndata_dir = "state"\n[sip]\nenabled = false\n[tftp]\nenabled = false\n')
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "snomprov", "--config", str(config), *command],
                          input="pw\n", capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("no store at ") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "state").exists()


def _readUntil(fd, wanted: bytes, timeout: float = 30.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {wanted!r} in {seen!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            chunk = b""
        if not chunk:
            raise AssertionError(f"ended before {wanted!r}: {seen!r}")
        seen += chunk
    return seen


def _onTerminal(cli, *args: str, answers: list[bytes]) -> tuple[int, bytes]:
    """
    Run a command on a pseudo-terminal, answering each password prompt in
    turn; its exit status and everything it wrote.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its standard input and /dev/tty
        os.chdir(ROOT)
        os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
        os.execv(sys.executable, [sys.executable, "-m", "snomprov", "--config", cli.configPath, *args])
    written = b""
    try:
        for answer in answers:
            written += _readUntil(fd, b": ")
            os.write(fd, answer + b"\n")
        while True:
            ready, _, _ = select.select([fd], [], [], 30)
            try:
                chunk = os.read(fd, 1024) if ready else b""
            except OSError:
                chunk = b""
            if not chunk:
                break
            written += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), written


def test_promptedOnTerminal(cli):
    """
    On a terminal, C{user add} prompts for the password twice without
    echoing it; the two must match.
    """
    status, written = _onTerminal(cli, "user", "add", "alice", answers=[b"tty secret", b"tty secret"])
    assert status == 0, written
    assert b"Password for alice: " in written and b"The same again: " in written
    assert b"tty secret" not in written
    assert b"added user alice as admin, not operator" in written
    (stored,) = rows(cli, "SELECT password_hash FROM operators")
    assert verifyPassword("tty secret", stored[0])
    status, written = _onTerminal(cli, "user", "add", "bob", answers=[b"one", b"two"])
    assert status == 2 and b"user bob: the two passwords differ" in written
    assert rows(cli, "SELECT name FROM operators") == [("alice",)]

"""
A test PostgreSQL, started by the tests themselves: C{initdb} into a
temporary directory, C{pg_ctl start} on a free loopback port (127.0.0.1
only, its unix socket in that directory), trust authentication for its
superuser, stopped at the end.

PostgreSQL refuses to run as root: as root the server runs as the
C{postgres} user (Debian's package creates it), else C{nobody}; the
directory is given to that user.  Any other user runs it as itself.

L{PostgresServer} is the server; the C{postgres} fixture in
C{tests/conftest.py} is one such server for the whole session.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

from logfile import readLog
from ports import freePort

__all__ = ["PostgresServer", "findBinDir", "missingReason"]

_running: set["PostgresServer"] = set()


@atexit.register
def _stopLeftovers() -> None:
    """
    No server outlives the test run, whatever a test forgot.
    """
    for server in list(_running):
        server.stop()


def findBinDir() -> str | None:
    """
    The directory of the newest installed PostgreSQL's C{initdb} and
    C{pg_ctl}, or C{None}.
    """
    candidates = glob.glob("/usr/lib/postgresql/*/bin/initdb")

    def version(path: str) -> tuple[int, ...]:
        number = path.split("/")[4]
        return tuple(int(part) for part in number.split(".") if part.isdigit())

    if candidates:
        return os.path.dirname(max(candidates, key=version))
    found = shutil.which("initdb")
    return os.path.dirname(found) if found else None


def missingReason() -> str | None:
    """
    Why no test PostgreSQL can run here (C{None}: it can).
    """
    binDir = findBinDir()
    if binDir is None:
        return "PostgreSQL is not installed (no initdb; Debian: apt-get install postgresql)"
    if not os.path.exists(os.path.join(binDir, "pg_ctl")):
        return f"PostgreSQL has no pg_ctl in {binDir}"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg (psycopg 3) is not installed"
    return None


def _serverUser() -> str | None:
    """
    Whom to run the server as: C{None} for the current user, unless that is
    root.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root, and neither a postgres nor a nobody user exists")


class PostgresServer:
    """
    One PostgreSQL server in its own temporary directory.

    @ivar host: C{127.0.0.1}.
    @ivar port: its TCP port.
    @ivar user: its superuser (trusted, no password).
    @ivar socketDir: the directory of its unix socket.
    """

    host = "127.0.0.1"
    user = "snomprov"

    def __init__(self) -> None:
        self.binDir = findBinDir()
        if self.binDir is None:
            raise RuntimeError(missingReason())
        self.runAs = _serverUser()
        self.directory = tempfile.mkdtemp(prefix="snomprov-pg-")
        self.dataDir = os.path.join(self.directory, "data")
        self.socketDir = os.path.join(self.directory, "run")
        self.logPath = os.path.join(self.directory, "postgres.log")
        os.mkdir(self.socketDir)
        if self.runAs is not None:
            entry = pwd.getpwnam(self.runAs)
            for path in (self.directory, self.socketDir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.port = freePort()
        self._initialised = False
        self.running = False

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = [os.path.join(self.binDir, argv[0]), *argv[1:]]
        if self.runAs is not None:
            command = ["runuser", "-u", self.runAs, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                cwd=self.directory, env={**os.environ, "LC_ALL": "C"})
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:2])} failed ({result.returncode}):\n"
                               f"{result.stdout}{result.stderr}{self.log()}")
        return result

    def log(self) -> str:
        """
        The server's log so far.
        """
        return readLog(self.logPath)

    def start(self) -> "PostgresServer":
        """
        Create the cluster (first time only) and start the server; returns
        when it accepts connections.
        """
        if not self._initialised:
            self._run("initdb", "-D", self.dataDir, "-U", self.user, "--auth=trust", "-E", "UTF8",
                      "--no-sync")
            self._initialised = True
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socketDir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", self.dataDir, "-l", self.logPath, "-o", options)
        self.running = True
        _running.add(self)
        return self

    def stop(self, mode: str = "fast") -> None:
        """
        Stop the server (C{fast} shutdown: connections are cut; C{immediate}:
        as if it crashed, no goodbye to its clients); the cluster stays for
        L{start}, which starts it again on the same port.
        """
        if not self.running:
            return
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", self.dataDir)
        self.running = False
        _running.discard(self)

    def destroy(self) -> None:
        """
        Stop the server and remove its directory.
        """
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        """
        A libpq connection URL to C{database}.
        """
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres"):
        """
        A new psycopg connection (autocommit) to C{database}.
        """
        import psycopg

        return psycopg.connect(self.dsn(database), autocommit=True, connect_timeout=10)

    def createDatabase(self, name: str, schema: str | None = None, template: str | None = None) -> str:
        """
        Create the database C{name} (dropping any of that name) and run the
        SQL text C{schema} in it.

        @param template: a database to copy (none connected to it), rather
            than an empty one: a file copy, cheap.
        @return: its connection URL (L{dsn}).
        """
        from psycopg import sql

        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if template is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(name), sql.Identifier(template)))
        if schema:
            with self.connect(name) as connection:
                connection.execute(schema)
        return self.dsn(name)

    def dropDatabase(self, name: str) -> None:
        """
        Drop the database C{name}, cutting its connections.
        """
        from psycopg import sql

        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def waitUntilUp(self, timeout: float = 30.0) -> None:
        """
        Wait until a connection succeeds.
        """
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

"""
A test MariaDB (or MySQL), started by the tests themselves:
C{mariadb-install-db} into a temporary directory, C{mariadbd} on a free
loopback port (127.0.0.1 only, its unix socket in that directory), stopped
at the end.  As root the server runs as the C{mysql} user (Debian's
package creates it).  Its C{root} logs in through the socket without a
password; L{MySQLServer.createDatabase} makes a database and a user with a
password that may log in over TCP.

Like L{pgserver.PostgresServer}, for the C{mysql} fixture in
C{tests/conftest.py}.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from logfile import readLog
from ports import freePort

__all__ = ["MySQLServer", "missingReason"]

_running: set["MySQLServer"] = set()


@atexit.register
def _stopLeftovers() -> None:
    for server in list(_running):
        server.stop()


def _program(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (path for path in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(path)), None)
        if found:
            return found
    return None


def missingReason() -> str | None:
    """
    Why no test MariaDB can run here (C{None}: it can).
    """
    if _program("mariadbd", "mysqld") is None or _program("mariadb-install-db", "mysql_install_db") is None:
        return "MariaDB is not installed (no mariadbd; Debian: apt-get install mariadb-server)"
    try:
        import pymysql  # noqa: F401
    except ImportError:
        return "PyMySQL is not installed"
    return None


class MySQLServer:
    """
    One MariaDB server in its own temporary directory.

    @ivar host: C{127.0.0.1}.
    @ivar port: its TCP port.
    """

    host = "127.0.0.1"

    def __init__(self) -> None:
        reason = missingReason()
        if reason:
            raise RuntimeError(reason)
        self.server = _program("mariadbd", "mysqld")
        self.installer = _program("mariadb-install-db", "mysql_install_db")
        self.runAs = "mysql" if os.geteuid() == 0 else None
        self.directory = tempfile.mkdtemp(prefix="snomprov-mysql-")
        self.dataDir = os.path.join(self.directory, "data")
        self.socketPath = os.path.join(self.directory, "mysqld.sock")
        self.logPath = os.path.join(self.directory, "mysqld.log")
        if self.runAs is not None:
            entry = pwd.getpwnam(self.runAs)
            os.chown(self.directory, entry.pw_uid, entry.pw_gid)
        self.port = freePort()
        self.process: subprocess.Popen | None = None
        self._installed = False

    def _options(self) -> list[str]:
        options = ["--no-defaults", f"--datadir={self.dataDir}"]
        if self.runAs:
            options.append(f"--user={self.runAs}")
        return options

    def log(self) -> str:
        return readLog(self.logPath)

    def start(self, timeout: float = 60.0) -> "MySQLServer":
        if not self._installed:
            result = subprocess.run([self.installer, *self._options(), "--auth-root-authentication-method=normal",
                                     "--skip-test-db"], capture_output=True, text=True, timeout=120)
            if result.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout}{result.stderr}")
            self._installed = True
        self.process = subprocess.Popen(
            [self.server, *self._options(), "--bind-address=127.0.0.1", f"--port={self.port}",
             f"--socket={self.socketPath}", f"--log-error={self.logPath}",
             f"--pid-file={os.path.join(self.directory, 'mysqld.pid')}", "--skip-name-resolve",
             "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _running.add(self)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.connect().close()
                return self
            except Exception:
                if self.process.poll() is not None:
                    raise RuntimeError(f"mariadbd exited {self.process.returncode}:\n{self.log()}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mariadbd did not start in {timeout} s:\n{self.log()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            _running.discard(self)
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        _running.discard(self)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def connect(self, database: str | None = None):
        """
        A new PyMySQL connection (autocommit) as C{root}, through the socket.
        """
        import pymysql

        return pymysql.connect(unix_socket=self.socketPath, user="root", database=database, autocommit=True,
                               connect_timeout=5)

    def createDatabase(self, name: str, schema: str | None = None, user: str = "kamailio",
                       password: str = "kamailio-secret") -> str:
        """
        Create the database C{name} (dropping any of that name) with the
        SQL text C{schema} (statements split on C{;}) and a C{user} with
        C{password} who may use it from 127.0.0.1.

        @return: its C{mysql://user:password@127.0.0.1:port/name} URL.
        """
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
                cursor.execute(f"CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1' IDENTIFIED BY '{password}'")
                cursor.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'127.0.0.1'")
                cursor.execute(f"USE `{name}`")
                for statement in _statements(schema or ""):
                    cursor.execute(statement)
        finally:
            connection.close()
        return f"mysql://{user}:{password}@{self.host}:{self.port}/{name}"


def _statements(schema: str) -> list[str]:
    text = "\n".join(line for line in schema.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in text.split(";") if statement.strip()]

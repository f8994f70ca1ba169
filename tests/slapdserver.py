"""
A test OpenLDAP server, started by the tests themselves: Debian's
C{slapd} with a C{slapd.conf} and a tiny directory (C{slapadd}) in a
temporary directory, listening on a free loopback port (127.0.0.1 only),
in the foreground; stopped (or paused, to play a slow directory) by the
test.

The directory: C{dc=example,dc=org}, its C{ou=people} with C{uid=ada}
(Ada Lovelace, 1001, ada@example.org), C{uid=grace} and two entries
sharing C{uid=twin}; C{cn=admin,dc=example,dc=org} binds with
L{SlapdServer.adminPassword}.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from logfile import readLog
from ports import freePort

__all__ = ["SlapdServer", "missingReason", "BASE_DN", "PEOPLE", "ADMIN_DN"]

BASE_DN = "dc=example,dc=org"
PEOPLE = f"ou=people,{BASE_DN}"
ADMIN_DN = f"cn=admin,{BASE_DN}"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA = "/etc/ldap/schema"
MODULES = "/usr/lib/ldap"

_running: set["SlapdServer"] = set()


@atexit.register
def _stopLeftovers() -> None:
    for server in list(_running):
        server.stop()


def missingReason() -> str | None:
    """
    Why no test slapd can run here (C{None}: it can).
    """
    for path in (SLAPD, SLAPADD, os.path.join(SCHEMA, "inetorgperson.schema")):
        if not os.path.exists(path):
            return f"slapd is not installed (no {path}; Debian: apt-get install slapd ldap-utils)"
    return None


ENTRIES = f"""\
dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: uid=ada,{PEOPLE}
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
sn: Lovelace
telephoneNumber: 1001
mail: ada@example.org

dn: uid=grace,{PEOPLE}
objectClass: inetOrgPerson
uid: grace
cn: Grace Hopper
sn: Hopper
mail: grace@example.org

dn: cn=twin one,{PEOPLE}
objectClass: inetOrgPerson
uid: twin
cn: twin one
sn: one

dn: cn=twin two,{PEOPLE}
objectClass: inetOrgPerson
uid: twin
cn: twin two
sn: two
"""


class SlapdServer:
    """
    @ivar url: C{ldap://127.0.0.1:<port>}.
    """

    host = "127.0.0.1"
    adminPassword = "admin-pw"

    def __init__(self) -> None:
        reason = missingReason()
        if reason is not None:
            raise RuntimeError(reason)
        self.directory = tempfile.mkdtemp(prefix="snomprov-slapd-")
        self.port = freePort()
        self.url = f"ldap://{self.host}:{self.port}"
        self.confPath = os.path.join(self.directory, "slapd.conf")
        self.logPath = os.path.join(self.directory, "slapd.log")
        self.process: subprocess.Popen | None = None
        database = os.path.join(self.directory, "db")
        os.mkdir(database)
        with open(self.confPath, "w", encoding="ascii") as f:
            f.write("".join(f"include {SCHEMA}/{name}.schema\n" for name in ("core", "cosine", "inetorgperson"))
                    + f"pidfile {self.directory}/slapd.pid\nargsfile {self.directory}/slapd.args\n"
                    + f"modulepath {MODULES}\nmoduleload back_mdb\n"
                    + f'database mdb\nmaxsize 16777216\nsuffix "{BASE_DN}"\nrootdn "{ADMIN_DN}"\n'
                    + f"rootpw {self.adminPassword}\ndirectory {database}\n")
        ldif = os.path.join(self.directory, "entries.ldif")
        with open(ldif, "w", encoding="utf-8") as f:
            f.write(ENTRIES)
        result = subprocess.run([SLAPADD, "-f", self.confPath, "-l", ldif], capture_output=True, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"slapadd failed ({result.returncode}): {result.stdout}{result.stderr}")

    def start(self, timeout: float = 30.0) -> "SlapdServer":
        """
        Start slapd; returns when it accepts connections.
        """
        log = open(self.logPath, "ab")
        self.process = subprocess.Popen([SLAPD, "-f", self.confPath, "-h", f"{self.url}/", "-d", "0"],
                                        stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        _running.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"slapd did not listen within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return readLog(self.logPath)

    def pause(self) -> None:
        """
        Stop the process (SIGSTOP): connections are accepted by the kernel
        and never answered, a directory that is slow.
        """
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        _running.discard(self)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

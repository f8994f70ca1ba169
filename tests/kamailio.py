"""
A real Kamailio for the PBX tests: a minimal C{kamailio.cfg} written into a
temporary directory that authenticates REGISTERs against C{subscriber}
(C{auth_db} on the test PostgreSQL or MariaDB), Kamailio started in the foreground on a
free loopback UDP port and stopped at the end; and SIPp registering a line
with it (C{tests/sipp/register_auth.xml}, C{register_refused.xml}).
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from logfile import readLog
from ports import freePort

__all__ = ["Kamailio", "needed", "sippRegister", "registers", "SCENARIOS"]

SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp")

_running: set[subprocess.Popen] = set()


@atexit.register
def _killLeftovers() -> None:
    for process in list(_running):
        if process.poll() is None:
            process.kill()
            process.wait()


def needed(program: str, hint: str) -> str:
    """
    The path of C{program}; skip the test without it (fail under
    C{CI=true}).
    """
    found = shutil.which(program) or next(
        (path for path in (f"/usr/sbin/{program}", f"/sbin/{program}") if os.path.exists(path)), None)
    if found is None:
        reason = f"{program} is not installed ({hint})"
        pytest.skip(reason)
    return found


_DB_MODULES = {"postgres": ("db_postgres", "kamailio-postgres-modules"),
               "mysql": ("db_mysql", "kamailio-mysql-modules")}


def _modulesDir(scheme: str) -> str:
    module, package = _DB_MODULES[scheme]
    for path in sorted(glob.glob("/usr/lib/*/kamailio/modules")) + ["/usr/lib/kamailio/modules"]:
        if os.path.exists(os.path.join(path, "auth_db.so")):
            if not os.path.exists(os.path.join(path, f"{module}.so")):
                reason = f"Kamailio has no {module} module (Debian: apt-get install {package})"
                pytest.skip(reason)
            return path
    reason = "Kamailio's modules (auth_db) are not installed (Debian: apt-get install kamailio)"
    pytest.skip(reason)


CONFIG = """#!KAMAILIO
# Written by tests/kamailio.py: a registrar that authenticates every
# REGISTER against auth_db's subscriber table, and nothing else.
debug=2
log_stderror=yes
log_prefix=""
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
alias="{domain}"
mpath="{modules}"

loadmodule "{dbModule}.so"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "auth_db.so"

modparam("usrloc", "db_mode", 0)
modparam("auth", "nonce_expire", 60)
modparam("auth_db", "db_url", "{dbURL}")
modparam("auth_db", "calculate_ha1", {calculateHA1})
modparam("auth_db", "password_column", "{passwordColumn}")
modparam("auth_db", "use_domain", 1)
modparam("auth_db", "load_credentials", "")

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (!sanity_check("1511", "7")) {{
        exit;
    }}
    if (!is_method("REGISTER")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    if (!auth_check("$fd", "subscriber", "1")) {{
        xlog("L_INFO", "REGISTER of $fu refused: $rc\\n");
        auth_challenge("$fd", "0");
        exit;
    }}
    if (!save("location")) {{
        sl_reply_error();
    }}
    exit;
}}
"""


class Kamailio:
    """
    A running Kamailio registrar for C{domain} on 127.0.0.1.

    @param dbURL: the database holding C{subscriber}, as the sink's
        C{[[pbx]] url} names it (C{postgresql://…} or C{mysql://…}).
    @param passwords: the sink's mode: C{"ha1"} (C{calculate_ha1} off,
        C{ha1} column) or C{"plain"} (C{calculate_ha1} on, C{password}).
    @ivar port: its UDP port.
    """

    def __init__(self, directory, dbURL: str, domain: str, passwords: str = "ha1") -> None:
        self.binary = needed("kamailio", "Debian: apt-get install kamailio kamailio-postgres-modules")
        scheme, rest = dbURL.split("://", 1)
        scheme = "postgres" if scheme in ("postgresql", "postgres") else scheme
        modules = _modulesDir(scheme)
        self.directory = str(directory)
        self.domain = domain
        self.port = freePort()
        self.configPath = os.path.join(self.directory, "kamailio.cfg")
        self.runtimeDir = os.path.join(self.directory, "kamailio-run")
        self.logPath = os.path.join(self.directory, "kamailio.log")
        os.makedirs(self.runtimeDir, exist_ok=True)
        with open(self.configPath, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(
                port=self.port, domain=domain, modules=modules, dbModule=_DB_MODULES[scheme][0],
                dbURL=f"{scheme}://{rest}",
                calculateHA1="1" if passwords == "plain" else "0",
                passwordColumn="password" if passwords == "plain" else "ha1"))
        self.process: subprocess.Popen | None = None

    def log(self) -> str:
        return readLog(self.logPath)

    def start(self, timeout: float = 30.0) -> "Kamailio":
        check = subprocess.run([self.binary, "-c", "-f", self.configPath], capture_output=True, text=True,
                               timeout=60)
        if check.returncode != 0:
            raise RuntimeError(f"kamailio -c refused {self.configPath}:\n{check.stdout}{check.stderr}")
        log = open(self.logPath, "ab")
        self.process = subprocess.Popen(
            [self.binary, "-f", self.configPath, "-DD", "-E", "-n", "1", "-Y", self.runtimeDir,
             "-P", os.path.join(self.runtimeDir, "kamailio.pid"), "-w", self.directory, "-m", "64", "-M", "8"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.directory)
        log.close()
        _running.add(self.process)
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"kamailio exited {self.process.returncode}:\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"kamailio did not answer in {timeout} s:\n{self.log()}")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        """
        Whether Kamailio answers an OPTIONS (with its 405).
        """
        callID = uuid.uuid4().hex
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            local = s.getsockname()[1]
            s.settimeout(0.3)
            message = (f"OPTIONS sip:{self.domain} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{callID}\r\n"
                       f"From: <sip:probe@{self.domain}>;tag={callID[:8]}\r\n"
                       f"To: <sip:{self.domain}>\r\nCall-ID: {callID}\r\nCSeq: 1 OPTIONS\r\n"
                       "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
            s.sendto(message.encode(), ("127.0.0.1", self.port))
            try:
                data = s.recv(65535)
            except OSError:
                return False
            return data.startswith(b"SIP/2.0 ")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            _running.discard(self.process)

    def __enter__(self) -> "Kamailio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def sippRegister(directory, kamailio: Kamailio, user: str, password: str, scenario: str) -> subprocess.CompletedProcess:
    """
    Run SIPp's C{scenario} (blocking) as the line C{user}/C{password}
    against C{kamailio}.

    @return: the finished SIPp (exit 0: the scenario went as written).
    """
    sipp = needed("sipp", "Debian: apt-get install sip-tester")
    directory = str(directory)
    tag = uuid.uuid4().hex[:8]
    injection = os.path.join(directory, f"register-{tag}.csv")
    with open(injection, "w", encoding="utf-8") as f:
        f.write(f"SEQUENTIAL\n{user};{kamailio.domain}\n")
    errors = os.path.join(directory, f"register-{tag}.errors.log")
    argv = [sipp, f"127.0.0.1:{kamailio.port}", "-sf", os.path.join(SCENARIOS, scenario), "-inf", injection,
            "-au", user, "-ap", password, "-i", "127.0.0.1", "-p", str(freePort()), "-m", "1", "-nostdin", "-timeout", "20s",
            "-timeout_error", "-recv_timeout", "5000", "-trace_err", "-error_file", errors]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=directory, timeout=60)
    if result.returncode != 0 and os.path.exists(errors):
        with open(errors, encoding="utf-8", errors="replace") as f:
            result.stderr += "\n--- sipp error log ---\n" + f.read()[-3000:]
    return result


def registers(directory, kamailio: Kamailio, user: str, password: str) -> bool:
    """
    Whether C{user}/C{password} registers: C{True} when Kamailio answers
    200 after the challenge, C{False} when it refuses (401 again or 403);
    anything else (no answer, another answer) fails the test.
    """
    accepted = sippRegister(directory, kamailio, user, password, "register_auth.xml")
    if accepted.returncode == 0:
        return True
    refused = sippRegister(directory, kamailio, user, password, "register_refused.xml")
    if refused.returncode == 0:
        return False
    pytest.fail(f"REGISTER of {user} neither accepted nor refused:\n{accepted.stdout[-2000:]}"
                f"{accepted.stderr[-2000:]}\n{refused.stdout[-2000:]}{refused.stderr[-2000:]}\n"
                f"--- kamailio ---\n{kamailio.log()[-3000:]}")

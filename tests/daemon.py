"""
Start the real daemon (C{twistd -n snomprov}) for integration tests, on
free loopback ports, and stop it afterwards.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import time

from logfile import readLog
from ports import freePort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_running: set[subprocess.Popen] = set()


@atexit.register
def _killLeftovers() -> None:
    """
    No daemon outlives the test run, whatever a test forgot.
    """
    for process in list(_running):
        if process.poll() is None:
            process.kill()
            process.wait()


def twistdCommand() -> list[str]:
    """
    How to run twistd with this checkout's snomprov.
    """
    return [sys.executable, "-c", "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"]


class Daemon:
    """
    A running C{twistd -n snomprov} with its own config and data directory.

    @ivar httpPort, sipPort, tftpPort: the ports it listens on (127.0.0.1).
    @ivar baseURL: its C{base_url}.

    @param listen: more C{[http] listen} descriptions (C{ssl:…}), after the
        plain HTTP one on C{httpPort}.
    @param httpConfig: more keys of the C{[http]} table (C{client_ca}).
    @param sipConfig: more keys of the C{[sip]} table (TOML lines).
    @param tftpPort: the TFTP port (default: a free one); 69 inside a
        network namespace, where DHCP option 66 cannot name a port.
    @param serverConfig: more keys of the C{[server]} table
        (C{log_field_length}).
    @param vendorPorts: C{[sip] vendor_ports}: false unless asked for, so
        that a test daemon never binds a vendor's fixed port (Yealink's
        5059) by accident and two daemons can run at once.
    @param proofNetworks: C{[http]} and C{[tftp] allowed_networks}: by
        default every address, so that a test of something else gets the
        files with their secrets as a deployment on a trusted network does
        (the C{network} proof, DESIGN §5); C{()} for none, to test the
        other proofs.
    """

    def __init__(self, directory, extraConfig: str = "", sip: bool = True, tftp: bool = True,
                 host: str = "127.0.0.1", netns: str | None = None, listen: tuple[str, ...] = (),
                 httpConfig: str = "", tftpPort: int | None = None, sipConfig: str = "",
                 vendorPorts: bool = False, serverConfig: str = "",
                 proofNetworks: tuple[str, ...] = ("0.0.0.0/0", "::/0")) -> None:
        self.directory = str(directory)
        self.host = host
        self.httpPort = freePort()
        self.sipPort = freePort(socket.SOCK_DGRAM)
        self.tftpPort = tftpPort or freePort(socket.SOCK_DGRAM)
        self.baseURL = f"http://{host}:{self.httpPort}"
        self.configPath = os.path.join(self.directory, "snomprov.toml")
        self.logPath = os.path.join(self.directory, "twistd.log")
        self.netns = netns
        with open(self.configPath, "w") as f:
            f.write(
                f'[server]\nbase_url = "{self.baseURL}"\ndata_dir = "var"\n' + serverConfig + "\n"
                f"[http]\nlisten = {json.dumps([f'tcp:{self.httpPort}:interface={host}', *listen])}\n"
                + f"allowed_networks = {json.dumps(list(proofNetworks))}\n"
                + httpConfig + "\n"
                + f"[sip]\nenabled = {str(sip).lower()}\nport = {self.sipPort}\n"
                + f"vendor_ports = {str(vendorPorts).lower()}\n" + sipConfig
                + f'[tftp]\nenabled = {str(tftp).lower()}\nport = {self.tftpPort}\ninterface = "{host}"\n'
                + f"allowed_networks = {json.dumps(list(proofNetworks))}\n"
                + extraConfig
            )
        self.createStore()
        self.process: subprocess.Popen | None = None
        # Benchmarks: a command to run twistd under (taskset), and twistd's
        # own options (-r epoll).
        self.wrapper: list[str] = []
        self.twistdOptions: list[str] = []

    def createStore(self) -> None:
        """
        Create the configured store, as the daemon's first start does: the
        command line opens only an existing one.
        """
        subprocess.run([sys.executable, "-c", _CREATE_STORE, self.configPath], cwd=ROOT, env=_env(),
                       check=True, timeout=60)

    def command(self, *args: str) -> list[str]:
        """
        The C{snomprov} command line against this daemon's config.
        """
        return [sys.executable, "-m", "snomprov", "--config", self.configPath, *args]

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """
        Run a C{snomprov} command against this daemon's config.
        """
        return subprocess.run(self.command(*args), capture_output=True, text=True, cwd=ROOT,
                              env=_env(), input=input, timeout=60)

    def importCSV(self, text: str) -> None:
        """
        Register devices and lines: C{snomprov import} of C{text} (a CSV
        with its header row), which must succeed.
        """
        path = os.path.join(self.directory, "devices.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        result = self.run("import", path)
        if result.returncode != 0:
            raise RuntimeError(f"snomprov import failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def start(self, timeout: float = 30.0) -> "Daemon":
        argv = [*self.wrapper, *twistdCommand(), "-n", *self.twistdOptions, "--pidfile=",
                "--logfile", self.logPath, "snomprov", "--config", self.configPath]
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns, *argv]
        self.process = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT)
        _running.add(self.process)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"twistd exited {self.process.returncode}:\n{self.log()}"
                                   f"{self.process.stdout.read().decode(errors='replace')}")
            if "Store open" in self.log() and (self.netns or self._httpUp()):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"twistd did not start in {timeout} s:\n{self.log()}")

    def _httpUp(self, port: int | None = None) -> bool:
        try:
            with socket.create_connection((self.host, port or self.httpPort), timeout=0.2):
                return True
        except OSError:
            return False

    def waitForPort(self, port: int, timeout: float = 10.0) -> None:
        """
        Wait until another of its TCP listeners accepts connections.
        """
        deadline = time.monotonic() + timeout
        while not self._httpUp(port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {self.host}:{port}:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        return readLog(self.logPath)

    def stop(self) -> int | None:
        """
        SIGTERM, and wait; returns the exit status.
        """
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
        finally:
            _running.discard(self.process)

    def __enter__(self) -> "Daemon":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_CREATE_STORE = """
import sys
from twisted.internet import defer, task
from snomprov.configpath import discoverConfig
from snomprov.store import openStore

config = discoverConfig(sys.argv[1])

async def main(reactor):
    store = await openStore(config.storeURL, config.server.dataDir, reactor=reactor)
    await store.close()

task.react(lambda reactor: defer.ensureDeferred(main(reactor)))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def userEnv() -> dict[str, str]:
    """
    The environment of a command as a user runs it: this checkout's
    snomprov, and standard output buffered as Python buffers it outside the
    test runner (which may set C{PYTHONUNBUFFERED}), so that a test sees a
    command's lines as they come only if the command flushes them.
    """
    env = _env()
    env.pop("PYTHONUNBUFFERED", None)
    return env

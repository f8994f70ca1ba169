"""
Safe start: a loopback C{base_url} is warned about (daemon, C{check},
C{dhcp}); the start log names the URLs, DHCP values and listeners; a port
that cannot be bound is one line and exit status 2 naming the key; the SIP
socket refuses to share its UDP port unless C{[sip] share_port} asks.
Real sockets and the real daemon on 127.0.0.1.
"""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time

import pytest
from twisted.internet.error import CannotListenError

from daemon import ROOT, Daemon, _env, twistdCommand
from snomprov.config import parseConfig
from snomprov.safestart import baseURLWarning, cannotListenLine, listenerKey

HOLD_UDP = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def udpHeldElsewhere():
    """
    A function holding a UDP port in another process, with C{SO_REUSEADDR}
    and C{SO_REUSEPORT} set (it allows sharing), until the test ends.
    """
    holders = []

    def hold(port: int) -> None:
        holder = subprocess.Popen([sys.executable, "-c", HOLD_UDP, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline() == "held\n"

    yield hold
    for holder in holders:
        holder.stdin.close()
        holder.wait(timeout=10)


def runDaemon(daemon: Daemon, timeout: float = 30) -> subprocess.CompletedProcess:
    """
    Run C{twistd -n snomprov} with C{daemon}'s config, expecting it to exit
    on its own.
    """
    argv = [*twistdCommand(), "-n", "--pidfile=", "--logfile", daemon.logPath, "snomprov",
            "--config", daemon.configPath]
    return subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)


def test_warningForLoopbackOrUnset(tmp_path):
    """
    An unset C{base_url} (the default), a loopback or unspecified one and
    C{localhost} give a warning naming the URL phones will be told and the
    key to set; an address phones can reach gives none.
    """
    def warning(text):
        return baseURLWarning(parseConfig(text, baseDir=str(tmp_path)))

    unset = warning("")
    assert unset.startswith("WARNING: [server] base_url is http://127.0.0.1:8080 (the default)")
    assert "phones will be told to fetch their settings from http://127.0.0.1:8080" in unset
    assert "set [server] base_url" in unset
    for url in ("http://127.0.0.2:80", "http://localhost:8080", "https://[::1]:8443", "http://0.0.0.0:8080"):
        found = warning(f'[server]\nbase_url = "{url}"\n')
        assert found and f"base_url is {url}," in found and "default" not in found
    for url in ("http://192.0.2.10:8080", "https://prov.example.org"):
        assert warning(f'[server]\nbase_url = "{url}"\n') is None


def test_cannotListenLine():
    """
    The line names what could not listen, why, and the key to change.
    """
    inUse = CannotListenError("", 5060, OSError(errno.EADDRINUSE, "Address already in use"))
    line = cannotListenLine("sip", "SIP UDP 5060", inUse)
    assert line.startswith("snomprov: cannot listen for SIP UDP 5060: address already in use")
    assert line.endswith("; change [sip] port") and "share_port" in line and "\n" not in line
    denied = CannotListenError("", 80, OSError(errno.EACCES, "Permission denied"))
    assert cannotListenLine("http-1", "HTTP tcp:80", denied) == (
        "snomprov: cannot listen for HTTP tcp:80: permission denied "
        "(a port below 1024 needs privileges); change [http] listen")
    assert [listenerKey(n) for n in ("http-0", "sip", "tftp")] == ["[http] listen", "[sip] port", "[tftp] port"]
    vendorPort = cannotListenLine("sip-5059", "SIP UDP 5059 for the vendors that ask for it", inUse)
    assert vendorPort.startswith("snomprov: cannot listen for SIP UDP 5059 for the vendors that ask for it: ")
    assert vendorPort.endswith("; change [sip] vendor_ports to false (listen on [sip] port alone), "
                               "or what holds the port")


def test_httpPortInUse(tmp_path):
    """
    With its HTTP port held, the daemon writes one line on standard error
    naming C{[http] listen} and exits 2: no traceback.
    """
    daemon = Daemon(tmp_path, sip=False, tftp=False)
    with socket.socket() as held:
        held.bind(("127.0.0.1", daemon.httpPort))
        held.listen()
        result = runDaemon(daemon)
    assert result.returncode == 2, result.stderr + daemon.log()
    lines = result.stderr.splitlines()
    assert lines == [f"snomprov: cannot listen for HTTP tcp:{daemon.httpPort}:interface=127.0.0.1: address "
                     f"already in use (another process holds it); change [http] listen"]
    assert "Traceback" not in daemon.log() and "Traceback" not in result.stdout


def test_httpPortInUseDaemonized(tmp_path):
    """
    Daemonized (no C{-n}), twistd's starting process reports the line and
    exits 1, rather than waiting for a daemon that has gone.
    """
    daemon = Daemon(tmp_path, sip=False, tftp=False)
    argv = [*twistdCommand(), "--pidfile=", "--logfile", daemon.logPath, "snomprov", "--config", daemon.configPath]
    with socket.socket() as held:
        held.bind(("127.0.0.1", daemon.httpPort))
        held.listen()
        result = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result.stderr
    assert "snomprov: cannot listen for HTTP tcp:" in result.stderr
    assert "change [http] listen" in daemon.log()


def test_listenersInProcess():
    """
    L{Listeners} turns a child's C{CannotListenError} into one line and
    C{SystemExit(2)}, or L{CannotStart} when daemonized; the child's
    description names it.
    """
    import io

    from twisted.application import strports
    from twisted.internet import reactor
    from twisted.web.server import Site
    from twisted.web.resource import Resource

    from snomprov.listeners import CannotStart, Listeners

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        for daemonized in (False, True):
            err = io.StringIO()
            top = Listeners({"http-0": f"HTTP tcp:{port}"}, stderr=err, daemonized=daemonized)
            child = strports.service(f"tcp:{port}:interface=127.0.0.1", Site(Resource()), reactor=reactor)
            child.setName("http-0")
            child.setServiceParent(top)
            line = (f"snomprov: cannot listen for HTTP tcp:{port}: address already in use "
                    f"(another process holds it); change [http] listen")
            if daemonized:
                with pytest.raises(CannotStart) as e:
                    top.privilegedStartService()
                assert str(e.value) == line and err.getvalue() == ""
            else:
                with pytest.raises(SystemExit) as e:
                    top.privilegedStartService()
                assert e.value.code == 2 and err.getvalue() == line + "\n"


def test_sipPortHeldByAnotherProcess(tmp_path, udpHeldElsewhere):
    """
    With its SIP port held by another process, even one that allows
    sharing (C{SO_REUSEADDR}, C{SO_REUSEPORT}), the daemon refuses to share
    it: one line naming C{[sip] port}, exit 2.
    """
    daemon = Daemon(tmp_path, tftp=False)
    udpHeldElsewhere(daemon.sipPort)
    result = runDaemon(daemon)
    assert result.returncode == 2, result.stderr + daemon.log()
    [line] = result.stderr.splitlines()
    assert line.startswith(f"snomprov: cannot listen for SIP UDP {daemon.sipPort} ")
    assert "address already in use" in line and line.endswith("; change [sip] port")
    assert "Traceback" not in daemon.log()


def test_tftpPortInUse(tmp_path):
    """
    With its TFTP port held, the line names C{[tftp] port}.
    """
    daemon = Daemon(tmp_path, sip=False)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", daemon.tftpPort))
        result = runDaemon(daemon)
    assert result.returncode == 2, result.stderr + daemon.log()
    [line] = result.stderr.splitlines()
    assert line.startswith(f"snomprov: cannot listen for TFTP UDP {daemon.tftpPort}: address already in use")
    assert line.endswith("; change [tftp] port")


def test_sharePortBinds(tmp_path, udpHeldElsewhere):
    """
    With C{[sip] share_port = true} the daemon binds a SIP port another
    process holds (and allows sharing), and says the port is shared.
    """
    daemon = Daemon(tmp_path, tftp=False, sipConfig="share_port = true\n")
    udpHeldElsewhere(daemon.sipPort)
    daemon.start()
    try:
        assert f"Listening for SIP UDP {daemon.sipPort} (group 224.0.1.75, port shared) on UDP 0.0.0.0:" \
               f"{daemon.sipPort}" in daemon.log()
    finally:
        daemon.stop()


def test_startLog(tmp_path):
    """
    The start log warns about the loopback C{base_url}, names the URLs
    phones get, the DHCP option values and every listener as bound.
    """
    daemon = Daemon(tmp_path)
    daemon.start()
    try:
        log = daemon.log()
    finally:
        daemon.stop()
    assert f"WARNING: [server] base_url is {daemon.baseURL}, a loopback address" in log
    assert f"Phones are told base_url {daemon.baseURL}" in log
    assert f"PnP URL for snom phones: {daemon.baseURL}/snom/{{mac}}.xml" in log
    assert f"DHCP for snom phones: option 66 = {daemon.baseURL} " in log
    assert "DHCP for linksys phones: option 66 = 127.0.0.1, option 150 = 127.0.0.1 " in log
    assert (f"Listening for HTTP tcp:{daemon.httpPort}:interface=127.0.0.1 on TCP 127.0.0.1:{daemon.httpPort}"
            in log)
    assert (f"Listening for SIP UDP {daemon.sipPort} (group 224.0.1.75, port not shared) on UDP 0.0.0.0:"
            f"{daemon.sipPort}" in log)
    assert f"Listening for TFTP UDP {daemon.tftpPort} on UDP 127.0.0.1:{daemon.tftpPort}" in log


def test_unsharedPortStillHearsMulticast(tmp_path):
    """
    The SIP socket that does not share its port still receives the
    plug-and-play group: a SUBSCRIBE sent to 224.0.1.75 over loopback is
    answered.
    """
    from test_e2e_snom import receive, subscribeFrom

    from snomprov.sip.message import SIPResponse

    daemon = Daemon(tmp_path, tftp=False, sipConfig='interfaces = ["127.0.0.1"]\n')
    daemon.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.bind(("127.0.0.1", 0))
            phone.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            phone.settimeout(5)
            deadline = time.monotonic() + 10
            while True:
                # The group may be joined a moment after the log says so.
                phone.sendto(subscribeFrom(phone), ("224.0.1.75", daemon.sipPort))
                try:
                    answer = receive(phone)
                    break
                except socket.timeout:
                    if time.monotonic() > deadline:
                        raise
            assert isinstance(answer, SIPResponse) and answer.code == 200
    finally:
        daemon.stop()


@pytest.mark.parametrize("command", [["check"], ["dhcp", "--format", "isc"]])
def test_commandsWarn(tmp_path, command):
    """
    C{snomprov check} and C{snomprov dhcp} warn about a loopback
    C{base_url} on standard error, and still print their output.
    """
    config = tmp_path / "snomprov.toml"
    config.write_text('[server]\ndata_dir = "var"\n')
    result = subprocess.run([sys.executable, "-m", "snomprov", "--config", str(config), *command],
                            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("WARNING: [server] base_url is http://127.0.0.1:8080 (the default), a loopback address")
    assert result.stdout
    reachable = tmp_path / "reachable.toml"
    reachable.write_text('[server]\nbase_url = "http://192.0.2.10:8080"\n')
    result = subprocess.run([sys.executable, "-m", "snomprov", "--config", str(reachable), *command],
                            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr



@pytest.mark.parametrize("url, reason", [
    # Nothing listens on port 1 of loopback: the start's check connects.
    ("postgresql://u:hunter2@127.0.0.1:1/x", "cannot connect to postgresql://u@127.0.0.1:1/x"),
    ("sqlite:/proc/no-such-dir/x.sqlite", "cannot create the directory of /proc/no-such-dir/x.sqlite"),
    ("sqlite:not-a-database.sqlite", "file is not a database"),
])
def test_storeThatCannotBeOpenedStopsTheStart(tmp_path, url, reason):
    """
    A store that cannot be opened at start stops it: one line on standard
    error naming the store (without its password) and the reason, exit 2,
    no traceback; nothing is left answering.
    """
    daemon = Daemon(tmp_path, sip=False, tftp=False)
    with open(daemon.configPath, "a") as f:
        f.write(f'[store]\nurl = "{url}"\n')
    (tmp_path / "not-a-database.sqlite").write_bytes(b"this is not SQLite\n" * 100)
    result = runDaemon(daemon)
    assert result.returncode == 2, result.stderr + daemon.log()
    (line,) = result.stderr.splitlines()
    assert line.startswith("snomprov: cannot open the store ") and line.endswith("; change [store] url")
    assert reason in line and "hunter2" not in line
    assert "Traceback" not in daemon.log()

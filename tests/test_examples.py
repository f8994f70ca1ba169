"""
The example vendors (C{examples/snomprov-yealink},
C{examples/snomprov-grandstream}) installed as wheels into the test
environment (C{make install-examples}, which C{make test} runs), against the
real daemon on 127.0.0.1:

    - installed: the held-in Yealink and Grandstream SUBSCRIBEs
      (C{tests/fixtures/sip}) are answered with the vendor's URL, and the
      file fetched from it over HTTP carries the account of a CSV imported
      with C{snomprov import}; C{check} lists the vendors;
    - uninstalled (a scratch venv holding everything the test venv holds
      but the two distributions): the same SUBSCRIBEs get silence, snom is
      still answered, and C{check} lists only the built-in vendors.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import urllib.request
import venv
from importlib import metadata

import pytest

import daemon as daemonModule
from daemon import ROOT, Daemon
from snomprov.sip.message import Headers, SIPRequest, SIPResponse, parseMessage, serializeMessage

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "sip")
EXAMPLES = {"yealink": "snomprov-yealink", "grandstream": "snomprov-grandstream"}
SIP_KEYS = "rate_per_source = 100000\nrate_burst = 100000\n"

YEALINK_MAC = "001565AABBCC"
GRANDSTREAM_MAC = "C074AD112233"
CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    f"{YEALINK_MAC},yealink,T21P,1,2001,yealink-pw-2001,Reception,pbx.example.org\n"
    f"{GRANDSTREAM_MAC},grandstream,GRP2612W,1,3001,gs-pw-3001,Sales,pbx.example.org\n"
)


def requireInstalled() -> None:
    """
    The example wheels must be installed: the test fails (it never skips)
    with what to run when they are not.
    """
    found = {ep.name: ep.dist.name for ep in metadata.entry_points(group="snomprov.vendors")}
    missing = [dist for name, dist in EXAMPLES.items() if found.get(name) != dist]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `make install-examples` "
                    f"(`make test` does it)")


def yealinkSubscribe(sock: socket.socket) -> bytes:
    """
    The Yealink T21P SUBSCRIBE (a template), its placeholders naming our
    MAC and C{sock}'s address.
    """
    host, port = sock.getsockname()
    with open(os.path.join(FIXTURES, "Yealink-T21P-34.72.14.6-1.sip"), "rb") as f:
        data = f.read()
    return (data.replace(b"$mac", YEALINK_MAC.encode()).replace(b"$ip", host.encode())
            .replace(b"$port", str(port).encode()))


def grandstreamSubscribe(sock: socket.socket) -> bytes:
    """
    The GRP2612W SUBSCRIBE, verbatim (the daemon answers the packet's
    source, whatever its Via says).
    """
    with open(os.path.join(FIXTURES, "Grandstream-GRP2612W-1.0.5.67-1.sip"), "rb") as f:
        return f.read()


def snomSubscribe(sock: socket.socket) -> bytes:
    with open(os.path.join(FIXTURES, "snom-OEM-7.1.19-1.sip"), "rb") as f:
        return f.read()


def okFor(request: SIPRequest) -> bytes:
    """
    The phone's 200 to a request: Via, From, To, Call-ID and CSeq copied.
    """
    names = ("Via", "From", "To", "Call-ID", "CSeq")
    headers = [(name, value) for name in names for value in request.headers.getAll(name)]
    return serializeMessage(SIPResponse(200, "OK", Headers([*headers, ("Content-Length", "0")])))


def exchange(port: int, build, silenceWait: float = 2.0) -> tuple[SIPResponse | None, SIPRequest | None]:
    """
    Send a SUBSCRIBE built by C{build(sock)} to the daemon's SIP port from
    a fresh socket; return its answer and NOTIFY (the NOTIFY acknowledged),
    or C{(None, None)} when nothing came within C{silenceWait} seconds.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(silenceWait)
        sock.sendto(build(sock), ("127.0.0.1", port))
        response = notify = None
        try:
            while response is None or notify is None:
                data, source = sock.recvfrom(65535)
                message = parseMessage(data)
                if isinstance(message, SIPResponse):
                    response = message
                elif message.method == "NOTIFY":
                    notify = message
                    sock.sendto(okFor(message), source)
                sock.settimeout(10.0)
        except socket.timeout:
            if response is not None:
                raise
        return response, notify


def fetch(url: str, userAgent: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": userAgent})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        return answer.read()


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """
    The daemon in the test environment, with the example wheels, and the
    CSV imported.
    """
    requireInstalled()
    running = Daemon(tmp_path_factory.mktemp("examples"), tftp=False, sipConfig=SIP_KEYS)
    running.importCSV(CSV)
    running.start()
    yield running
    running.stop()


def scratchVenv(directory) -> str:
    """
    A venv holding everything the test environment's site-packages holds
    (linked), except the example distributions: the test environment with
    them uninstalled, made in a moment and without an index.

    @return: its interpreter.
    """
    venv.create(directory, with_pip=False, symlinks=True)
    python = os.path.join(directory, "bin", "python")
    ours = sysconfig.get_paths()["purelib"]
    theirs = os.path.join(directory, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}",
                          "site-packages")
    left = tuple(name.replace("-", "_") for name in EXAMPLES.values())
    for entry in os.listdir(ours):
        if not entry.startswith(left):
            os.symlink(os.path.join(ours, entry), os.path.join(theirs, entry))
    return python


@pytest.fixture(scope="module")
def uninstalled(tmp_path_factory):
    """
    The same daemon and CSV in the scratch venv without the examples.
    """
    requireInstalled()
    directory = tmp_path_factory.mktemp("uninstalled")
    python = scratchVenv(str(directory / "venv"))
    running = Daemon(directory, tftp=False, sipConfig=SIP_KEYS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(daemonModule, "twistdCommand", _twistdIn(python))
        running.start()
    running.python = python
    yield running
    running.stop()


def _twistdIn(python: str):
    command = daemonModule.twistdCommand()

    def twistdCommand() -> list[str]:
        return [python, *command[1:]]

    return twistdCommand


def test_yealinkAnsweredAndFileFetched(installed):
    """
    The Yealink SUBSCRIBE (C{MAC<hex>} Request-URI) is answered with the
    Yealink folder; its C{<mac>.cfg} carries the CSV's account.
    """
    response, notify = exchange(installed.sipPort, yealinkSubscribe)
    assert response.code == 200
    url = notify.body.decode()
    assert url == f"{installed.baseURL}/yealink/"
    body = fetch(url + YEALINK_MAC.lower() + ".cfg", "Yealink SIP-T21P 34.72.14.6 00:15:65:aa:bb:cc").decode()
    assert body.startswith("#!version:1.0.0.1\n")
    for line in ["account.1.user_name = 2001", "account.1.password = yealink-pw-2001",
                 "account.1.display_name = Reception", "account.1.sip_server.1.address = pbx.example.org"]:
        assert line in body.splitlines()
    common = fetch(url + "y000000000000.cfg", "Yealink SIP-T21P 34.72.14.6").decode()
    assert f"static.auto_provision.server.url = {installed.baseURL}/yealink/" in common
    assert "2001" not in common


YEALINK_PORT = 5059


@pytest.fixture(scope="module")
def vendorPorts(tmp_path_factory):
    """
    The daemon with the example wheels and C{[sip] vendor_ports = true}: it
    listens on Yealink's fixed port 5059 too.  When something else holds
    5059 the start fails, and so do the tests using this (they never skip).
    """
    requireInstalled()
    running = Daemon(tmp_path_factory.mktemp("vendorports"), tftp=False, sipConfig=SIP_KEYS, vendorPorts=True)
    running.importCSV(CSV)
    running.start()
    yield running
    running.stop()


def test_yealinkAnsweredOnItsOwnPort(vendorPorts):
    """
    With C{[sip] vendor_ports = true} the Yealink SUBSCRIBE sent to 5059 is
    answered from 5059 (the port it asks for, L{ISIPPortsVendor}) with the
    Yealink folder, and so is the one sent to C{[sip] port}; a snom phone
    is answered on both too.
    """
    assert f"Listening for SIP UDP {YEALINK_PORT} for the vendors that ask for it" in vendorPorts.log()
    for port in (YEALINK_PORT, vendorPorts.sipPort):
        response, notify = exchange(port, yealinkSubscribe)
        assert response.code == 200, port
        assert notify.body.decode() == f"{vendorPorts.baseURL}/yealink/", port
        assert f"sip:127.0.0.1:{port}" in notify.headers.get("Contact"), port
        response, notify = exchange(port, snomSubscribe)
        assert notify.body.decode().partition("?token=t")[0] == f"{vendorPorts.baseURL}/snom/00135E874B49.xml", port


def test_vendorPortsOffByDefaultInTests(installed):
    """
    A test daemon built without C{vendorPorts=True} listens on its own
    C{[sip] port} alone, though Yealink asks for 5059.
    """
    assert "vendor_ports = false" in open(installed.configPath).read()
    log = installed.log()
    assert f"Listening for SIP UDP {installed.sipPort} " in log
    assert f"SIP UDP {YEALINK_PORT} " not in log


def test_grandstreamAnsweredAndFileFetched(installed):
    """
    The GRP2612W SUBSCRIBE is answered with a folder URL ending in C{/};
    C{cfg<mac>.xml} from it carries the CSV's account as P-values.
    """
    response, notify = exchange(installed.sipPort, grandstreamSubscribe)
    assert response.code == 200
    url = notify.body.decode()
    assert url == f"{installed.baseURL}/grandstream/"
    body = fetch(url + f"cfg{GRANDSTREAM_MAC.lower()}.xml",
                 "Grandstream Model HW GRP2612W SW 1.0.5.67 DevId c074ad112233").decode()
    assert '<gs_provision version="1">' in body and "<mac>c074ad112233</mac>" in body
    for element in ["<P35>3001</P35>", "<P34>gs-pw-3001</P34>", "<P3>Sales</P3>", "<P47>pbx.example.org</P47>"]:
        assert element in body


def test_installedListedAndSnomUnchanged(installed):
    """
    C{check} lists the installed vendors beside the built-in ones, with no
    manual step; a snom phone is answered as before.
    """
    result = installed.run("check")
    assert result.returncode == 0, result.stderr
    assert "# vendors: grandstream, linksys, snom, yealink" in result.stdout.splitlines()
    response, notify = exchange(installed.sipPort, snomSubscribe)
    assert notify.body.decode().partition("?token=t")[0] == f"{installed.baseURL}/snom/00135E874B49.xml"
    assert "skipped" not in installed.log()


def test_uninstalledSilent(uninstalled):
    """
    Without the distributions the same SUBSCRIBEs get silence; snom is
    still answered, and C{check} lists only the built-in vendors.
    """
    assert exchange(uninstalled.sipPort, yealinkSubscribe) == (None, None)
    assert exchange(uninstalled.sipPort, grandstreamSubscribe) == (None, None)
    response, notify = exchange(uninstalled.sipPort, snomSubscribe)
    assert response.code == 200
    assert notify.body.decode().partition("?token=t")[0] == f"{uninstalled.baseURL}/snom/00135E874B49.xml"
    result = subprocess.run([uninstalled.python, "-m", "snomprov", "--config", uninstalled.configPath, "check"],
                            capture_output=True, text=True, cwd=ROOT, env=daemonModule.userEnv(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "# vendors: linksys, snom" in result.stdout.splitlines()


def test_examplesOwnTests():
    """
    The examples' own test suites pass against the installed wheels (they
    are also collected by C{make test}; this runs them as their authors
    would, from their own directories).
    """
    requireInstalled()
    for name in EXAMPLES.values():
        directory = os.path.join(ROOT, "examples", name)
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                                 "tests"], capture_output=True, text=True, cwd=directory, timeout=120,
                                env=daemonModule.userEnv())
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout and "failed" not in result.stdout

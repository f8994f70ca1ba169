"""
Tests for L{snomprov.web.sites} and C{[admin] listen}: with it set, the
operators' paths are served only on its listeners and the phone-facing
paths only on C{[http] listen}; empty, both on C{[http] listen}.  In
memory (L{StubTreq}), then through the composed service and a real daemon
(start log, routing, a busy admin port).
"""

from __future__ import annotations

import socket
import subprocess

from treq.testing import StubTreq
from twisted.internet.testing import MemoryReactorClock
from twisted.web.resource import Resource

from snomprov.safestart import cannotListenLine, listenerKey
from snomprov.web.provisioning import ProvisioningResource
from snomprov.web.bounds import HTTPLimits
from snomprov.web.sites import siteRoots

from daemon import Daemon, freePort
from test_safestart import runDaemon
from test_tap import options
from test_web import MAC_A, UA, Phones, lineOf


class _Named(Resource):
    isLeaf = True

    def __init__(self, text: bytes) -> None:
        super().__init__()
        self.text = text

    def render_GET(self, request):
        return self.text


def get(root: Resource, path: str) -> tuple[int, bytes]:
    treq = StubTreq(root)
    answered = []
    d = treq.get("http://192.0.2.10:8080" + path, headers={"User-Agent": UA})
    d.addCallback(lambda r: treq.content(r).addCallback(lambda body: answered.append((r.code, body))))
    treq.flush()
    assert answered, path
    return answered[0]


def roots(separate: bool):
    phones = Phones(devices={MAC_A: (lineOf(MAC_A),)})
    children = {b"metrics": _Named(b"metrics text\n"), b"api": _Named(b"api\n")}
    return siteRoots(ProvisioningResource(phones.provisioner), children, separate)


PHONE_PATHS = [f"/snom/{MAC_A}.xml", f"/snom/{MAC_A}-settings.xml"]


def test_separateRoots():
    """
    With C{[admin] listen} set: the phones' root serves phone paths and
    404s C{/metrics} and C{/api}; the operators' root serves those and
    404s every phone path (and root-level vendor names).
    """
    phones, operators = roots(separate=True)
    assert operators is not None
    for path in PHONE_PATHS:
        assert get(phones, path)[0] == 200
        assert get(operators, path)[0] == 404
    assert get(operators, "/spa942.cfg")[0] == 404
    assert get(phones, "/metrics")[0] == 404
    assert get(phones, "/api/")[0] == 404
    assert get(operators, "/metrics") == (200, b"metrics text\n")
    assert get(operators, "/api") == (200, b"api\n")
    code, index = get(operators, "/")
    assert code == 200 and b"/api, /metrics" in index


def test_sharedRoot():
    """
    With C{[admin] listen} empty there is one root, serving both the phone
    paths and the operators' ones.
    """
    phones, operators = roots(separate=False)
    assert operators is None
    for path in PHONE_PATHS:
        assert get(phones, path)[0] == 200
    assert get(phones, "/metrics") == (200, b"metrics text\n")
    assert get(phones, "/api") == (200, b"api\n")


def test_adminServicesNamed(tmp_path):
    """
    Each C{[admin] listen} description is a child C{admin-N} after the
    C{http-N}; its listener is described for the start log and its key is
    C{[admin] listen}.
    """
    config = tmp_path / "c.toml"
    config.write_text('[admin]\nlisten = ["tcp:0:interface=127.0.0.1", "tcp:0"]\n')
    o = options(tmp_path, "--config", str(config), "--no-sip", "--no-tftp")
    service = makeService(o)
    assert [child.name for child in service] == ["store", "recorder", "retention", "http-0", "admin-0", "admin-1", "gc"]
    assert service.describe["admin-0"] == "operators' HTTP tcp:0:interface=127.0.0.1"
    assert listenerKey("admin-1") == "[admin] listen"
    line = cannotListenLine("admin-0", "operators' HTTP tcp:9090", OSError(98, "Address already in use"))
    assert line.endswith("; change [admin] listen")


def makeService(o):
    from snomprov.tap import makeService as make

    return make(o, reactor=MemoryReactorClock())


def status(port: int, path: str) -> str:
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", UA,
                           f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                          timeout=30, check=True).stdout


def test_daemonAdminListen(tmp_path):
    """
    A real daemon with C{[admin] listen}: its start log names the
    operators' listener as bound; C{/metrics} answers there and 404 on the
    phones' port; phone paths answer on the phones' port and 404 on the
    operators'.
    """
    adminPort = freePort()
    daemon = Daemon(tmp_path, sip=False, tftp=False,
                    extraConfig=f'[admin]\nlisten = ["tcp:{adminPort}:interface=127.0.0.1"]\n')
    with daemon:
        daemon.waitForPort(adminPort)
        assert status(adminPort, "/metrics") == "200"
        assert status(daemon.httpPort, "/metrics") == "404"
        assert status(daemon.httpPort, f"/snom/{MAC_A}.xml") == "200"
        assert status(adminPort, f"/snom/{MAC_A}.xml") == "404"
        log = daemon.log()
    assert (f"Listening for operators' HTTP tcp:{adminPort}:interface=127.0.0.1 on TCP 127.0.0.1:{adminPort}"
            in log)


def test_adminPortInUse(tmp_path):
    """
    With its admin port held, the daemon writes one line naming
    C{[admin] listen} and exits 2.
    """
    adminPort = freePort()
    daemon = Daemon(tmp_path, sip=False, tftp=False,
                    extraConfig=f'[admin]\nlisten = ["tcp:{adminPort}:interface=127.0.0.1"]\n')
    with socket.socket() as held:
        held.bind(("127.0.0.1", adminPort))
        held.listen()
        result = runDaemon(daemon)
    assert result.returncode == 2, result.stderr + daemon.log()
    assert result.stderr.splitlines() == [
        f"snomprov: cannot listen for operators' HTTP tcp:{adminPort}:interface=127.0.0.1: address already "
        f"in use (another process holds it); change [admin] listen"]
    assert "Traceback" not in daemon.log()


class _Lines:
    """
    Stands for a site's log file: the lines written to it.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line)


def _accessLogLines(accessLog: bool) -> list[str]:
    """
    What one request to a site made by L{makeSite} writes to its log.
    """
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import StringTransport
    from twisted.web.static import Data

    from snomprov.web.sites import makeSite

    root = Resource()
    root.putChild(b"x", Data(b"x", "text/plain"))
    site = makeSite(root, HTTPLimits(accessLog=accessLog))
    site.logFile = _Lines()
    channel = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /x HTTP/1.0\r\nHost: a\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.0 200 ")
    return site.logFile.lines


def test_accessLog():
    """
    With C{[http] access_log} a request is a line of the log, in the
    combined log format; without it, none.
    """
    [line] = _accessLogLines(True)
    assert '"GET /x HTTP/1.0" 200 1' in line
    assert _accessLogLines(False) == []

"""
HTTPS against the real daemon: an C{ssl:} listener with a server
certificate made at test time, and mutual TLS with C{[http] client_ca}:
per-device files only to a client certificate naming the device's MAC.
Fetched with curl over 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from lxml import etree

from daemon import Daemon, freePort
from pki import makeCA, makeClient, makeServer

MAC_A, MAC_B = "000413AA0001", "000413BB0002"
UA = "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    f"{MAC_A},snom,snom360,1,alice,pwA,Alice A,pbx.example\n"
    f"{MAC_B},snom,snom360,1,bob,pwB,Bob B,pbx.example\n"
)


class PKI:
    """
    The files of one test: a server CA and certificate, a phones CA with
    certificates for MAC A and B, and a stranger CA's certificate for A.
    """

    def __init__(self, directory) -> None:
        serverCA, self.phonesCA, strangerCA = makeCA("server CA"), makeCA("phones CA"), makeCA("stranger CA")
        self.serverCAFile, _ = serverCA.write(directory, "server-ca")
        self.serverCert, self.serverKey = makeServer(serverCA).write(directory, "server")
        self.phonesCAFile, _ = self.phonesCA.write(directory, "phones-ca")
        self.clients = {
            "A": makeClient(self.phonesCA, cn=MAC_A).write(directory, "phone-a"),
            "B": makeClient(self.phonesCA, cn=MAC_B).write(directory, "phone-b"),
            "stranger-A": makeClient(strangerCA, cn=MAC_A).write(directory, "stranger-a"),
        }

    def listen(self, port: int) -> str:
        return f"ssl:{port}:interface=127.0.0.1:privateKey={self.serverKey}:certKey={self.serverCert}"


def curl(url: str, cacert: str | None, client: tuple[str, str] | None = None) -> tuple[int, bytes]:
    """
    GET C{url} with a snom User-Agent.

    @return: C{(status, body)}; status 0 when the TLS handshake or the
        request failed.
    """
    argv = ["curl", "-sS", "--max-time", "10", "-A", UA, "-o", "-", "-w", "\n%{http_code}", url]
    if cacert:
        argv += ["--cacert", cacert]
    if client:
        argv += ["--cert", client[0], "--key", client[1]]
    result = subprocess.run(argv, capture_output=True, timeout=30)
    body, _, status = result.stdout.rpartition(b"\n")
    return (int(status) if result.returncode == 0 else 0), body


@pytest.fixture
def pki(tmp_path):
    return PKI(tmp_path)


def test_sslListener(tmp_path, pki):
    """
    An C{ssl:} description in C{[http] listen} serves the container and
    the settings over HTTPS to a client trusting the server's CA; a client
    that does not trust it gets no answer.
    """
    port = freePort()
    with Daemon(tmp_path, sip=False, tftp=False, listen=(pki.listen(port),)) as daemon:
        daemon.importCSV(CSV)
        daemon.waitForPort(port)
        status, body = curl(f"https://127.0.0.1:{port}/snom/{MAC_A}.xml", pki.serverCAFile)
        assert status == 200 and etree.fromstring(body).tag == "setting-files"
        status, body = curl(f"https://127.0.0.1:{port}/snom/{MAC_A}-settings.xml", pki.serverCAFile)
        assert status == 200 and b">alice<" in body
        assert curl(f"https://127.0.0.1:{port}/snom/{MAC_A}.xml", pki.phonesCAFile)[0] == 0


def test_clientCertificates(tmp_path, pki):
    """
    With C{[http] client_ca}: A's certificate gets A's settings; B's
    certificate is refused A's files (404); no certificate, or one from
    another CA, gets no TLS connection; over plain HTTP A's file is 404
    while the model-wide file is still served.
    """
    port = freePort()
    daemon = Daemon(tmp_path, sip=False, tftp=False, listen=(pki.listen(port),),
                    httpConfig='client_ca = "phones-ca.crt"')
    with daemon:
        daemon.importCSV(CSV)
        daemon.waitForPort(port)
        https = f"https://127.0.0.1:{port}"
        status, body = curl(f"{https}/snom/{MAC_A}-settings.xml", pki.serverCAFile, pki.clients["A"])
        assert status == 200
        names = {(e.tag, e.get("idx")): e.text for e in etree.fromstring(body).find("phone-settings")}
        assert names[("user_name", "1")] == "alice" and names[("user_pass", "1")] == "pwA"

        for name in (f"{MAC_A}-settings.xml", f"{MAC_A}.xml"):
            status, body = curl(f"{https}/snom/{name}", pki.serverCAFile, pki.clients["B"])
            assert status == 404 and b"alice" not in body
        assert curl(f"{https}/snom/{MAC_B}-settings.xml", pki.serverCAFile, pki.clients["B"])[0] == 200

        assert curl(f"{https}/snom/{MAC_A}-settings.xml", pki.serverCAFile)[0] == 0
        assert curl(f"{https}/snom/{MAC_A}-settings.xml", pki.serverCAFile, pki.clients["stranger-A"])[0] == 0

        assert curl(f"{daemon.baseURL}/snom/{MAC_A}-settings.xml", None)[0] == 404
        assert curl(f"{daemon.baseURL}/snom360.htm", None)[0] == 200


def test_relativeKeyPaths(tmp_path, pki):
    """
    An C{ssl:} listener whose key and certificate are named relative to
    the config file (the daemon runs in another working directory) serves
    HTTPS.
    """
    import os

    port = freePort()
    relative = (f"ssl:{port}:interface=127.0.0.1:privateKey={os.path.basename(pki.serverKey)}"
                f":certKey={os.path.basename(pki.serverCert)}")
    with Daemon(tmp_path, sip=False, tftp=False, listen=(relative,)) as daemon:
        daemon.waitForPort(port)
        status, body = curl(f"https://127.0.0.1:{port}/snom360.htm", pki.serverCAFile)
        assert status == 200

"""
A snom phone's whole boot against the real daemon, over 127.0.0.1: the
device is registered with C{snomprov import}, the phone's SUBSCRIBE (a real
snom360 capture) is answered with 200 and a NOTIFY carrying the URL, the
phone acknowledges, fetches the container and every file it lists, and
C{snomprov devices --json} shows it C{fetched}.  Then the firmware offer
against the version the User-Agent reports.
"""

from __future__ import annotations

import json
import re
import os
import socket
import time
import urllib.request

import pytest
from lxml import etree

from daemon import ROOT, Daemon
from snomprov.sip.message import Headers, SIPRequest, SIPResponse, parseMessage, serializeMessage

MAC = "000413AB12CD"
FIXTURE_MAC = "00041329882C"
FIXTURE_HOST = "141.41.40.131:2055"
UA_7 = "Mozilla/4.0 (compatible; snom360-SIP 7.3.14 1.1.3-s)"
UA_8 = f"Mozilla/4.0 (compatible; snom360-SIP 8.7.5.35 1.1.5-IFX-05.01.12 {MAC})"
FIRMWARE = '[vendors.snom.firmware]\nsnom360 = { version = "8.7.5.35", url = "http://127.0.0.1/fw.bin" }\n'
CSV = (
    "mac,vendor,model,line,user,password,display_name,registrar\n"
    f"{MAC},snom,snom360,1,4711,secret1,Alice Example,pbx.example.org\n"
    f"{MAC},snom,snom360,2,4712,secret2,Alice Second,pbx2.example.org\n"
)


def subscribeFrom(sock: socket.socket) -> bytes:
    """
    The captured snom360 SUBSCRIBE with our MAC, and Via and Contact
    naming C{sock}'s address.
    """
    with open(os.path.join(ROOT, "tests", "fixtures", "sip", "snom-snom360-7.3.14-1.sip"), "rb") as f:
        data = f.read()
    host, port = sock.getsockname()
    return data.replace(FIXTURE_MAC.encode(), MAC.encode()).replace(FIXTURE_HOST.encode(), f"{host}:{port}".encode())


def receive(sock: socket.socket) -> SIPRequest | SIPResponse:
    data, _ = sock.recvfrom(65535)
    return parseMessage(data)


def okFor(request: SIPRequest) -> bytes:
    """
    The phone's 200 to a request: Via, From, To, Call-ID and CSeq copied.
    """
    names = ("Via", "From", "To", "Call-ID", "CSeq")
    headers = [(name, value) for name in names for value in request.headers.getAll(name)]
    return serializeMessage(SIPResponse(200, "OK", Headers([*headers, ("Content-Length", "0")])))


def pnp(daemon: Daemon) -> str:
    """
    Play the phone's side of SIP plug-and-play; return the NOTIFY's URL.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5)
        sock.sendto(subscribeFrom(sock), ("127.0.0.1", daemon.sipPort))
        ok = receive(sock)
        assert isinstance(ok, SIPResponse) and ok.code == 200
        notify = receive(sock)
        assert isinstance(notify, SIPRequest) and notify.method == "NOTIFY"
        assert notify.headers.get("Content-Type") == "application/url"
        sock.sendto(okFor(notify), ("127.0.0.1", daemon.sipPort))
        return notify.body.decode("utf-8").strip().replace("{mac}", MAC)


def get(url: str, userAgent: str = UA_7) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": userAgent})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return response.read()


def phoneSettings(document: bytes) -> dict[tuple[str, str | None], str]:
    root = etree.fromstring(document)
    assert root.tag == "settings"
    return {(e.tag, e.get("idx")): e.text or "" for e in root.find("phone-settings")}


def deviceState(daemon: Daemon, mac: str, wanted: str, attempts: int = 40) -> dict:
    """
    C{snomprov devices --json}'s entry for C{mac}, asked until its state is
    C{wanted} (the recorder writes in batches) or C{attempts} run out.
    """
    entry: dict = {}
    for _ in range(attempts):
        result = daemon.run("devices", "--json")
        assert result.returncode == 0, result.stderr
        entry = {d["mac"]: d for d in json.loads(result.stdout)}.get(mac, {})
        if entry.get("state") == wanted:
            return entry
        time.sleep(0.1)
    return entry


@pytest.fixture
def daemon(tmp_path):
    with Daemon(tmp_path, tftp=False, extraConfig=FIRMWARE) as running:
        running.importCSV(CSV)
        yield running


def test_bootToFetched(daemon):
    """
    SUBSCRIBE, 200, NOTIFY with the URL, 200; the container lists the
    settings, which carry both registered lines; the device ends
    C{fetched}.
    """
    assert deviceState(daemon, MAC, "registered", attempts=1)["state"] == "registered"
    url = pnp(daemon)
    assert re.fullmatch(re.escape(f"{daemon.baseURL}/snom/{MAC}.xml") + r"\?token=t[0-9a-z]+\.[\w-]{20}", url), url
    container = etree.fromstring(get(url))
    assert container.tag == "setting-files"
    files = [f.get("url") for f in container.findall("file")]
    assert files
    values: dict = {}
    for fileURL in files:
        values.update(phoneSettings(get(fileURL)))
    assert values[("user_name", "1")] == "4711" and values[("user_host", "1")] == "pbx.example.org"
    assert values[("user_realname", "1")] == "Alice Example"
    assert values[("user_name", "2")] == "4712" and values[("user_host", "2")] == "pbx2.example.org"
    assert values[("user_realname", "2")] == "Alice Second"
    entry = deviceState(daemon, MAC, "fetched")
    assert entry["state"] == "fetched" and entry["model"] == "snom360" and entry["ip"] == "127.0.0.1"


def test_firmwareOfferedOnlyWhenItDiffers(daemon):
    """
    A phone reporting 7.3.14 is offered the configured 8.7.5.35 image
    (C{firmware_status} in its settings, the firmware file naming the URL);
    one reporting 8.7.5.35 is not (no reboot loop).
    """
    settingsURL = f"{daemon.baseURL}/snom/{MAC}-settings.xml"
    old = phoneSettings(get(settingsURL, UA_7))
    firmwareURL = old[("firmware_status", None)]
    assert firmwareURL == f"{daemon.baseURL}/snom/{MAC}-firmware.xml"
    assert old[("update_policy", None)] == "auto_update"
    firmware = etree.fromstring(get(firmwareURL, UA_7))
    assert firmware.tag == "firmware-settings" and firmware.findtext("firmware") == "http://127.0.0.1/fw.bin"

    current = phoneSettings(get(settingsURL, UA_8))
    assert ("firmware_status", None) not in current
    assert etree.fromstring(get(firmwareURL, UA_8)).findtext("firmware") in (None, "")

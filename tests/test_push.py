"""
Push: L{snomprov.push.ResyncProtocol} on a fake transport and a clock, and
C{snomprov resync} against a phone played by sipp.
"""

import os
import shutil
import socket
import subprocess
import time

import pytest
import pytest_twisted
from twisted.internet import defer
from twisted.internet.task import Clock

from snomprov.configpath import discoverConfig
from snomprov.device import DeviceInfo
from snomprov.push import ResyncProtocol
from snomprov.store import openStore
from snomprov.sip.message import parseMessage
from snomprov.testing import FakeMulticastTransport

from daemon import ROOT, Daemon, freePort, userEnv

PHONE = ("192.0.2.67", 5060)


def makePusher():
    clock = Clock()
    protocol = ResyncProtocol(clock, localHostFor=lambda ip: "192.0.2.10")
    transport = FakeMulticastTransport("0.0.0.0", 40000)
    protocol.makeConnection(transport)
    return protocol, transport, clock


def answer(notify, code=200, reason="OK") -> bytes:
    """
    The phone's response to a NOTIFY.
    """
    h = notify.headers
    return (f"SIP/2.0 {code} {reason}\r\nVia: {h.get('Via')}\r\nFrom: {h.get('From')}\r\n"
            f"To: {h.get('To')};tag=phone\r\nCall-ID: {h.get('Call-ID')}\r\nCSeq: {h.get('CSeq')}\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def test_notifyShape():
    """
    The push is a NOTIFY to the phone's address with the vendor's event.
    """
    protocol, transport, clock = makePusher()
    protocol.resync(PHONE, "check-sync;reboot=false")
    [(data, address, _)] = transport.written
    notify = parseMessage(data)
    assert address == PHONE
    assert (notify.method, notify.uri) == ("NOTIFY", "sip:192.0.2.67:5060")
    assert notify.headers.get("Event") == "check-sync;reboot=false"
    assert notify.headers.get("Via").startswith("SIP/2.0/UDP 192.0.2.10:40000;branch=z9hG4bK")


def test_ackedStopsRetransmission():
    """
    The phone's 200 ends the push as C{acked}; nothing is sent after it.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync")
    clock.advance(0.5)
    assert len(transport.written) == 2
    protocol.datagramReceived(answer(parseMessage(transport.written[0][0])), PHONE)
    assert d.result == "acked"
    clock.advance(40)
    assert len(transport.written) == 2


def test_refused():
    """
    A final non-2xx response ends the push as C{refused <code>}.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync")
    protocol.datagramReceived(answer(parseMessage(transport.written[0][0]), 489, "Bad Event"), PHONE)
    assert d.result == "refused 489"


def test_timeout():
    """
    Without any answer the push ends as C{timeout} after 32 s.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync")
    clock.advance(31.9)
    assert not d.called
    clock.advance(0.2)
    assert d.result == "timeout"


def test_onSendTellsEachSend():
    """
    C{onSend} is told of the first send and of every retransmission, with
    the number of sends, and of nothing after the answer.
    """
    protocol, transport, clock = makePusher()
    sends = []
    d = protocol.resync(PHONE, "resync", onSend=lambda n: sends.append((n, clock.seconds())))
    assert sends == [(1, 0.0)]
    clock.advance(0.5)
    clock.advance(1.0)
    assert sends == [(1, 0.0), (2, 0.5), (3, 1.5)] and len(transport.written) == 3
    protocol.datagramReceived(answer(parseMessage(transport.written[0][0])), PHONE)
    assert d.result == "acked"
    clock.advance(40)
    assert len(sends) == 3
    other = protocol.resync(PHONE, "resync")
    clock.advance(0.5)
    assert len(sends) == 3 and len(transport.written) == 5
    assert not other.called


def _storePhone(configPath: str, mac: str, address: tuple[str, int]):
    """
    Store a snom phone last seen at SIP C{address}, as PnP would.

    @return: a Deferred.
    """

    async def store():
        config = discoverConfig(configPath)
        opened = await openStore(config.storeURL, config.server.dataDir)
        try:
            await opened.mergeDevices([DeviceInfo(mac, vendor="snom", model="snomD785", sipAddress=address)])
        finally:
            await opened.close()

    return defer.ensureDeferred(store())


def _sender(notify) -> tuple[str, int]:
    """
    Where a NOTIFY came from, as its Via says.
    """
    host, port = notify.headers.get("Via").split()[1].split(";")[0].rsplit(":", 1)
    return host, int(port)


@pytest_twisted.inlineCallbacks
def test_resyncShowsEachSend(tmp_path):
    """
    C{snomprov resync MAC} prints its first send at once, then each
    retransmission while the phone is silent, then the outcome when the
    phone answers: each line as it happens.
    """
    mac = "000413ABCDEF"
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.settimeout(10)
    phonePort = phone.getsockname()[1]
    cli = Daemon(tmp_path, sip=False, tftp=False)
    yield _storePhone(cli.configPath, mac, ("127.0.0.1", phonePort))
    process = subprocess.Popen(cli.command("resync", mac), cwd=ROOT, env=userEnv(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = parseMessage(phone.recvfrom(65535)[0])
        assert process.stdout.readline() == (
            f"{mac}: NOTIFY to 127.0.0.1:{phonePort} sent (Event: check-sync;reboot=false); "
            "waiting up to 32 s for an answer\n")
        again = parseMessage(phone.recvfrom(65535)[0])
        assert again.headers.get("Call-ID") == first.headers.get("Call-ID")
        line = process.stdout.readline()
        assert line.startswith(f"{mac}: NOTIFY to 127.0.0.1:{phonePort} sent again (send 2, 0.")
        assert line.endswith(" s): no answer yet\n")
        phone.sendto(answer(again), _sender(first))
        assert process.stdout.readline() == f"{mac}: NOTIFY to 127.0.0.1:{phonePort}: acked\n"
        assert process.wait(timeout=15) == 0, process.stderr.read()
    finally:
        phone.close()
        if process.poll() is None:
            process.kill()
            process.wait()


SIPP_PHONE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="phone receiving check-sync">
  <recv request="NOTIFY">
    <action>
      <ereg regexp="check-sync;reboot=false" search_in="hdr" header="Event:" check_it="true" assign_to="e"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]phone
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <Reference variables="e"/>
</scenario>
"""


@pytest.mark.interop
def test_resyncReachesPhone(tmp_path):
    """
    After a phone's PnP exchange, C{snomprov resync MAC} NOTIFYs its SIP
    address with C{Event: check-sync;reboot=false}; the phone (sipp) answers
    200, the command says so, and a C{resync-sent} event is recorded.
    """
    if shutil.which("sipp") is None:
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    mac = "000413ABCDEF"
    phonePort = freePort(socket.SOCK_DGRAM)
    with Daemon(tmp_path, tftp=False) as daemon:
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        phone.bind(("127.0.0.1", phonePort))
        phone.settimeout(5)
        subscribe = (
            f"SUBSCRIBE sip:MAC%3a{mac}@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{phonePort};branch=z9hG4bK1;rport\r\n"
            f"From: <sip:MAC%3a{mac}@127.0.0.1>;tag=1\r\nTo: <sip:MAC%3a{mac}@127.0.0.1>\r\n"
            "Call-ID: push-test@127.0.0.1\r\nCSeq: 1 SUBSCRIBE\r\n"
            'Event: ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1.33.33"\r\n'
            f"Expires: 0\r\nAccept: application/url\r\nContact: <sip:127.0.0.1:{phonePort}>\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        phone.sendto(subscribe, ("127.0.0.1", daemon.sipPort))
        assert phone.recvfrom(4096)[0].startswith(b"SIP/2.0 200")
        notify = parseMessage(phone.recvfrom(4096)[0])
        phone.sendto(answer(notify), ("127.0.0.1", daemon.sipPort))
        phone.close()
        for _ in range(100):  # the recorder writes in batches
            if f'"{mac}"' in daemon.run("devices", "--json").stdout:
                break
            time.sleep(0.05)
        scenario = tmp_path / "phone.xml"
        scenario.write_text(SIPP_PHONE)
        sipp = subprocess.Popen(
            ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(phonePort), "-m", "1",
             "-timeout", "20s", "-trace_err", "-error_file", str(tmp_path / "sipp.err"), "-nostdin"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
        time.sleep(0.3)  # sipp binds its port
        result = daemon.run("resync", mac)
        sippOut = sipp.communicate(timeout=30)[0].decode(errors="replace")
        assert result.returncode == 0, (result.stdout, result.stderr, sippOut[-1500:])
        lines = result.stdout.splitlines()
        assert lines[0] == (f"{mac}: NOTIFY to 127.0.0.1:{phonePort} sent (Event: check-sync;reboot=false); "
                            "waiting up to 32 s for an answer")
        assert lines[-1] == f"{mac}: NOTIFY to 127.0.0.1:{phonePort}: acked"
        assert sipp.returncode == 0, sippOut[-1500:]
    import sqlite3

    with sqlite3.connect(tmp_path / "var" / "snomprov.sqlite") as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM events WHERE mac = ? ORDER BY id", (mac,))]
    assert kinds[-1] == "resync-sent" and {"subscribe", "notify-sent", "notify-acked"} <= set(kinds)


# -- a phone that challenges the NOTIFY (SPA: Event: resync)

from snomprov.sip.digest import DigestCredentials, authorization, parseChallenge  # noqa: E402

SPA_LINE = DigestCredentials("2001", "line-secret")


def challenge(notify, code=401, header="WWW-Authenticate", qop=True) -> bytes:
    """
    The phone's digest challenge of a NOTIFY.
    """
    h = notify.headers
    offered = ', qop="auth"' if qop else ""
    return (f"SIP/2.0 {code} Unauthorized\r\nVia: {h.get('Via')}\r\nFrom: {h.get('From')}\r\n"
            f"To: {h.get('To')};tag=phone\r\nCall-ID: {h.get('Call-ID')}\r\nCSeq: {h.get('CSeq')}\r\n"
            f'{header}: Digest realm="spa942", nonce="5f3a9c"{offered}\r\n'
            "Content-Length: 0\r\n\r\n").encode()


def _digestFields(value: str) -> dict[str, str]:
    return {name.strip(): v.strip('"') for name, _, v in
            (item.partition("=") for item in value[len("Digest "):].split(", "))}


def test_challengeAnswered():
    """
    A 401 with a digest challenge is answered at once with the same NOTIFY
    at the next CSeq carrying the line's digest answer (MD5, qop=auth, the
    response as RFC 2617 computes it for this method and URI); the first
    NOTIFY is no longer retransmitted; the phone's 200 to the retry acks
    the push, and C{onSend} counted both NOTIFYs.
    """
    protocol, transport, clock = makePusher()
    sends = []
    d = protocol.resync(PHONE, "resync", onSend=sends.append, credentials=SPA_LINE)
    first = parseMessage(transport.written[0][0])
    protocol.datagramReceived(challenge(first), PHONE)
    assert len(transport.written) == 2 and not d.called
    retry = parseMessage(transport.written[1][0])
    assert retry.headers.get("CSeq") == "2 NOTIFY"
    assert retry.headers.get("Call-ID") == first.headers.get("Call-ID")
    assert retry.headers.get("Event") == "resync"
    assert retry.headers.get("Via") != first.headers.get("Via")
    fields = _digestFields(retry.headers.get("Authorization"))
    assert (fields["username"], fields["realm"], fields["nonce"], fields["uri"]) == (
        "2001", "spa942", "5f3a9c", "sip:192.0.2.67:5060")
    assert (fields["qop"], fields["nc"], fields["algorithm"]) == ("auth", "00000001", "MD5")
    expected = _digestFields(authorization(parseChallenge('Digest realm="spa942", nonce="5f3a9c", qop="auth"'),
                                           "NOTIFY", "sip:192.0.2.67:5060", SPA_LINE, fields["cnonce"]))
    assert fields["response"] == expected["response"]
    assert "line-secret" not in transport.written[1][0].decode()
    clock.advance(0.5)
    assert [parseMessage(data).headers.get("CSeq") for data, _, _ in transport.written[2:]] == ["2 NOTIFY"]
    protocol.datagramReceived(answer(retry), PHONE)
    assert d.result == "acked"
    assert sends == [1, 2, 3]
    clock.advance(40)
    assert len(transport.written) == 3


def test_proxyChallengeAnswered():
    """
    A 407 is answered with C{Proxy-Authorization}; a challenge without qop
    in the RFC 2069 form.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync", credentials=SPA_LINE)
    protocol.datagramReceived(challenge(parseMessage(transport.written[0][0]), 407, "Proxy-Authenticate",
                                        qop=False), PHONE)
    retry = parseMessage(transport.written[1][0])
    assert retry.headers.get("Authorization") is None
    assert "qop" not in _digestFields(retry.headers.get("Proxy-Authorization"))
    protocol.datagramReceived(answer(retry), PHONE)
    assert d.result == "acked"


def test_secondChallengeRefuses():
    """
    A challenge of the authenticated retry (wrong credentials) ends the
    push as C{refused 401}: one retry only.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync", credentials=SPA_LINE)
    protocol.datagramReceived(challenge(parseMessage(transport.written[0][0])), PHONE)
    protocol.datagramReceived(challenge(parseMessage(transport.written[1][0])), PHONE)
    assert d.result == "refused 401" and len(transport.written) == 2


def test_challengeWithoutCredentials():
    """
    Without credentials (a device with no line) a challenge is final.
    """
    protocol, transport, clock = makePusher()
    d = protocol.resync(PHONE, "resync")
    protocol.datagramReceived(challenge(parseMessage(transport.written[0][0])), PHONE)
    assert d.result == "refused 401" and len(transport.written) == 1


SIPP_SPA = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="SPA phone challenging Event: resync">
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^ ?resync$" search_in="hdr" header="Event:" check_it="true" assign_to="e1"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]spa
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="spa942", nonce="8c1f0e2d", qop="auth", algorithm=MD5
Content-Length: 0

    ]]>
  </send>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="2 NOTIFY" search_in="hdr" header="CSeq:" check_it="true" assign_to="c2"/>
      <verifyauth assign_to="authok" username="2001" password="line-secret"/>
    </action>
  </recv>
  <nop test="authok" next="good"/>
  <send next="end">
    <![CDATA[
SIP/2.0 403 Forbidden
[last_Via:]
[last_From:]
[last_To:];tag=[pid]spa
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <label id="good"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]spa
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <label id="end"/>
  <Reference variables="e1,c2"/>
</scenario>
"""


@pytest.mark.interop
@pytest_twisted.inlineCallbacks
def test_resyncAnswersSPAChallenge(tmp_path):
    """
    C{snomprov resync MAC} of an SPA phone (sipp, checking the digest with
    its own C{verifyauth} against the line's user and password) whose
    first answer is 401: the retry carries the right answer, the phone says
    200 and the command reports C{acked}; a wrong password would be 403.
    """
    if shutil.which("sipp") is None:
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    mac = "000E08ABCDEF"
    phonePort = freePort(socket.SOCK_DGRAM)
    cli = Daemon(tmp_path, sip=False, tftp=False)
    cli.importCSV("mac,vendor,model,line,user,password,display_name,registrar\n"
                  f"{mac},linksys,SPA942,1,2001,line-secret,Front desk,pbx.example\n")
    yield _storeSPAAddress(cli.configPath, mac, ("127.0.0.1", phonePort))
    scenario = tmp_path / "spa.xml"
    scenario.write_text(SIPP_SPA)
    sipp = subprocess.Popen(
        ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(phonePort), "-m", "1",
         "-timeout", "20s", "-trace_err", "-error_file", str(tmp_path / "sipp.err"), "-nostdin"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        time.sleep(0.3)  # sipp binds its port
        result = cli.run("resync", mac)
        sippOut = sipp.communicate(timeout=30)[0].decode(errors="replace")
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait()
    assert result.returncode == 0, (result.stdout, result.stderr, sippOut[-1500:])
    assert result.stdout.splitlines()[-1] == f"{mac}: NOTIFY to 127.0.0.1:{phonePort}: acked", result.stdout
    assert sipp.returncode == 0, sippOut[-1500:]
    assert "line-secret" not in result.stdout + result.stderr


def _storeSPAAddress(configPath: str, mac: str, address: tuple[str, int]):
    """
    Record the SIP address of a registered SPA phone, as its REGISTER-less
    life would (PnP does not apply to SPA phones; the address comes from
    a sighting).
    """

    async def store():
        config = discoverConfig(configPath)
        opened = await openStore(config.storeURL, config.server.dataDir)
        try:
            await opened.mergeDevices([DeviceInfo(mac, vendor="linksys", sipAddress=address)])
        finally:
            await opened.close()

    return defer.ensureDeferred(store())

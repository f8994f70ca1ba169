"""
Tests for the plug-and-play responder: L{snomprov.sip.protocol.SIPProtocol}
and L{snomprov.pnp.PnPController}, on a fake multicast transport and a
L{Clock}.  The SUBSCRIBEs are the real phones' from C{tests/fixtures/sip}.
"""

import os
import select
import socket

import pytest

from twisted.internet.task import Clock
from twisted.logger import LogLevel, capturedLogs

from snomprov.config import parseConfig
from zope.interface import implementer
from zope.interface.verify import verifyObject

from snomprov.interfaces import ISIPPortsVendor
from snomprov.pnp import PnPController, PnPControllers, sipPortsFor
from snomprov.recorder import PnPRecording, Recorder
from snomprov.registry import VendorRegistry
from snomprov.sip.decoded import Decoder
from snomprov.sip.message import SIPRequest, SIPResponse, parseMessage
from snomprov.sip.protocol import SIPProtocol
from snomprov.sip.uaprofile import newBranch, viaBranch
from snomprov.store.memory import MemoryDeviceStore
from snomprov.testing import FakeMulticastTransport, FakeVendor
from snomprov.vendors.generic import genericVendorsFor
from snomprov.vendors.snom import snomVendor

from twisted.internet import defer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "sip")
PHONE = ("192.0.2.67", 5060)
US = "192.0.2.10"

CONFIG = """
[server]
base_url = "http://192.0.2.10:8080"
[vendors.grandstream]
url = "{base_url}/gs/"
folder = true
[vendors.yealink]
url = "{base_url}/yealink/{mac}.cfg"
[vendors.audiocodes]
url = "tftp://192.0.2.10/{model}.cfg"
user_agent = "AUDC-IPPhone"
"""


def fixture(name: str, **placeholders: str) -> bytes:
    """
    A fixture's bytes, with a template's placeholders filled in.
    """
    with open(os.path.join(FIXTURES, name), "rb") as f:
        data = f.read()
    for key, value in placeholders.items():
        data = data.replace(b"$" + key.encode(), value.encode())
    return data


class RecordingRecorder(PnPRecording):
    """
    Collects what the controller hands to the recorder, as sightings and
    events.
    """

    def __init__(self):
        self.sightings, self.events = [], []

    def sighting(self, device):
        self.sightings.append(device)

    def event(self, event):
        self.events.append(event)


def makeResponder(tmp_path, extra="", interfaces=(), recorder=None, failJoinOn=(), decoder=None):
    """
    A protocol and controller on a fake transport and clock.
    """
    config = parseConfig(CONFIG + extra, "t.toml", baseDir=str(tmp_path))
    generic, problems = genericVendorsFor(config, {"snom"})
    assert not problems
    registry = VendorRegistry([snomVendor, *generic])
    clock = Clock()
    recorder = recorder if recorder is not None else RecordingRecorder()
    controller = PnPController(registry, config, recorder, clock)
    protocol = SIPProtocol(controller, "224.0.1.75", interfaces, clock, localHostFor=lambda ip: US, decoder=decoder)
    transport = FakeMulticastTransport("0.0.0.0", 5060, failJoinOn=failJoinOn)
    protocol.makeConnection(transport)
    return protocol, controller, transport, clock, recorder


def sent(transport):
    """
    The datagrams written, parsed, with their destinations.
    """
    return [(parseMessage(data), address) for data, address, _ in transport.written]


def test_joinsGroupOnEveryInterface(tmp_path):
    """
    The group is joined once per configured interface.
    """
    _, _, transport, _, _ = makeResponder(tmp_path, interfaces=("192.0.2.10", "198.51.100.10"))
    assert transport.groups == [("224.0.1.75", "192.0.2.10"), ("224.0.1.75", "198.51.100.10")]


def test_joinDefaultInterface(tmp_path):
    """
    With no interfaces configured, the group is joined on the default one.
    """
    _, _, transport, _, _ = makeResponder(tmp_path)
    assert transport.groups == [("224.0.1.75", "")]


def test_failedJoinLoggedAndUnicastAnswered(tmp_path):
    """
    A join that fails is logged as an error; SUBSCRIBEs still get answers.
    """
    with capturedLogs() as events:
        protocol, _, transport, _, _ = makeResponder(tmp_path, interfaces=("192.0.2.99",), failJoinOn=("192.0.2.99",))
    assert any(e["log_level"] == LogLevel.error and "192.0.2.99" in e["log_format"].format(**e)
               for e in events)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    assert len(transport.written) == 2


def test_snomSubscribeAnswered(tmp_path):
    """
    A snom SUBSCRIBE gets a 200 then a NOTIFY, both to the packet's source,
    shaped as DESIGN.md §1.1 says.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    subscribe = parseMessage(fixture("snom-OEM-7.1.19-1.sip"))
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    (ok, to1), (notify, to2) = sent(transport)
    assert to1 == to2 == PHONE
    assert isinstance(ok, SIPResponse) and ok.code == 200
    assert ok.headers.get("Via") == "SIP/2.0/UDP 192.168.10.67:5060;rport=5060;received=192.0.2.67"
    assert ok.headers.get("From") == subscribe.headers.get("From")
    assert ok.headers.get("To").startswith(subscribe.headers.get("To") + ";tag=")
    assert ok.headers.get("Call-ID") == subscribe.headers.get("Call-ID")
    assert ok.headers.get("CSeq") == "1 SUBSCRIBE"
    assert ok.headers.get("Expires") == "0" and ok.headers.get("Content-Length") == "0"
    assert ok.headers.get("Contact") == f"<sip:{US}:5060>"
    assert isinstance(notify, SIPRequest) and notify.method == "NOTIFY"
    assert notify.uri == "sip:192.168.10.67:5060"
    assert notify.headers.get("Via").startswith(f"SIP/2.0/UDP {US}:5060;branch=z9hG4bK")
    assert notify.headers.get("Max-Forwards") == "70"
    assert notify.headers.get("From") == ok.headers.get("To")
    assert notify.headers.get("To") == subscribe.headers.get("From")
    assert notify.headers.get("Call-ID") == subscribe.headers.get("Call-ID")
    assert notify.headers.get("Event") == subscribe.headers.get("Event")
    assert notify.headers.get("Subscription-State") == "terminated;reason=timeout"
    assert notify.headers.get("Content-Type") == "application/url"
    assert notify.body == b"http://192.0.2.10:8080/snom/00135E874B49.xml"
    assert notify.headers.get("Content-Length") == str(len(notify.body))


@pytest.mark.parametrize(
    "name,placeholders,url",
    [
        ("snom-snom360-7.3.14-1.sip", {}, "http://192.0.2.10:8080/snom/000413"),
        ("snom-snom720-7.1.19-1.sip", {}, "http://192.0.2.10:8080/snom/"),
        ("snom-M700-03.23.0005-1.sip", {}, "http://192.0.2.10:8080/snom/"),
        ("Grandstream-GRP2612W-1.0.5.67-1.sip", {}, "http://192.0.2.10:8080/gs/"),
        ("Yealink-T21P-34.72.14.6-1.sip", {"mac": "001565AABBCC", "ip": "192.0.2.67", "port": "5060"},
         "http://192.0.2.10:8080/yealink/001565AABBCC.cfg"),
        ("AudioCodes-420HD-1.2.1_build_6-1.sip", {}, "tftp://192.0.2.10/420HD.cfg"),
    ],
)
def test_everyFixtureAnswered(tmp_path, name, placeholders, url):
    """
    Every real phone's SUBSCRIBE gets a 200 and a NOTIFY whose body is the
    URL its vendor builds.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    protocol.datagramReceived(fixture(name, **placeholders), PHONE)
    (ok, _), (notify, _) = sent(transport)
    assert ok.code == 200
    assert notify.method == "NOTIFY" and notify.body.decode().startswith(url)


def test_macLeftForThePhoneWhenAbsent(tmp_path):
    """
    A SUBSCRIBE without a MAC gets the URL with C{{mac}} for the phone to
    expand.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    data = fixture("snom-OEM-7.1.19-1.sip").replace(b"MAC%3a00135E874B49", b"phone")
    protocol.datagramReceived(data, PHONE)
    (_, _), (notify, _) = sent(transport)
    assert notify.body == b"http://192.0.2.10:8080/snom/{mac}.xml"


def notifyTimes(transport, clock, until=40.0, step=0.25):
    """
    Advance the clock and note when each NOTIFY was written.
    """
    times = []
    seen = 0
    t = 0.0
    while t <= until:
        for data, _, _ in transport.written[seen:]:
            if data.startswith(b"NOTIFY"):
                times.append(t)
        seen = len(transport.written)
        clock.advance(step)
        t += step
    return times


def test_retransmissionSchedule(tmp_path):
    """
    Without the phone's 200 the NOTIFY is resent at 0.5, 1, 2, 4, 4, …
    second intervals and given up at 32 s, with a C{notify-timeout} event.
    """
    protocol, controller, transport, clock, recorder = makeResponder(tmp_path)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    times = notifyTimes(transport, clock)
    assert times == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert [e.kind for e in recorder.events][-1] == "notify-timeout"
    assert controller.counters["notify-timeout"] == 1


def test_phoneOKStopsRetransmission(tmp_path):
    """
    The phone's 200 to the NOTIFY stops the retransmissions and is recorded
    as C{notify-acked}.
    """
    protocol, controller, transport, clock, recorder = makeResponder(tmp_path)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    notify = sent(transport)[1][0]
    clock.advance(0.5)
    ok = (
        "SIP/2.0 200 OK\r\n"
        f"Via: {notify.headers.get('Via')}\r\n"
        f"From: {notify.headers.get('From')}\r\n"
        f"To: {notify.headers.get('To')}\r\n"
        f"Call-ID: {notify.headers.get('Call-ID')}\r\n"
        f"CSeq: {notify.headers.get('CSeq')}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()
    protocol.datagramReceived(ok, PHONE)
    count = len(transport.written)
    clock.advance(40)
    assert len(transport.written) == count == 3
    assert "notify-acked" in [e.kind for e in recorder.events]
    assert not clock.getDelayedCalls()


def phoneOKTo(notify, via=None, **replaced):
    """
    The phone's C{200 OK} to a parsed NOTIFY: its Via (or C{via}), From,
    To, Call-ID and CSeq; a header given in C{replaced} (C{Call_ID="x"})
    gets that value instead, or is left out when it is C{None}.
    """
    lines = ["SIP/2.0 200 OK", f"Via: {via or notify.headers.get('Via')}"]
    for name in ("From", "To", "Call-ID", "CSeq"):
        value = replaced.get(name.replace("-", "_"), notify.headers.get(name))
        if value is not None:
            lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


def test_phoneOKMatchedByBranch(tmp_path):
    """
    The phone's 200 is matched to our NOTIFY by its top Via's branch (RFC
    3261 §17.1.3): a 200 with the NOTIFY's Call-ID and CSeq but another
    branch acknowledges nothing, and the retransmissions go on.
    """
    protocol, controller, transport, clock, recorder = makeResponder(tmp_path)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    notify = sent(transport)[1][0]
    otherVia = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK00000000000000000000;rport"
    protocol.datagramReceived(phoneOKTo(notify, via=otherVia), PHONE)
    assert controller.counters["unmatched-response"] == 1
    clock.advance(0.5)
    assert len(transport.written) == 3  # 200, NOTIFY, its first retransmission
    protocol.datagramReceived(phoneOKTo(notify), PHONE)
    assert controller.counters["notify-acked"] == 1
    clock.advance(40)
    assert len(transport.written) == 3


def test_phoneOKWithOurBranchIsEnough(tmp_path):
    """
    Our branches are unguessable, so a final response carrying one
    acknowledges its NOTIFY whatever else it lacks (here a Call-ID); a
    provisional one does not.
    """
    protocol, controller, transport, clock, recorder = makeResponder(tmp_path)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    notify = sent(transport)[1][0]
    trying = phoneOKTo(notify).replace(b"200 OK", b"100 Trying", 1)
    protocol.datagramReceived(trying, PHONE)
    assert controller.counters["provisional"] == 1
    assert "notify-acked" not in controller.counters
    protocol.datagramReceived(phoneOKTo(notify, Call_ID=None), PHONE)
    assert controller.counters["notify-acked"] == 1
    clock.advance(40)
    assert len(transport.written) == 2


def test_phoneOKFromOutsideTheAllowList(tmp_path):
    """
    A 200 from a source outside C{allowed_networks} acknowledges nothing.
    """
    protocol, controller, transport, clock, recorder = makeResponder(
        tmp_path, extra='[sip]\nallowed_networks = ["192.0.2.0/24"]\n')
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    notify = sent(transport)[1][0]
    protocol.datagramReceived(phoneOKTo(notify), ("198.51.100.7", 5060))
    assert controller.counters["not-allowed"] == 1
    assert "notify-acked" not in controller.counters


def notified(tmp_path, **options):
    """
    A responder (L{makeResponder} with C{options}) that has answered a
    snom SUBSCRIBE from C{PHONE}, and the NOTIFY it sent, parsed.
    """
    responder = makeResponder(tmp_path, **options)
    responder[0].datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    return (*responder, sent(responder[2])[1][0])


def test_acknowledgedByBranch(tmp_path):
    """
    L{PnPController.acknowledged} ends the NOTIFY transaction whose branch
    it is given: no more retransmissions on the clock, C{notify-acked}
    recorded; the same branch again, or one never sent, acknowledges
    nothing and is left to L{PnPController.messageReceived} to count.
    """
    protocol, controller, transport, clock, recorder, notify = notified(tmp_path)
    branch = viaBranch(notify.headers.get("Via"))
    assert not controller.acknowledged(newBranch(), PHONE)
    clock.advance(0.5)
    assert len(transport.written) == 3  # 200, NOTIFY, its first retransmission
    assert controller.acknowledged(branch, PHONE)
    assert not controller.acknowledged(branch, PHONE)
    clock.advance(40)
    assert len(transport.written) == 3 and not clock.getDelayedCalls()
    assert [e.kind for e in recorder.events].count("notify-acked") == 1
    assert controller.counters["notify-acked"] == 1 and "unmatched-response" not in controller.counters


def test_acknowledgedOnlyFromAllowedSources(tmp_path):
    """
    A branch from a source outside C{allowed_networks} acknowledges
    nothing (the retransmissions go on); from an allowed one it does.
    """
    protocol, controller, transport, clock, _, notify = notified(
        tmp_path, extra='[sip]\nallowed_networks = ["192.0.2.0/24"]\n')
    branch = viaBranch(notify.headers.get("Via"))
    assert not controller.acknowledged(branch, ("198.51.100.7", 5060))
    clock.advance(0.5)
    assert len(transport.written) == 3
    assert controller.acknowledged(branch, PHONE)
    clock.advance(40)
    assert len(transport.written) == 3


def test_acknowledgedWhenDetached(tmp_path):
    """
    Once the protocol has stopped there is no transaction to end.
    """
    protocol, controller, _, _, _, notify = notified(tmp_path)
    branch = viaBranch(notify.headers.get("Via"))
    protocol.doStop()
    assert not controller.acknowledged(branch, PHONE)


@pytest.mark.parametrize("quick", [True, False])
@pytest.mark.parametrize("status", ["481 Call/Transaction Does Not Exist", "603 Decline"])
def test_nonOKFinalResponseEndsTheNotify(tmp_path, status, quick):
    """
    Any final response ends the NOTIFY's client transaction (RFC 3261
    §17.1.2.2), not only a 200: the retransmissions stop, whether it is
    matched by branch alone or decoded whole (C{quick=False}).
    """
    protocol, controller, transport, clock, _, notify = notified(tmp_path, decoder=Decoder(quick=quick))
    protocol.datagramReceived(phoneOKTo(notify).replace(b"200 OK", status.encode(), 1), PHONE)
    assert controller.counters["notify-acked"] == 1
    clock.advance(40)
    assert len(transport.written) == 2 and not clock.getDelayedCalls()


def test_unknownBranchFallsBackToMessageReceived(tmp_path):
    """
    Through the protocol, a final response with a branch of our shape that
    is none of ours, or from a refused source, is decoded and handed to
    C{messageReceived}, which counts it (C{unmatched-response},
    C{not-allowed}); the NOTIFY is still retransmitted.
    """
    protocol, controller, transport, clock, _, notify = notified(
        tmp_path, extra='[sip]\nallowed_networks = ["192.0.2.0/24"]\n')
    protocol.datagramReceived(phoneOKTo(notify, via=f"SIP/2.0/UDP {US}:5060;branch={newBranch()}"), PHONE)
    protocol.datagramReceived(phoneOKTo(notify), ("198.51.100.7", 5060))
    assert (controller.counters["unmatched-response"], controller.counters["not-allowed"]) == (1, 1)
    assert "notify-acked" not in controller.counters
    clock.advance(0.5)
    assert len(transport.written) == 3


def test_malformedResponseCounted(tmp_path):
    """
    A response that does not decode (its status code is not a number) is
    counted as malformed and leaves the NOTIFY retransmitted.
    """
    protocol, controller, transport, clock, _, notify = notified(tmp_path)
    protocol.datagramReceived(phoneOKTo(notify).replace(b"200 OK", b"2x0 OK", 1), PHONE)
    assert controller.counters["malformed"] == 1 and "notify-acked" not in controller.counters
    clock.advance(0.5)
    assert len(transport.written) == 3


def test_duplicateSubscribe(tmp_path):
    """
    A repeated SUBSCRIBE (same Call-ID, From tag, CSeq) gets the same 200
    again and no second NOTIFY.
    """
    protocol, controller, transport, _, _ = makeResponder(tmp_path)
    data = fixture("Grandstream-GRP2612W-1.0.5.67-1.sip")
    protocol.datagramReceived(data, PHONE)
    protocol.datagramReceived(data, PHONE)
    protocol.datagramReceived(data, PHONE)
    kinds = [d[:8] for d, _, _ in transport.written]
    assert kinds == [b"SIP/2.0 ", b"NOTIFY s", b"SIP/2.0 ", b"SIP/2.0 "]
    assert transport.written[0][0] == transport.written[2][0] == transport.written[3][0]
    assert controller.counters["duplicate"] == 2


def test_otherEventGets489(tmp_path):
    """
    A SUBSCRIBE for another event package gets C{489 Bad Event}.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    data = fixture("snom-OEM-7.1.19-1.sip").replace(b"Event: ua-profile", b"Event: presence")
    protocol.datagramReceived(data, PHONE)
    [(response, to)] = sent(transport)
    assert (response.code, to) == (489, PHONE)


@pytest.mark.parametrize("method,code", [("OPTIONS", 200), ("INVITE", 405), ("REGISTER", 405)])
def test_otherMethods(tmp_path, method, code):
    """
    OPTIONS gets 200 with C{Allow}; other methods 405 with C{Allow}.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    data = fixture("snom-OEM-7.1.19-1.sip").replace(b"SUBSCRIBE", method.encode())
    protocol.datagramReceived(data, PHONE)
    [(response, _)] = sent(transport)
    assert response.code == code
    assert "SUBSCRIBE" in response.headers.get("Allow")


def test_pnpservKiller(tmp_path):
    """
    The 27-byte OPTIONS that kills snom's pnpserv.py is dropped or answered,
    and the responder goes on answering.
    """
    protocol, _, transport, _, _ = makeResponder(tmp_path)
    protocol.datagramReceived(b"OPTIONS sip:x SIP/2.0\r\n\r\n\r\n"[:27], PHONE)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    assert [m.method for m, _ in sent(transport) if isinstance(m, SIPRequest)] == ["NOTIFY"]


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00" * 10, b"\xff\xfe garbage", b"SIP/2.0", b"SUBSCRIBE sip:x SIP/2.0\r\nVia: x\r\n",
     fixture("snom-OEM-7.1.19-1.sip")[:100], b"A" * 70000,
     fixture("snom-OEM-7.1.19-1.sip").replace(b"CSeq: 1 SUBSCRIBE", b"CSeq: x SUBSCRIBE"),
     fixture("snom-OEM-7.1.19-1.sip").replace(b"Content-Length: 0", b"Content-Length: 99")],
)
def test_garbageDropped(tmp_path, garbage):
    """
    Undecodable, truncated, oversize or incomplete datagrams are dropped
    and counted; the next SUBSCRIBE is still answered.
    """
    protocol, controller, transport, _, _ = makeResponder(tmp_path)
    protocol.datagramReceived(garbage, PHONE)
    assert transport.written == []
    assert controller.counters.get("malformed", 0) == 1
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    assert len(transport.written) == 2


def test_repliesOnlyToSource(tmp_path):
    """
    Via, Contact and From naming a third host change nothing: every reply
    goes to the packet's source address and port.
    """
    protocol, _, transport, clock, _ = makeResponder(tmp_path)
    data = fixture("snom-OEM-7.1.19-1.sip").replace(b"192.168.10.67", b"203.0.113.99")
    protocol.datagramReceived(data, PHONE)
    clock.advance(5)
    assert {address for _, address, _ in transport.written} == {PHONE}


def test_allowList(tmp_path):
    """
    Sources outside C{allowed_networks} get silence.
    """
    protocol, controller, transport, _, _ = makeResponder(tmp_path, '[sip]\nallowed_networks = ["198.51.100.0/24"]\n')
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    assert transport.written == [] and controller.counters["not-allowed"] == 1
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), ("198.51.100.7", 5060))
    assert len(transport.written) == 2


def test_rateLimitPerSource(tmp_path):
    """
    A source over its rate gets silence; another source is unaffected, and
    the first is answered again once its bucket refills.
    """
    protocol, controller, transport, clock, _ = makeResponder(
        tmp_path, "[sip]\nrate_per_source = 1.0\nrate_burst = 2\n")
    data = fixture("snom-OEM-7.1.19-1.sip")
    for cseq in range(1, 5):
        protocol.datagramReceived(data.replace(b"CSeq: 1 ", f"CSeq: {cseq} ".encode()), PHONE)
    assert controller.counters["rate-limited"] == 2
    protocol.datagramReceived(data.replace(b"1930770594", b"1930770595"), ("192.0.2.68", 5060))
    assert controller.counters["answered"] == 3
    clock.advance(1.0)
    protocol.datagramReceived(data.replace(b"CSeq: 1 ", b"CSeq: 9 "), PHONE)
    assert controller.counters["answered"] == 4


def test_unknownVendorSilence(tmp_path):
    """
    A SUBSCRIBE no vendor claims gets silence and a C{rejected} event.
    """
    protocol, controller, transport, _, recorder = makeResponder(tmp_path)
    data = fixture("Grandstream-GRP2612W-1.0.5.67-1.sip").replace(b'vendor="Grandstream"', b'vendor="Nobody"')
    data = data.replace(b"C074AD112233", b"AABBCC112233").replace(b"Grandstream GRP", b"Nobody GRP")
    protocol.datagramReceived(data, PHONE)
    assert transport.written == []
    assert [e.kind for e in recorder.events] == ["rejected"]


def test_unmatchedResponseDropped(tmp_path):
    """
    A response that matches no NOTIFY (its top Via's branch is none of
    ours) is counted and dropped; one without a Via is malformed.
    """
    protocol, controller, transport, _, _ = makeResponder(tmp_path)
    protocol.datagramReceived(
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK0123456789abcdef0123\r\n"
        b"Call-ID: nope\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n", PHONE)
    assert transport.written == [] and controller.counters["unmatched-response"] == 1
    protocol.datagramReceived(
        b"SIP/2.0 200 OK\r\nCall-ID: nope\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n", PHONE)
    assert transport.written == [] and controller.counters["malformed"] == 1


@pytest.mark.parametrize("_", [None])
def test_recordedInStore(tmp_path, _):
    """
    Through the real recorder, a PnP exchange lands in the store: the device
    as C{notified}, its SIP address once the phone acknowledged the NOTIFY
    (not on the SUBSCRIBE alone), and the events in order.
    """
    store = MemoryDeviceStore()
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock, interval=0.25)
    protocol, _, transport, _, _ = makeResponder(tmp_path, recorder=recorder)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    recorder.flush()
    device = store.getDevice("00135E874B49").result
    assert (device.vendor, device.state, device.ip, device.sipAddress) == ("snom", "notified", None, None)
    protocol.datagramReceived(phoneOKTo(sent(transport)[1][0]), PHONE)
    recorder.flush()
    device = store.getDevice("00135E874B49").result
    assert (device.vendor, device.state, device.ip, device.sipAddress) == ("snom", "notified", PHONE[0], PHONE)
    events = store.listEvents("00135E874B49").result
    assert [e.kind for e in reversed(events)] == ["subscribe", "notify-sent", "notify-acked"]


def test_stopCancelsTimers(tmp_path):
    """
    Stopping the protocol cancels every pending retransmission.
    """
    protocol, _, transport, clock, _ = makeResponder(tmp_path)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    protocol.doStop()
    assert not clock.getDelayedCalls()


@implementer(ISIPPortsVendor)
class PortsVendor(FakeVendor):
    """
    A fake vendor whose phones also send to other ports.
    """

    def __init__(self, name, ports, ouis=("AABBCC",)):
        super().__init__(name, ouis)
        self.sipPorts = frozenset(ports)


def test_vendorPorts(tmp_path):
    """
    The ports plug-and-play listens on are C{[sip] port} and those the
    vendors ask for, each once; the registry gathers them.
    """
    config = parseConfig(CONFIG, "t.toml", baseDir=str(tmp_path))
    vendor = PortsVendor("alpha", {5059, 5060, 5062})
    registry = VendorRegistry([snomVendor, vendor, PortsVendor("beta", {5059}, ouis=("BBBBBB",))])
    verifyObject(ISIPPortsVendor, vendor)
    assert registry.sipPorts == {5059, 5060, 5062}
    assert sipPortsFor(config, registry) == [5060, 5059, 5062]
    assert sipPortsFor(config, VendorRegistry([snomVendor])) == [5060]


def test_vendorPortsOff(tmp_path):
    """
    With C{[sip] vendor_ports = false} plug-and-play listens on C{[sip]
    port} alone, whatever the vendors ask for.
    """
    config = parseConfig(CONFIG + "[sip]\nport = 5070\nvendor_ports = false\n", "t.toml", baseDir=str(tmp_path))
    registry = VendorRegistry([snomVendor, PortsVendor("alpha", {5059, 5062})])
    assert sipPortsFor(config, registry) == [5070]
    assert sipPortsFor(config.replaceIn("sip", vendorPorts=True), registry) == [5070, 5059, 5062]


def test_answeredFromTheVendorPort(tmp_path):
    """
    A SUBSCRIBE that came to a vendor's port is answered by that port's
    controller, with that port in our Via and Contact; C{/metrics}' view
    of the controllers sums them.
    """
    config = parseConfig(CONFIG, "t.toml", baseDir=str(tmp_path))
    registry = VendorRegistry([snomVendor, PortsVendor("alpha", {5059})])
    clock = Clock()
    controllers, transports = [], []
    for port in sipPortsFor(config, registry):
        controller = PnPController(registry, config.replaceIn("sip", port=port), RecordingRecorder(), clock)
        protocol = SIPProtocol(controller, "224.0.1.75", (), clock, localHostFor=lambda ip: US)
        transport = FakeMulticastTransport("0.0.0.0", port)
        protocol.makeConnection(transport)
        controllers.append(controller)
        transports.append((protocol, transport))
    (main, mainTransport), (extra, extraTransport) = transports
    extra.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    assert mainTransport.written == []
    (ok, _), (notify, _) = sent(extraTransport)
    assert ok.headers.get("Contact") == f"<sip:{US}:5059>"
    assert notify.headers.get("Via").startswith(f"SIP/2.0/UDP {US}:5059;")
    main.datagramReceived(fixture("snom-snom720-7.1.19-1.sip"), PHONE)
    assert parseMessage(mainTransport.written[0][0]).headers.get("Contact") == f"<sip:{US}:5060>"
    both = PnPControllers(controllers)
    assert both.counters["answered"] == 2
    assert len(both.notifier) == 2 and both.notifier.retransmitted == 0
    clock.advance(0.5)
    assert both.notifier.retransmitted == 2


def test_daemonListensOnVendorPorts(tmp_path):
    """
    The daemon's SIP services (L{snomprov.tap._buildSIP}) bind C{[sip]
    port} and the vendor's port (free ports here); a SUBSCRIBE sent to the
    vendor's port is answered from it.
    """
    from daemon import freePort

    from snomprov.metrics import Metrics
    from snomprov.tap import _buildSIP
    from snomprov.testing import FakeFDReactor

    main, extra = freePort(socket.SOCK_DGRAM), freePort(socket.SOCK_DGRAM)
    config = parseConfig(CONFIG + f"[sip]\nport = {main}\ninterfaces = [\"127.0.0.1\"]\n", "t.toml",
                         baseDir=str(tmp_path))
    registry = VendorRegistry([snomVendor, PortsVendor("alpha", {extra})])
    reactor = FakeFDReactor()
    recorder = Recorder(lambda: None, reactor)
    metrics = Metrics(lambda: defer.succeed(MemoryDeviceStore()), reactor, recorder, None)
    services = _buildSIP(config, registry, recorder, reactor, metrics)
    assert [s.name for s in services] == ["sip", f"sip-{extra}"]
    for service in services:
        service.privilegedStartService()
    try:
        ports = {service.name: service._port for service in services}
        assert {p.getHost().port for p in ports.values()} == {main, extra}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.bind(("127.0.0.1", 0))
            phone.settimeout(2)
            phone.sendto(fixture("snom-OEM-7.1.19-1.sip"), ("127.0.0.1", extra))
            port = ports[f"sip-{extra}"]
            assert select.select([port.socket], [], [], 2)[0]
            port.doRead()
            ok, source = phone.recvfrom(65535)
            assert source[1] == extra
            assert parseMessage(ok).headers.get("Contact") == f"<sip:127.0.0.1:{extra}>"
        assert b"snomprov_pnp_subscribes_answered_total 1.0" in metrics.text()
    finally:
        for service in services:
            service.stopService()
        reactor.advance(0)


def test_venderAnsweredByItsVendor(tmp_path):
    """
    A Panasonic SUBSCRIBE naming its vendor with C{vender=} is answered by
    the vendor whose table matches it (the vendor reads it, not the server);
    without that table it is not claimed (silence).
    """
    data = fixture("snom-OEM-7.1.19-1.sip").replace(
        b'vendor="OEM";model="OEM"', b'vender="Panasonic";model="KX-HDV130"').replace(b"00135E", b"0080F0")
    assert b"vender=" in data
    protocol, controller, transport, _, _ = makeResponder(
        tmp_path, extra='[vendors.panasonic]\nurl = "{base_url}/pana/{model}/{MAC}.cfg"\n')
    protocol.datagramReceived(data, PHONE)
    (_, _), (notify, _) = sent(transport)
    assert notify.body == b"http://192.0.2.10:8080/pana/KX-HDV130/{MAC}.cfg"
    protocol, controller, transport, _, _ = makeResponder(tmp_path / "without")
    protocol.datagramReceived(data, PHONE)
    assert transport.written == [] and controller.counters["no-vendor"] == 1

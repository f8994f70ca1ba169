"""
Tests for L{snomprov.sip.protocol.SIPProtocol} with a fake controller: what
it hands the controller, how the controller writes, and the protocol on a
real L{SIPPort} (the full responder is tested in C{tests/test_pnp.py}).
"""

from __future__ import annotations

import select
import socket

from twisted.logger import LogLevel, capturedLogs

from snomprov.sip.decoded import DecodedMessage, Decoder
from snomprov.sip.port import SIPPort
from snomprov.sip.protocol import SIPProtocol
from snomprov.sip.uaprofile import newBranch
from snomprov.testing import FakeFDReactor, FakeMulticastTransport

PHONE = ("192.0.2.67", 5060)
OPTIONS = b"OPTIONS sip:x@192.0.2.10 SIP/2.0\r\nCall-ID: 1@x\r\nCSeq: 1 OPTIONS\r\n\r\n"


class FakeController:
    """
    Records what the protocol hands it, answers an C{OPTIONS} with
    C{b"ok"}, and acknowledges a branch of C{pending} once.
    """

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.acknowledgements: list[tuple[str, tuple]] = []
        self.send = None
        self.attached: tuple | None = None
        self.messages: list = []
        self.counts: list[str] = []
        self.detached = False

    def attach(self, send, localHostFor, port) -> None:
        self.send = send
        self.attached = (localHostFor, port)

    def detach(self) -> None:
        self.detached = True

    def count(self, outcome: str) -> None:
        self.counts.append(outcome)

    def acknowledged(self, branch, address) -> bool:
        self.acknowledgements.append((branch, address))
        if branch in self.pending:
            self.pending.discard(branch)
            return True
        return False

    def messageReceived(self, message, address) -> None:
        if message.method == "BOOM":
            raise RuntimeError("bug")
        self.messages.append((message, address))
        if message.method == "OPTIONS":
            self.send(b"ok", address)


def connected(transport=None, decoder=None):
    controller = FakeController()
    protocol = SIPProtocol(controller, "224.0.1.75", (), localHostFor=lambda ip: "192.0.2.10", decoder=decoder)
    transport = transport or FakeMulticastTransport("0.0.0.0", 5060)
    protocol.makeConnection(transport)
    return protocol, controller, transport


def test_controllerWritesWithTransport():
    """
    The controller is attached with the transport's C{write}, our address
    book and the port; it is detached when the protocol stops.
    """
    protocol, controller, transport = connected()
    assert controller.attached[1] == 5060 and controller.attached[0]("192.0.2.67") == "192.0.2.10"
    controller.send(b"NOTIFY", PHONE)
    assert transport.written == [(b"NOTIFY", PHONE, "")]
    protocol.doStop()
    assert controller.detached


def test_decodedHandedOver():
    """
    Every datagram is handed to C{messageReceived} decoded, the quick way
    or the full way (folded lines), as the same L{DecodedMessage}: the
    controller never sees bytes.
    """
    protocol, controller, transport = connected()
    protocol.datagramReceived(OPTIONS, PHONE)
    protocol.datagramReceived(OPTIONS.replace(b"\r\nCSeq: 1 OPTIONS", b"\r\nCSeq:\r\n 1 OPTIONS"), PHONE)
    assert transport.written == [(b"ok", PHONE, "")] * 2
    [(quick, source), (full, _)] = controller.messages
    assert isinstance(quick, DecodedMessage) and quick == full
    assert (quick.method, quick.uri, quick.header("CSeq"), source) == ("OPTIONS", "sip:x@192.0.2.10",
                                                                        "1 OPTIONS", PHONE)


def test_malformedCountedNothingRaises():
    """
    An undecodable datagram is counted and dropped; a controller bug is
    logged and does not raise out of C{datagramReceived}.
    """
    protocol, controller, _ = connected()
    with capturedLogs() as events:
        protocol.datagramReceived(b"\x00garbage", PHONE)
        protocol.datagramReceived(OPTIONS.replace(b"OPTIONS", b"BOOM"), PHONE)
    assert protocol.malformed == 1 and controller.counts == ["malformed"]
    assert [e["log_level"] for e in events if "log_failure" in e] == [LogLevel.critical]


def finalResponse(branch: str, status: str = "200 OK") -> bytes:
    """
    The phone's final response to a NOTIFY of ours that carried C{branch}.
    """
    return (f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport\r\n"
            "Call-ID: 1@x\r\nCSeq: 2 NOTIFY\r\nContent-Length: 0\r\n\r\n").encode()


def test_finalResponseByBranchAlone():
    """
    A final response (a 200 or not) is first offered to the controller by
    its branch alone; one it acknowledges goes no further, one it does not
    (an unknown branch, a refused source) is decoded and handed to
    C{messageReceived} as before, carrying that branch.
    """
    protocol, controller, _ = connected()
    ours, busy, unknown = newBranch(), newBranch(), newBranch()
    controller.pending = {ours, busy}
    protocol.datagramReceived(finalResponse(ours), PHONE)
    protocol.datagramReceived(finalResponse(busy, "486 Busy Here"), PHONE)
    assert controller.acknowledgements == [(ours, PHONE), (busy, PHONE)] and controller.messages == []
    protocol.datagramReceived(finalResponse(unknown), PHONE)
    protocol.datagramReceived(finalResponse(ours), PHONE)  # acknowledged already
    assert controller.acknowledgements[2:] == [(unknown, PHONE), (ours, PHONE)]
    assert [(m.code, m.branch, source) for m, source in controller.messages] == [
        (200, unknown, PHONE), (200, ours, PHONE)]
    assert controller.counts == [] and protocol.malformed == 0


def test_notOfferedByBranch():
    """
    A provisional response, a request, a malformed datagram, and anything
    with C{quick=False}, is not offered by branch: it is decoded and handed
    over (or counted as malformed) as before.
    """
    protocol, controller, _ = connected()
    branch = newBranch()
    controller.pending = {branch}
    protocol.datagramReceived(finalResponse(branch, "180 Ringing"), PHONE)
    protocol.datagramReceived(b"SIP/2.0 2x0 OK\r\nVia: SIP/2.0/UDP h;branch=" + branch.encode() + b"\r\n\r\n", PHONE)
    protocol.datagramReceived(OPTIONS, PHONE)
    assert controller.acknowledgements == []
    assert [m.code for m, _ in controller.messages] == [180, None]
    assert protocol.malformed == 1 and controller.counts == ["malformed"]
    full, controller, _ = connected(decoder=Decoder(quick=False))
    controller.pending = {branch}
    full.datagramReceived(finalResponse(branch), PHONE)
    assert controller.acknowledgements == [] and controller.pending == {branch}
    [(message, _)] = controller.messages
    assert message.code == 200 and message.vias[0].endswith(f"branch={branch};rport")


def test_onSIPPort():
    """
    On a L{SIPPort} on 127.0.0.1, the controller's replies to a batch and
    a timer's write reach the phone; stopping the port detaches the
    controller.
    """
    reactor = FakeFDReactor()
    controller = FakeController()
    protocol = SIPProtocol(controller, "224.0.1.75", ("127.0.0.1",))
    port = SIPPort(0, protocol, "127.0.0.1", reactor=reactor, pollInterval=0)
    port.startListening()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        phone.settimeout(2)
        assert controller.attached[1] == port.getHost().port
        assert controller.attached[0]("127.0.0.1") == "127.0.0.1"
        for data in (OPTIONS, OPTIONS):
            phone.sendto(data, ("127.0.0.1", port.getHost().port))
        assert select.select([port.socket], [], [], 2)[0]
        port.doRead()
        controller.send(b"later", phone.getsockname())
        assert [phone.recvfrom(100)[0] for _ in range(3)] == [b"ok", b"ok", b"later"]
    port.stopListening()
    reactor.advance(0)
    assert controller.detached

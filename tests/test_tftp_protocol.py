"""
Tests for L{snomprov.tftp.protocol}: the listening protocol and the
per-transfer state machine, on fake UDP ports and a L{Clock}.
"""

import pytest
from twisted.internet.defer import Deferred, fail, succeed
from twisted.logger import LogLevel, capturedLogs

from snomprov.tftp.packet import (
    ACK,
    DATA,
    ERROR,
    OACK,
    RRQ,
    WRQ,
    ErrorCode,
    OptionLimits,
    fromNetascii,
)
from snomprov.tftp.protocol import BytesSource, TFTPServerProtocol, TFTPSource

from tests.tftp_support import FakeUDPReactor

CLIENT = ("192.0.2.7", 2000)
STRANGER = ("192.0.2.7", 2001)
PROFILE = bytes(range(256)) * 5  # 1280 octets: blocks of 512, 512, 256


class Server:
    """
    A L{TFTPServerProtocol} on a fake reactor serving C{files}, recording
    what the reader was asked and every C{onTransferDone} call.
    """

    def __init__(self, files=None, reader=None, **kwargs):
        self.files = {"spa942.cfg": PROFILE} if files is None else files
        self.asked = []
        self.done = []
        self.reactor = FakeUDPReactor()
        kwargs.setdefault("perClientRate", None)
        self.protocol = TFTPServerProtocol(
            reader or self.read,
            self.reactor,
            listenInterface="127.0.0.1",
            onTransferDone=lambda *args: self.done.append(args),
            **kwargs,
        )
        self.listen = self.reactor.listenUDP(69, self.protocol, interface="127.0.0.1")

    def read(self, name, address):
        self.asked.append((name, address))
        data = self.files.get(name)
        return succeed(None if data is None else BytesSource(data))

    def request(self, packet, client=CLIENT):
        """
        Send a request to the listening port; return the new transfer port,
        or L{None} if none was opened.
        """
        before = len(self.reactor.ports)
        self.listen.receive(packet, client)
        return self.reactor.ports[-1] if len(self.reactor.ports) > before else None


def fetch(port, client=CLIENT):
    """
    Act as a lock-step or windowed client: ACK the last DATA of each burst
    until a short block arrives; return the blocks' payloads joined and the
    wire block numbers seen.
    """
    payload, numbers = [], []
    while True:
        sent = port.sent()
        assert sent and all(isinstance(p, DATA) for p, a in sent), sent
        for packet, address in sent:
            assert address == client
            payload.append(packet.data)
            numbers.append(packet.block)
        port.receive(ACK(numbers[-1]), client)
        if not port.listening:
            return b"".join(payload), numbers


def test_bytesSourceIsASource():
    """
    L{BytesSource} provides the L{TFTPSource} protocol and reads slices.
    """
    source = BytesSource(b"abcdef")
    assert isinstance(source, TFTPSource)
    assert source.size == 6
    assert bytes(source.read(4, 10)) == b"ef"


def test_plainReadFromNewPort():
    """
    An RRQ without options is answered with DATA 1 from a new port bound to
    the listen interface, the file arrives whole, the port is closed and the
    outcome is reported as complete.
    """
    server = Server()
    port = server.request(RRQ("/spa942.cfg", "octet"))
    assert port is not server.listen and port.interface == "127.0.0.1"
    assert server.listen.written == []
    data, numbers = fetch(port)
    assert data == PROFILE and numbers == [1, 2, 3]
    assert not port.listening
    assert server.asked == [("spa942.cfg", CLIENT)]
    assert server.done == [("spa942.cfg", CLIENT, len(PROFILE), "complete")]
    assert server.protocol.transfers == {}


def test_fileNotFound():
    """
    A name the reader does not know gets ERROR 1 from the listening port and
    no transfer port is opened.
    """
    server = Server()
    assert server.request(RRQ("spa000.cfg", "octet")) is None
    assert server.listen.sent() == [
        (ERROR(ErrorCode.FILE_NOT_FOUND, "File not found"), CLIENT)
    ]
    assert server.done == [("spa000.cfg", CLIENT, 0, "error:File not found")]


@pytest.mark.parametrize(
    "packet,code",
    [
        (WRQ("spa942.cfg", "octet"), ErrorCode.ACCESS_VIOLATION),
        (RRQ("spa942.cfg", "mail"), ErrorCode.ILLEGAL_OPERATION),
        (RRQ("../etc/passwd", "octet"), ErrorCode.ACCESS_VIOLATION),
        (RRQ("a\\..\\b", "octet"), ErrorCode.ACCESS_VIOLATION),
        (RRQ("spa\n942.cfg", "octet"), ErrorCode.ACCESS_VIOLATION),
    ],
)
def test_refusedRequests(packet, code):
    """
    Writes, unsupported modes and names with C{..} segments or control
    characters are refused with the matching error, without asking the reader.
    """
    server = Server()
    assert server.request(packet) is None
    [(reply, address)] = server.listen.sent()
    assert isinstance(reply, ERROR) and reply.code == code and address == CLIENT
    assert server.asked == []
    assert server.done[0][3].startswith("error:")


def test_optionsAcknowledgedBeforeData():
    """
    Accepted options are sent in an OACK; DATA 1, sized by the negotiated
    C{blksize}, follows only after ACK 0.
    """
    server = Server()
    port = server.request(
        RRQ("spa942.cfg", "octet", {"tsize": "0", "blksize": "1024", "rollover": "0"})
    )
    assert port.sent() == [(OACK({"tsize": str(len(PROFILE)), "blksize": "1024"}), CLIENT)]
    port.receive(ACK(0), CLIENT)
    [(first, _)] = port.sent()
    assert first == DATA(1, PROFILE[:1024])
    port.receive(ACK(1), CLIENT)
    assert port.sent() == [(DATA(2, PROFILE[1024:]), CLIENT)]


def test_oackRetransmittedOnTimeout():
    """
    An unanswered OACK is sent again when the retransmission timer fires.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet", {"tsize": "0"}))
    port.sent()
    server.reactor.advance(1.0)
    assert port.sent() == [(OACK({"tsize": str(len(PROFILE))}), CLIENT)]


def test_blksizeClampedToLimit():
    """
    A C{blksize} above the server's limit is answered with the limit, and
    blocks have that size.
    """
    server = Server(limits=OptionLimits(maxBlksize=300))
    port = server.request(RRQ("spa942.cfg", "octet", {"blksize": "65464"}))
    assert port.sent() == [(OACK({"blksize": "300"}), CLIENT)]
    port.receive(ACK(0), CLIENT)
    assert port.sent() == [(DATA(1, PROFILE[:300]), CLIENT)]


def test_optionRefusedWithError8():
    """
    An option value the RFCs do not allow is refused with ERROR 8 and no
    transfer starts.
    """
    server = Server()
    assert server.request(RRQ("spa942.cfg", "octet", {"blksize": "4"})) is None
    [(reply, _)] = server.listen.sent()
    assert reply.code == ErrorCode.OPTION_REFUSED
    assert server.done[0][3].startswith("error:blksize")


def test_netasciiConvertsAndReportsConvertedSize():
    """
    In netascii mode the content is converted (LF to CR LF) and C{tsize}
    reports the converted length.
    """
    text = b"Line_Enable_1_=Yes\nProxy_1_=pbx\r\n" * 40
    server = Server(files={"a.cfg": text})
    port = server.request(RRQ("a.cfg", "netascii", {"tsize": "0"}))
    [(oack, _)] = port.sent()
    port.receive(ACK(0), CLIENT)
    data, _ = fetch(port)
    assert fromNetascii(data) == text
    assert oack.options["tsize"] == str(len(data)) != str(len(text))


@pytest.mark.parametrize("size,blocks", [(1024, [512, 512, 0]), (0, [0])])
def test_emptyLastBlock(size, blocks):
    """
    A file whose size is a multiple of the block size (including an empty
    file) ends with an empty DATA block.
    """
    server = Server(files={"f": b"x" * size})
    port = server.request(RRQ("f", "octet"))
    sizes = []
    while port.listening:
        [(packet, _)] = port.sent()
        sizes.append(len(packet.data))
        port.receive(ACK(packet.block), CLIENT)
    assert sizes == blocks


def test_blockNumbersWrapToZero():
    """
    Past block 65535 the wire block number wraps to 0 and the transfer goes
    on; a 600 000-octet file at C{blksize} 8 (75 001 blocks) arrives intact.
    """
    content = bytes(i * 7 % 251 for i in range(600_000))
    server = Server(files={"fw.bin": content})
    port = server.request(RRQ("fw.bin", "octet", {"blksize": "8"}))
    port.sent()
    port.receive(ACK(0), CLIENT)
    data, numbers = fetch(port)
    assert data == content
    assert len(numbers) == 75_001
    assert numbers[65534:65538] == [65535, 0, 1, 2]
    assert server.done[-1][2:] == (600_000, "complete")


def test_duplicateAckDoesNotResend():
    """
    A duplicate ACK, or an ACK for an older block, sends nothing (no
    Sorcerer's Apprentice); only the first ACK of a block advances.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    port.receive(ACK(1), CLIENT)
    assert [p.block for p, _ in port.sent()] == [2]
    port.receive(ACK(1), CLIENT)
    port.receive(ACK(0), CLIENT)
    port.receive(ACK(9), CLIENT)  # a block never sent
    assert port.sent() == []


def test_retransmitOnTimeoutWithBackoff():
    """
    Without a negotiated timeout the last unacknowledged block is resent after
    1 s, then after 2 s more, doubling.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    server.reactor.advance(0.999)
    assert port.sent() == []
    server.reactor.advance(0.001)
    assert port.sent() == [(DATA(1, PROFILE[:512]), CLIENT)]
    server.reactor.advance(1.999)
    assert port.sent() == []
    server.reactor.advance(0.001)
    assert [p.block for p, _ in port.sent()] == [1]


@pytest.mark.parametrize("beforeAck", [0.9, 1.0])
def test_ackRestartsBaseTimeout(beforeAck):
    """
    After an advancing ACK the next retransmission comes exactly the base
    timeout later, both when the block was on time (the deadline moves later)
    and when it had timed out once (the doubled delay is reset).
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    server.reactor.advance(beforeAck)
    port.receive(ACK(1), CLIENT)
    port.sent()
    server.reactor.advance(0.999)
    assert port.sent() == []
    server.reactor.advance(0.001)
    assert [p.block for p, _ in port.sent()] == [2]


def test_negotiatedTimeoutIsFixed():
    """
    A negotiated C{timeout} is used for every retransmission.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet", {"timeout": "3"}))
    port.sent()
    port.receive(ACK(0), CLIENT)
    port.sent()
    for _ in range(3):
        server.reactor.advance(2.9)
        assert port.sent() == []
        server.reactor.advance(0.1)
        assert [p.block for p, _ in port.sent()] == [1]


def test_giveUpAfterMaxTimeouts():
    """
    After C{maxTimeouts} consecutive timeouts the transfer is abandoned, its
    port closed, no timer left behind, and the outcome reported as timeout.
    """
    server = Server(maxTimeouts=3)
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.receive(ACK(1), CLIENT)
    port.sent()
    server.reactor.pump([1, 2])
    assert len(port.sent()) == 2
    server.reactor.advance(4)
    assert port.sent() == [] and not port.listening
    assert server.reactor.getDelayedCalls() == []
    assert server.done == [("spa942.cfg", CLIENT, 512, "timeout")]


def test_progressResetsTimeoutCount():
    """
    An advancing ACK resets the consecutive-timeout count, so a slow but
    progressing client is not given up.
    """
    server = Server(maxTimeouts=2)
    port = server.request(RRQ("spa942.cfg", "octet"))
    server.reactor.advance(1)
    port.receive(ACK(1), CLIENT)
    server.reactor.advance(1)
    port.receive(ACK(2), CLIENT)
    server.reactor.advance(1)
    port.receive(ACK(3), CLIENT)
    assert server.done[-1][3] == "complete"


def test_strangerGetsUnknownTransferId():
    """
    A packet from another port is answered with ERROR 5 to that port and the
    transfer continues with the real client.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    port.receive(ACK(1), STRANGER)
    assert port.sent() == [
        (ERROR(ErrorCode.UNKNOWN_TRANSFER_ID, "Unknown transfer ID"), STRANGER)
    ]
    assert port.listening
    port.receive(ACK(1), CLIENT)
    assert port.sent() == [(DATA(2, PROFILE[512:1024]), CLIENT)]


def test_clientErrorEndsTransfer():
    """
    An ERROR from the client ends the transfer without a reply and reports
    the client's message.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet", {"blksize": "1024"}))
    port.sent()
    port.receive(ERROR(8, "blksize too big"), CLIENT)
    assert port.sent() == [] and not port.listening
    assert server.done == [
        ("spa942.cfg", CLIENT, 0, "error:client sent ERROR 8: blksize too big")
    ]


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"\x00\x09xx", b"\x00\x04\x00"])
def test_malformedOnTransferPortIgnored(garbage):
    """
    Malformed datagrams from the client on a transfer port are dropped and
    the transfer goes on.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    port.receive(garbage, CLIENT)
    port.receive(RRQ("x", "octet"), CLIENT)
    assert port.sent() == [] and port.listening


def test_malformedOnListenPortDroppedWithLimitedLogs():
    """
    Malformed datagrams on the listening port are dropped without a reply or
    an exception, and their debug logs are rate-limited.
    """
    server = Server()
    with capturedLogs() as events:
        for _ in range(100):
            server.listen.receive(b"\x00\x01no-terminator", CLIENT)
    assert server.listen.written == [] and len(server.reactor.ports) == 1
    malformed = [e for e in events if "malformed" in e["log_format"]]
    assert 1 <= len(malformed) <= 10
    assert all(e["log_level"] == LogLevel.debug for e in malformed)


@pytest.mark.parametrize("stray", [ACK(1), DATA(1, b"x"), ERROR(0, "x"), OACK({})])
def test_strayPacketsOnListenPortIgnored(stray):
    """
    ACK, DATA, ERROR and OACK arriving at the listening port get no answer
    (tftp-hpa sends ACKs there after an ERROR).
    """
    server = Server()
    server.listen.receive(stray, CLIENT)
    assert server.listen.written == [] and server.done == []


def test_retransmittedRequestIgnored():
    """
    A second RRQ from the same address and port while its transfer runs does
    not open a second transfer.
    """
    server = Server()
    server.request(RRQ("spa942.cfg", "octet"))
    assert server.request(RRQ("spa942.cfg", "octet")) is None
    assert server.listen.written == []


def test_concurrentTransferLimit():
    """
    Beyond C{maxTransfers} a request waits, silent, and its resends are
    ignored; when a transfer ends the oldest waiting one starts.
    """
    server = Server(maxTransfers=2)
    first = server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.1", 1))
    server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.2", 1))
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.3", 1)) is None
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.4", 1)) is None
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.3", 1)) is None
    assert server.listen.sent() == []
    assert (server.protocol.waited, server.protocol.dropped) == (2, 0)
    before = len(server.reactor.ports)
    fetch(first, ("192.0.2.1", 1))
    [started] = server.reactor.ports[before:]
    assert fetch(started, ("192.0.2.3", 1))[0] == PROFILE
    assert [a for _, a, _, outcome in server.done if outcome == "complete"] == [("192.0.2.1", 1), ("192.0.2.3", 1)]
    assert set(server.protocol.transfers) == {("192.0.2.2", 1), ("192.0.2.4", 1)}


def test_waitingRequestsBounded():
    """
    With C{maxWaiting} requests waiting, another is dropped without an
    answer; its resend is taken once there is room.
    """
    server = Server(maxTransfers=1, maxWaiting=1)
    first = server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.1", 1))
    server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.2", 1))
    server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.3", 1))
    assert server.listen.sent() == []
    assert (server.protocol.waited, server.protocol.dropped) == (1, 1)
    fetch(first, ("192.0.2.1", 1))
    server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.3", 1))
    assert server.protocol.waited == 2
    assert set(server.protocol.transfers) == {("192.0.2.2", 1)}


def test_transfersPerClient():
    """
    Beyond C{transfersPerClient} transfers running or waiting for one
    client host, its next request is answered with ERROR 0 (not silence);
    other hosts still get theirs, and an ended transfer frees a place.
    """
    waiting = Deferred()

    def reader(name, address):
        return waiting if name == "slow" else succeed(BytesSource(PROFILE))

    server = Server(reader=reader, transfersPerClient=2, perClientRate=None)
    first = server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.1", 1))
    server.request(RRQ("slow", "octet"), ("192.0.2.1", 2))
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.1", 3)) is None
    assert server.listen.sent() == [
        (ERROR(ErrorCode.NOT_DEFINED, "Too many transfers from this address"), ("192.0.2.1", 3))
    ]
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.2", 1)) is not None
    fetch(first, ("192.0.2.1", 1))
    assert server.request(RRQ("spa942.cfg", "octet"), ("192.0.2.1", 3)) is not None


def test_pendingLookupsCountTowardsLimit():
    """
    Requests still waiting for the reader occupy a transfer slot: the next
    request waits for it.
    """
    waiting = Deferred()
    server = Server(reader=lambda name, address: waiting, maxTransfers=1)
    server.request(RRQ("a", "octet"), ("192.0.2.1", 1))
    server.request(RRQ("b", "octet"), ("192.0.2.2", 1))
    assert server.listen.sent() == [] and server.protocol.waited == 1
    waiting.callback(BytesSource(b"late"))
    assert [p for p, _ in server.reactor.ports[-1].sent()] == [DATA(1, b"late")]


def test_perClientRateLimit():
    """
    A client host sending requests faster than C{perClientRate} (beyond its
    burst) is ignored until its bucket refills; other hosts are unaffected.
    """
    server = Server(perClientRate=1.0, perClientBurst=2)
    for port in (1, 2, 3):
        server.listen.receive(RRQ("nope", "octet"), ("192.0.2.9", port))
    server.listen.receive(RRQ("nope", "octet"), ("192.0.2.10", 1))
    assert [a for _, a in server.listen.sent()] == [
        ("192.0.2.9", 1),
        ("192.0.2.9", 2),
        ("192.0.2.10", 1),
    ]
    server.reactor.advance(1)
    server.listen.receive(RRQ("nope", "octet"), ("192.0.2.9", 4))
    assert [a for _, a in server.listen.sent()] == [("192.0.2.9", 4)]


def test_windowSentAndAdvancedOnLastAck():
    """
    With C{windowsize} 2 two blocks are sent per ACK; the ACK of the window's
    last block releases the next window.
    """
    server = Server(files={"f": bytes(100)})
    port = server.request(RRQ("f", "octet", {"blksize": "10", "windowsize": "2"}))
    port.sent()
    port.receive(ACK(0), CLIENT)
    assert [p.block for p, _ in port.sent()] == [1, 2]
    port.receive(ACK(2), CLIENT)
    assert [p.block for p, _ in port.sent()] == [3, 4]
    port.receive(ACK(4), CLIENT)
    assert [p.block for p, _ in port.sent()] == [5, 6]


def test_windowRestartsAfterMidWindowAck():
    """
    An ACK for a block inside the window (the client saw a gap) makes the
    next window start right after that block (RFC 7440).
    """
    server = Server(files={"f": bytes(100)})
    port = server.request(RRQ("f", "octet", {"blksize": "10", "windowsize": "4"}))
    port.receive(ACK(0), CLIENT)
    port.sent()
    port.receive(ACK(2), CLIENT)
    assert [p.block for p, _ in port.sent()] == [3, 4, 5, 6]
    port.receive(ACK(2), CLIENT)
    assert port.sent() == []


def test_windowRetransmittedFromFirstUnacked():
    """
    On timeout the whole window is resent starting at the first
    unacknowledged block.
    """
    server = Server(files={"f": bytes(100)})
    port = server.request(RRQ("f", "octet", {"blksize": "10", "windowsize": "3"}))
    port.receive(ACK(0), CLIENT)
    port.receive(ACK(1), CLIENT)
    port.sent()
    server.reactor.advance(1)
    assert [p.block for p, _ in port.sent()] == [2, 3, 4]


def test_windowedTransferEndsWithShortBlock():
    """
    A windowed transfer stops at the last block even mid-window and completes
    on its ACK.
    """
    content = bytes(range(95))
    server = Server(files={"f": content})
    port = server.request(RRQ("f", "octet", {"blksize": "10", "windowsize": "4"}))
    port.sent()
    port.receive(ACK(0), CLIENT)
    data, numbers = fetch(port)
    assert data == content and numbers == list(range(1, 11))
    assert server.done[-1][2:] == (95, "complete")


def test_readerFailureIsInternalError():
    """
    A reader that fails is logged and the client gets ERROR 0.
    """
    server = Server(reader=lambda name, address: fail(RuntimeError("db down")))
    with capturedLogs() as events:
        server.request(RRQ("spa942.cfg", "octet"))
    assert server.listen.sent() == [(ERROR(0, "Internal error"), CLIENT)]
    assert any(e.get("log_failure") is not None for e in events)


def test_readerRaisingSynchronously():
    """
    A reader that raises instead of returning a Deferred does not make
    L{datagramReceived} raise.
    """

    def reader(name, address):
        raise KeyError(name)

    server = Server(reader=reader)
    with capturedLogs():
        server.request(RRQ("spa942.cfg", "octet"))
    assert server.listen.sent() == [(ERROR(0, "Internal error"), CLIENT)]


def test_onTransferDoneRaisingIsContained():
    """
    An exception from the C{onTransferDone} callback is logged and does not
    escape into the protocol.
    """
    server = Server()
    server.protocol._onTransferDone = lambda *args: 1 / 0
    with capturedLogs() as events:
        server.request(RRQ("missing", "octet"))
    assert any(e.get("log_failure") is not None for e in events)


def test_noFreePort():
    """
    When no transfer port can be bound the client gets ERROR 0 and no transfer
    is recorded.
    """
    server = Server()
    server.reactor.refuseListen = True
    with capturedLogs():
        server.request(RRQ("spa942.cfg", "octet"))
    assert server.listen.sent() == [(ERROR(0, "Server busy, try later"), CLIENT)]
    assert server.protocol.transfers == {}


def test_sendFailureRecoveredByTimer():
    """
    A write refused by the kernel (full buffer) counts as a lost packet: the
    retransmission timer sends it again.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    port.failWrites = BlockingIOError
    port.receive(ACK(1), CLIENT)
    port.failWrites = None
    assert port.sent() == []
    server.reactor.advance(1)
    assert [p.block for p, _ in port.sent()] == [2]


def test_stopAllAbortsTransfersAndPendingLookups():
    """
    L{TFTPServerProtocol.stopAll} sends ERROR 0 to running transfers, closes
    their ports, cancels their timers, and ignores readers answering later.
    """
    waiting = Deferred()
    files = {"spa942.cfg": PROFILE}

    def reader(name, address):
        return waiting if name == "slow" else succeed(BytesSource(files[name]))

    server = Server(reader=reader)
    port = server.request(RRQ("spa942.cfg", "octet"))
    port.sent()
    server.request(RRQ("slow", "octet"), STRANGER)
    server.protocol.stopAll()
    assert port.sent() == [(ERROR(0, "Server shutting down"), CLIENT)]
    assert not port.listening and server.reactor.getDelayedCalls() == []
    assert server.done == [("spa942.cfg", CLIENT, 0, "error:Server shutting down")]
    assert server.listen.written == [] and len(server.reactor.ports) == 2
    server.listen.receive(RRQ("spa942.cfg", "octet"), ("192.0.2.99", 1))
    assert len(server.reactor.ports) == 2


def test_stopListeningStopsAll():
    """
    Stopping the listening port aborts the running transfers.
    """
    server = Server()
    port = server.request(RRQ("spa942.cfg", "octet"))
    server.listen.stopListening()
    assert not port.listening

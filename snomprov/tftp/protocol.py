# -*- test-case-name: tests.test_tftp_protocol -*-
"""
A read-only TFTP server on Twisted.

L{TFTPServerProtocol} listens on the well-known port, decodes requests and asks
an injected C{reader} for the content; each accepted read gets its own
ephemeral UDP port served by a L{TransferProtocol} (RFC 1350 transfer IDs).
Names are handed to the reader as text and never touch the file system.

Every timer goes through the injected reactor, so tests drive time with
L{twisted.internet.task.Clock}.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Callable, Optional, Protocol, runtime_checkable

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import DatagramProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from snomprov.eventtext import FIELD_LENGTH, safeText
from snomprov.ratelimit import TokenBuckets
from snomprov.tftp.quietport import listenQuietly
from snomprov.tftp.packet import (
    DEFAULT_BLKSIZE,
    ERROR,
    OACK,
    RRQ,
    WRQ,
    ErrorCode,
    OptionLimits,
    TFTPOptionError,
    TFTPPacketError,
    ackBlock,
    buildPacket,
    dataPacket,
    negotiate,
    parsePacket,
    toNetascii,
)

__all__ = [
    "TFTPSource",
    "BytesSource",
    "Reader",
    "TransferDone",
    "TFTPServerProtocol",
    "TransferProtocol",
]

Address = tuple[str, int]


@runtime_checkable
class TFTPSource(Protocol):
    """
    The content of one transfer.

    @ivar size: the number of octets.
    """

    size: int

    def read(self, offset: int, length: int) -> bytes:
        """
        Return up to C{length} octets starting at C{offset} (fewer only at the
        end).  Any bytes-like object will do.
        """


class BytesSource:
    """
    A L{TFTPSource} over bytes held in memory.  Reads are zero-copy slices.
    """

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(bytes(data))
        self.size = len(self._view)

    def read(self, offset: int, length: int) -> memoryview:
        return self._view[offset : offset + length]


class FileSource:
    """
    A L{TFTPSource} over a file (a firmware image), mapped read-only: reads
    are zero-copy slices, the pages shared by every transfer of it.
    """

    def __init__(self, path: str) -> None:
        import mmap

        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            self._view = memoryview(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)) if size else memoryview(b"")
        self.size = size

    def read(self, offset: int, length: int) -> memoryview:
        return self._view[offset : offset + length]


#: C{reader(name, clientAddress)} fires with a source, or L{None} for "not found".
Reader = Callable[[str, Address], "Deferred[Optional[TFTPSource]]"]
#: C{onTransferDone(name, clientAddress, bytesSent, outcome)}.
TransferDone = Callable[[str, Address, int, str], None]


def _badName(name: str) -> bool:
    """
    Whether a requested name is refused outright: control characters or a
    C{..} path segment.  (Names never reach the file system; this keeps odd
    names out of the readers and the logs.)
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return True
    return ".." in name.replace("\\", "/").split("/")


class TransferProtocol(DatagramProtocol):
    """
    One read transfer on its own ephemeral port.

    Blocks are numbered from 1 internally without bound and put on the wire
    modulo 65536 (so block 65535 is followed by block 0).  A window of
    C{windowsize} blocks is sent; an ACK that advances moves the window to the
    block after the acknowledged one (RFC 7440); a duplicate or stale ACK is
    ignored (no Sorcerer's Apprentice); only a timeout retransmits, from the
    first unacknowledged block.

    @ivar clientAddress: the client's (host, port) transfer ID.
    @ivar bytesSent: the octets the client has acknowledged so far.
    """

    _log = Logger()
    noisy = False  # the server logs one line per transfer

    def __init__(
        self,
        name: str,
        source: TFTPSource,
        clientAddress: Address,
        reactor,
        onDone: Callable[["TransferProtocol", str], None],
        blksize: int = DEFAULT_BLKSIZE,
        windowsize: int = 1,
        timeout: float = 1.0,
        fixedTimeout: bool = False,
        maxTimeouts: int = 5,
        oack: Optional[dict[str, str]] = None,
    ) -> None:
        """
        @param onDone: called once with this transfer and its outcome
            (C{"complete"}, C{"timeout"} or C{"error:<message>"}).
        @param timeout: seconds before the first retransmission.
        @param fixedTimeout: keep C{timeout} for every retry (the client
            negotiated it) instead of doubling it up to 8 times its value.
        @param maxTimeouts: consecutive timeouts after which the transfer is
            abandoned.
        @param oack: the options to acknowledge before DATA 1, or L{None}.
        """
        self.name = name
        self.clientAddress = clientAddress
        self._source = source
        self._reactor = reactor
        self._onDone = onDone
        self._blksize = blksize
        self._windowsize = windowsize
        self._timeout = timeout
        self._fixedTimeout = fixedTimeout
        self._maxTimeouts = maxTimeouts
        self._oack = buildPacket(OACK(oack)) if oack else None
        self._lastBlock = source.size // blksize + 1
        # Block 0 stands for the OACK; -1 means "not even that acknowledged".
        self._acked = -1 if self._oack else 0
        self._sentUpTo = 0
        self._timeouts = 0
        self._timer: Optional[IDelayedCall] = None
        self._deadline = 0.0
        self.finished = False

    @property
    def bytesSent(self) -> int:
        return min(max(self._acked, 0) * self._blksize, self._source.size)

    def startProtocol(self) -> None:
        self._sendWindow(self._acked + 1)

    def stopProtocol(self) -> None:
        self._cancelTimer()

    def _send(self, datagram: bytes, address: Address) -> None:
        try:
            self.transport.write(datagram, address)
        except OSError as e:
            # A full socket buffer is a lost packet: the timer recovers it.
            self._log.debug("send to {address} failed: {error}", address=address, error=e)

    def _sendWindow(self, first: int) -> None:
        """
        Send blocks C{first} up to the window's end (block 0 being the OACK),
        then arm the timer.
        """
        if first == 0:
            self._send(self._oack, self.clientAddress)
        else:
            last = min(first + self._windowsize - 1, self._lastBlock)
            size, read, address = self._blksize, self._source.read, self.clientAddress
            for block in range(first, last + 1):
                self._send(
                    dataPacket(block & 0xFFFF, read((block - 1) * size, size)), address
                )
            self._sentUpTo = max(self._sentUpTo, last)
        self._armTimer()

    def _armTimer(self) -> None:
        """
        Move the retransmission deadline.  The pending call is only moved when
        it must fire sooner; otherwise L{_timerFired} re-arms itself for the
        remainder, which spares a heap update for every block.
        """
        delay = self._timeout
        if not self._fixedTimeout:
            delay *= 2 ** min(self._timeouts, 3)
        self._deadline = self._reactor.seconds() + delay
        if self._timer is None or not self._timer.active():
            self._timer = self._reactor.callLater(delay, self._timerFired)
        elif self._timer.getTime() > self._deadline:
            self._timer.reset(delay)

    def _timerFired(self) -> None:
        remaining = self._deadline - self._reactor.seconds()
        if remaining > 0:
            self._timer = self._reactor.callLater(remaining, self._timerFired)
        else:
            self._timedOut()

    def _cancelTimer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _timedOut(self) -> None:
        self._timer = None
        self._timeouts += 1
        if self._timeouts >= self._maxTimeouts:
            self._finish("timeout")
            return
        self._sendWindow(self._acked + 1)

    def datagramReceived(self, datagram: bytes, address: Address) -> None:
        try:
            self._received(datagram, address)
        except Exception:
            self._log.failure("TFTP transfer of {name} failed", name=self.name)
            self.abort("Internal error")

    def _received(self, datagram: bytes, address: Address) -> None:
        if self.finished:
            return
        if address != self.clientAddress:
            self._send(
                buildPacket(ERROR(ErrorCode.UNKNOWN_TRANSFER_ID, "Unknown transfer ID")),
                address,
            )
            return
        block = ackBlock(datagram)
        if block is not None:
            self._ackReceived(block)
            return
        try:
            packet = parsePacket(datagram)
        except TFTPPacketError as e:
            self._log.debug("malformed packet from {address}: {error}", address=address, error=safeText(str(e)))
            return
        if isinstance(packet, ERROR):
            self._finish(f"error:client sent ERROR {packet.code}: {packet.message}")
        else:
            self._log.debug("ignored {packet} from {address}", packet=safeText(repr(packet)), address=address)

    def _ackReceived(self, wireBlock: int) -> None:
        """
        Map a 16-bit ACK onto the window sent so far and act on it.
        """
        advance = (wireBlock - self._acked) & 0xFFFF
        block = self._acked + advance
        if advance == 0 or block > self._sentUpTo:
            return  # duplicate, stale or from the future: never resend on it
        self._acked = block
        self._timeouts = 0
        if block >= self._lastBlock:
            self._finish("complete")
        else:
            self._sendWindow(block + 1)

    def _finish(self, outcome: str) -> None:
        if self.finished:
            return
        self.finished = True
        self._cancelTimer()
        self.transport.stopListening()
        self._onDone(self, outcome)

    def abort(self, message: str) -> None:
        """
        Tell the client the transfer is over (ERROR 0) and end it.
        """
        if not self.finished:
            self._send(buildPacket(ERROR(ErrorCode.NOT_DEFINED, message)), self.clientAddress)
            self._finish(f"error:{message}")


class TFTPServerProtocol(DatagramProtocol):
    """
    The listening side of the read-only TFTP server.

    RRQs are checked (rate, name, mode), the content is fetched from
    C{reader}, options are negotiated, and a L{TransferProtocol} is started
    on C{reactor.listenUDP(0, ..., interface=listenInterface)}.  A request
    that finds C{maxTransfers} under way waits, in arrival order, until one
    ends (a phone told "busy" would give up until its next resync, often an
    hour later); one that finds C{maxWaiting} waiting too is dropped, as if
    lost, and the client's resend tries again.  WRQs get ERROR 2; stray
    ACK/DATA/ERROR/OACK on this port and malformed datagrams are dropped.
    Nothing raises out of L{datagramReceived}.

    @ivar transfers: the running transfers keyed by client address.
    @ivar waited: requests that had to wait for a transfer to end.
    @ivar dropped: requests dropped with C{maxWaiting} waiting.
    """

    _log = Logger()

    def __init__(
        self,
        reader: Reader,
        reactor,
        maxTransfers: int = 100,
        perClientRate: Optional[float] = 10.0,
        listenInterface: str = "",
        onTransferDone: Optional[TransferDone] = None,
        limits: OptionLimits = OptionLimits(),
        maxTimeouts: int = 5,
        defaultTimeout: float = 1.0,
        perClientBurst: Optional[float] = None,
        transfersPerClient: Optional[int] = None,
        logFieldLength: int = FIELD_LENGTH,
        maxWaiting: int = 1024,
        allowedSources=None,
    ) -> None:
        """
        @param reader: C{reader(name, clientAddress)} returns a Deferred firing
            with a L{TFTPSource} or L{None} (ERROR 1).  C{name} has its leading
            C{/} removed.
        @param maxTransfers: transfers running or waiting for the reader at
            once; more requests wait (see C{maxWaiting}).
        @param maxWaiting: requests kept waiting for one of C{maxTransfers}
            to end; more are dropped.
        @param perClientRate: requests per second accepted from one client
            host (bursts up to C{perClientBurst}, default twice the rate);
            L{None} for no limit.  Excess requests are dropped silently.
        @param listenInterface: the address transfer ports bind to; use the
            address this protocol listens on, so replies leave from it.
        @param onTransferDone: C{(name, clientAddress, bytesSent, outcome)}
            for every request answered, with C{outcome} one of C{"complete"},
            C{"timeout"} or C{"error:<message>"}; C{bytesSent} counts the
            octets the client acknowledged.
        @param limits: what option negotiation grants.
        @param maxTimeouts: consecutive timeouts before a transfer is given up.
        @param defaultTimeout: seconds before the first retransmission when the
            client negotiated no C{timeout}.
        @param transfersPerClient: transfers one client host may have
            running or waiting at once; more are answered with ERROR 0
            (not dropped: the client learns why).  L{None}: no limit.
        @param logFieldLength: the most characters of a requested name in
            the log (L{snomprov.eventtext.safeText}).
        @param allowedSources: a L{snomprov.networks.NetworkSet}: when not
            empty, requests from hosts outside it are dropped (counted in
            C{notAllowed}); C{None} or empty: every host is answered.
        """
        self._allowedSources = None if allowedSources is None or allowedSources.isEmpty else allowedSources
        self.notAllowed = 0
        self._reader = reader
        self._reactor = reactor
        self.maxTransfers = maxTransfers
        self.transfersPerClient = transfersPerClient
        self._logFieldLength = logFieldLength
        self.maxWaiting = maxWaiting
        self.listenInterface = listenInterface
        self._onTransferDone = onTransferDone
        self._limits = limits
        self._maxTimeouts = maxTimeouts
        self._defaultTimeout = defaultTimeout
        self._rate: Optional[TokenBuckets] = None
        if perClientRate is not None:
            burst = perClientBurst if perClientBurst is not None else 2 * perClientRate
            self._rate = TokenBuckets(perClientRate, max(burst, 1.0), reactor)
        self._malformedLog = TokenBuckets(1.0, 10.0, reactor)
        self._pending: dict[Address, Deferred] = {}
        self.transfers: dict[Address, TransferProtocol] = {}
        # client address -> (name, request), oldest first
        self._waiting: OrderedDict[Address, tuple[str, RRQ]] = OrderedDict()
        self._startingWaiters = False
        self.waited = 0
        self.dropped = 0
        self._stopped = False

    def startProtocol(self) -> None:
        self._stopped = False

    def stopProtocol(self) -> None:
        self.stopAll()

    def stopAll(self) -> None:
        """
        Abort every transfer (the clients get ERROR 0) and forget requests
        still waiting for the reader.  Used at service shutdown.
        """
        self._stopped = True
        self._waiting.clear()
        pending, self._pending = self._pending, {}
        for d in pending.values():
            d.cancel()
        for transfer in list(self.transfers.values()):
            transfer.abort("Server shutting down")

    def datagramReceived(self, datagram: bytes, address: Address) -> None:
        try:
            self._received(datagram, address)
        except Exception:
            self._log.failure("TFTP request from {address} failed", address=address)

    def _received(self, datagram: bytes, address: Address) -> None:
        try:
            packet = parsePacket(datagram)
        except TFTPPacketError as e:
            if self._malformedLog.allow():
                self._log.debug(
                    "dropped malformed TFTP datagram from {address}: {error}",
                    address=address,
                    error=e,
                )
            return
        if not isinstance(packet, (RRQ, WRQ)):
            return  # stray ACK/ERROR to the well-known port (tftp-hpa does this)
        if self._allowedSources is not None and address[0] not in self._allowedSources:
            self.notAllowed += 1
            return
        if self._stopped or address in self._pending or address in self.transfers or address in self._waiting:
            return  # a retransmitted request: the first one is being answered
        if self._rate is not None and not self._rate.allow(address[0]):
            self._log.debug("rate limit: dropped request from {address}", address=address)
            return
        name = packet.filename.lstrip("/")
        if isinstance(packet, WRQ):
            self._refuse(name, address, ErrorCode.ACCESS_VIOLATION, "Read-only server")
        elif packet.mode not in ("octet", "netascii"):
            self._refuse(name, address, ErrorCode.ILLEGAL_OPERATION, "Unsupported mode")
        elif _badName(name):
            self._refuse(name, address, ErrorCode.ACCESS_VIOLATION, "Access violation")
        elif self.transfersPerClient is not None and self._transfersOf(address[0]) >= self.transfersPerClient:
            self._refuse(name, address, ErrorCode.NOT_DEFINED, "Too many transfers from this address")
        elif self._busy() or self._waiting:
            self._wait(name, address, packet)
        else:
            self._lookUp(name, address, packet)

    def _transfersOf(self, host: str) -> int:
        """
        The transfers running, waiting for the reader or waiting for a free
        transfer for C{host}.
        """
        return (sum(1 for address in self._pending if address[0] == host)
                + sum(1 for address in self.transfers if address[0] == host)
                + sum(1 for address in self._waiting if address[0] == host))

    def _busy(self) -> bool:
        return len(self._pending) + len(self.transfers) >= self.maxTransfers

    def _wait(self, name: str, address: Address, request: RRQ) -> None:
        """
        Keep a request until a transfer ends, or drop it when C{maxWaiting}
        wait already.
        """
        if len(self._waiting) >= self.maxWaiting:
            self.dropped += 1
            if self._malformedLog.allow():
                self._log.debug("{waiting} requests waiting: dropped {name} from {address}",
                                waiting=len(self._waiting), name=name, address=address)
            return
        self.waited += 1
        self._waiting[address] = (name, request)
        self._startWaiting()

    def _startWaiting(self) -> None:
        """
        Start the requests waiting, oldest first, while transfers are free.
        """
        if self._startingWaiters:
            return  # the loop below goes on
        self._startingWaiters = True
        try:
            while self._waiting and not self._busy() and not self._stopped:
                address, (name, request) = self._waiting.popitem(last=False)
                self._lookUp(name, address, request)
        finally:
            self._startingWaiters = False

    def _refuse(self, name: str, address: Address, code: int, message: str) -> None:
        self.transport.write(buildPacket(ERROR(code, message)), address)
        self._done(name, address, 0, f"error:{message}")

    def _done(self, name: str, address: Address, bytesSent: int, outcome: str) -> None:
        self._log.info(
            "TFTP {name} to {host}:{port}: {outcome}, {bytesSent} bytes",
            name=safeText(name, self._logFieldLength),
            host=address[0],
            port=address[1],
            address=address,
            outcome=safeText(outcome, self._logFieldLength),
            bytesSent=bytesSent,
        )
        if self._onTransferDone is not None:
            try:
                self._onTransferDone(name, address, bytesSent, outcome)
            except Exception:
                self._log.failure("onTransferDone raised for {name}", name=name)

    def _lookUp(self, name: str, address: Address, request: RRQ) -> None:
        d = maybeDeferred(self._reader, name, address)
        self._pending[address] = d

        def found(source: Optional[TFTPSource]) -> None:
            if self._pending.pop(address, None) is None:
                return  # stopped meanwhile
            if source is None:
                self._refuse(name, address, ErrorCode.FILE_NOT_FOUND, "File not found")
            else:
                self._start(name, address, request, source)
            self._startWaiting()

        def failed(reason: Failure) -> None:
            if self._pending.pop(address, None) is None:
                return
            self._log.failure("TFTP reader failed for {name}", reason, name=name)
            self._refuse(name, address, ErrorCode.NOT_DEFINED, "Internal error")
            self._startWaiting()

        d.addCallbacks(found, failed)
        d.addErrback(lambda f: self._log.failure("TFTP request handling", f))

    def _start(self, name: str, address: Address, request: RRQ, source: TFTPSource) -> None:
        netascii = request.mode == "netascii"
        if netascii:
            source = BytesSource(toNetascii(bytes(source.read(0, source.size))))
        try:
            accepted = negotiate(request.options, self._limits, source.size)
        except TFTPOptionError as e:
            self._refuse(name, address, ErrorCode.OPTION_REFUSED, str(e))
            return
        transfer = TransferProtocol(
            name,
            source,
            address,
            self._reactor,
            self._transferDone,
            blksize=accepted.get("blksize", DEFAULT_BLKSIZE),
            windowsize=accepted.get("windowsize", 1),
            timeout=accepted.get("timeout", self._defaultTimeout),
            fixedTimeout="timeout" in accepted,
            maxTimeouts=self._maxTimeouts,
            oack={k: str(v) for k, v in accepted.items()} or None,
        )
        self.transfers[address] = transfer
        try:
            listenQuietly(self._reactor, transfer, self.listenInterface)
        except Exception as e:
            del self.transfers[address]
            self._log.error("no port for a TFTP transfer: {error}", error=e)
            self._refuse(name, address, ErrorCode.NOT_DEFINED, "Server busy, try later")

    def _transferDone(self, transfer: TransferProtocol, outcome: str) -> None:
        if self.transfers.get(transfer.clientAddress) is transfer:
            del self.transfers[transfer.clientAddress]
        self._done(transfer.name, transfer.clientAddress, transfer.bytesSent, outcome)
        self._startWaiting()

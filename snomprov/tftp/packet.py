# -*- test-case-name: tests.test_tftp_packet -*-
"""
TFTP packets as pure values: parsing, building, option negotiation, netascii.

RFC 1350 (the protocol), RFC 2347 (option extension), RFC 2348 (C{blksize}),
RFC 2349 (C{timeout}, C{tsize}) and RFC 7440 (C{windowsize}).

Nothing here does I/O or imports from C{twisted.internet}.  Parsing raises only
L{TFTPPacketError}; negotiation raises only L{TFTPOptionError}.

Strings on the wire (file names, modes, option names and values, error
messages) are NUL-terminated octets; they are decoded as Latin-1 so that every
octet string maps to exactly one C{str} and back.  Modes and option names are
case-insensitive and are returned in lower case.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Mapping, Union

__all__ = [
    "TFTPPacketError",
    "TFTPOptionError",
    "ErrorCode",
    "RRQ",
    "WRQ",
    "DATA",
    "ACK",
    "ERROR",
    "OACK",
    "Packet",
    "parsePacket",
    "buildPacket",
    "dataPacket",
    "ackBlock",
    "OptionLimits",
    "negotiate",
    "toNetascii",
    "fromNetascii",
    "MIN_BLKSIZE",
    "MAX_BLKSIZE",
    "DEFAULT_BLKSIZE",
]

#: Smallest and largest C{blksize} values RFC 2348 allows, and RFC 1350's size.
MIN_BLKSIZE = 8
MAX_BLKSIZE = 65464
DEFAULT_BLKSIZE = 512

_ENCODING = "latin-1"
_OP_RRQ, _OP_WRQ, _OP_DATA, _OP_ACK, _OP_ERROR, _OP_OACK = range(1, 7)
_SHORT = struct.Struct("!H")
_HEADER = struct.Struct("!HH")


class TFTPPacketError(ValueError):
    """
    Octets that are not a well-formed TFTP packet, or a packet value that cannot
    be put on the wire.
    """


class TFTPOptionError(ValueError):
    """
    A request carries an option value the server refuses (answered with
    ERROR 8, RFC 2347).
    """


class ErrorCode(IntEnum):
    """
    TFTP error codes (RFC 1350, RFC 2347).
    """

    NOT_DEFINED = 0
    FILE_NOT_FOUND = 1
    ACCESS_VIOLATION = 2
    DISK_FULL = 3
    ILLEGAL_OPERATION = 4
    UNKNOWN_TRANSFER_ID = 5
    FILE_EXISTS = 6
    NO_SUCH_USER = 7
    OPTION_REFUSED = 8


@dataclass(frozen=True)
class RRQ:
    """
    A read request.

    @ivar filename: the requested name, exactly as sent.
    @ivar mode: the transfer mode in lower case (C{octet}, C{netascii}, ...).
    @ivar options: RFC 2347 options, names in lower case, values as sent.
    """

    filename: str
    mode: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WRQ:
    """
    A write request; same fields as L{RRQ}.
    """

    filename: str
    mode: str
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DATA:
    """
    One block of a file.

    @ivar block: the 16-bit block number.
    @ivar data: 0 to L{MAX_BLKSIZE} octets.
    """

    block: int
    data: bytes


@dataclass(frozen=True)
class ACK:
    """
    Acknowledgement of block C{block} (0 acknowledges an OACK).
    """

    block: int


@dataclass(frozen=True)
class ERROR:
    """
    An error report; it ends the transfer and is never acknowledged.

    @ivar code: an L{ErrorCode} value (any 16-bit number is accepted).
    @ivar message: human-readable text.
    """

    code: int
    message: str


@dataclass(frozen=True)
class OACK:
    """
    An option acknowledgement listing the options the server accepted.
    """

    options: Mapping[str, str] = field(default_factory=dict)


Packet = Union[RRQ, WRQ, DATA, ACK, ERROR, OACK]


def _decodeStrings(payload: bytes) -> list[str]:
    """
    Split a run of NUL-terminated strings.

    @raise TFTPPacketError: if the last string is not terminated.
    """
    if not payload.endswith(b"\0"):
        raise TFTPPacketError("string field is not NUL-terminated")
    return payload[:-1].decode(_ENCODING).split("\0")


def _decodeOptions(fields: list[str]) -> dict[str, str]:
    """
    Pair up option names and values; names are folded to lower case.

    @raise TFTPPacketError: on an odd number of fields or an empty name.
    """
    if len(fields) % 2:
        raise TFTPPacketError("option without a value")
    options: dict[str, str] = {}
    for name, value in zip(fields[::2], fields[1::2]):
        if not name:
            raise TFTPPacketError("empty option name")
        options[name.lower()] = value
    return options


def _parseRequest(kind: type[RRQ] | type[WRQ], payload: bytes) -> RRQ | WRQ:
    fields = _decodeStrings(payload)
    if len(fields) < 2:
        raise TFTPPacketError("request without a mode")
    filename, mode = fields[0], fields[1].lower()
    if not mode:
        raise TFTPPacketError("empty mode")
    return kind(filename, mode, _decodeOptions(fields[2:]))


def _checkBlock(block: int) -> None:
    if not 0 <= block <= 0xFFFF:
        raise TFTPPacketError(f"block number {block} out of range")


def parsePacket(data: bytes) -> Packet:
    """
    Decode one datagram.

    @param data: the octets of a UDP payload.
    @return: an L{RRQ}, L{WRQ}, L{DATA}, L{ACK}, L{ERROR} or L{OACK}.
    @raise TFTPPacketError: if C{data} is not a well-formed TFTP packet.  No
        other exception escapes.
    """
    if len(data) < 2:
        raise TFTPPacketError("datagram shorter than an opcode")
    data = bytes(data)
    (opcode,) = _SHORT.unpack_from(data)
    payload = data[2:]
    if opcode == _OP_ACK:
        if len(payload) != 2:
            raise TFTPPacketError("ACK must be exactly 4 octets")
        return ACK(_SHORT.unpack(payload)[0])
    if opcode == _OP_DATA:
        if len(payload) < 2:
            raise TFTPPacketError("DATA without a block number")
        if len(payload) - 2 > MAX_BLKSIZE:
            raise TFTPPacketError("DATA larger than the largest block size")
        return DATA(_SHORT.unpack_from(payload)[0], payload[2:])
    if opcode in (_OP_RRQ, _OP_WRQ):
        return _parseRequest(RRQ if opcode == _OP_RRQ else WRQ, payload)
    if opcode == _OP_ERROR:
        if len(payload) < 2:
            raise TFTPPacketError("ERROR without a code")
        # Be liberal: some peers omit the message's terminating NUL.
        message = payload[2:].split(b"\0", 1)[0].decode(_ENCODING)
        return ERROR(_SHORT.unpack_from(payload)[0], message)
    if opcode == _OP_OACK:
        if not payload:
            return OACK({})
        return OACK(_decodeOptions(_decodeStrings(payload)))
    raise TFTPPacketError(f"unknown opcode {opcode}")


def _encodeString(text: str) -> bytes:
    try:
        encoded = text.encode(_ENCODING)
    except UnicodeEncodeError:
        raise TFTPPacketError(f"not encodable as octets: {text!r}") from None
    if b"\0" in encoded:
        raise TFTPPacketError(f"NUL inside a string field: {text!r}")
    return encoded + b"\0"


def _encodeOptions(options: Mapping[str, str]) -> bytes:
    parts = []
    for name, value in options.items():
        if not name:
            raise TFTPPacketError("empty option name")
        parts.append(_encodeString(name) + _encodeString(value))
    return b"".join(parts)


def dataPacket(block: int, data: bytes) -> bytes:
    """
    Build a DATA datagram directly; the transfer hot path uses this.

    @param block: a block number already reduced modulo 65536.
    @param data: the block's octets (any bytes-like object).
    """
    return _HEADER.pack(_OP_DATA, block) + data


_ACK_PREFIX = _SHORT.pack(_OP_ACK)


def ackBlock(datagram: bytes) -> int | None:
    """
    The block number of an ACK datagram, or L{None} for any other datagram.
    A shortcut for the transfer hot path; agrees with L{parsePacket}.
    """
    if len(datagram) == 4 and datagram[:2] == _ACK_PREFIX:
        return (datagram[2] << 8) | datagram[3]
    return None


def buildPacket(packet: Packet) -> bytes:
    """
    Encode a packet value.

    @raise TFTPPacketError: if a field cannot be represented (a block number
        outside 0-65535, a NUL inside a string, an oversized DATA, ...).
    """
    if isinstance(packet, DATA):
        _checkBlock(packet.block)
        if len(packet.data) > MAX_BLKSIZE:
            raise TFTPPacketError("DATA larger than the largest block size")
        return dataPacket(packet.block, packet.data)
    if isinstance(packet, ACK):
        _checkBlock(packet.block)
        return _HEADER.pack(_OP_ACK, packet.block)
    if isinstance(packet, (RRQ, WRQ)):
        opcode = _OP_RRQ if isinstance(packet, RRQ) else _OP_WRQ
        if not packet.mode:
            raise TFTPPacketError("empty mode")
        return (
            _SHORT.pack(opcode)
            + _encodeString(packet.filename)
            + _encodeString(packet.mode)
            + _encodeOptions(packet.options)
        )
    if isinstance(packet, ERROR):
        _checkBlock(packet.code)
        return _HEADER.pack(_OP_ERROR, packet.code) + _encodeString(packet.message)
    if isinstance(packet, OACK):
        return _SHORT.pack(_OP_OACK) + _encodeOptions(packet.options)
    raise TFTPPacketError(f"not a TFTP packet value: {packet!r}")


@dataclass(frozen=True)
class OptionLimits:
    """
    What the server is willing to negotiate.

    @ivar maxBlksize: the largest C{blksize} granted; larger requests are
        answered with this value (RFC 2348 lets the server go smaller).  The
        default 1468 fits an Ethernet frame without IP fragmentation.
    @ivar maxWindowsize: the largest C{windowsize} granted (RFC 7440 lets the
        server go smaller).
    @ivar enabled: the option names the server negotiates at all; others are
        ignored as if unknown.
    """

    maxBlksize: int = 1468
    maxWindowsize: int = 64
    enabled: frozenset[str] = frozenset({"blksize", "timeout", "tsize", "windowsize"})

    def __post_init__(self) -> None:
        if not MIN_BLKSIZE <= self.maxBlksize <= MAX_BLKSIZE:
            raise ValueError(f"maxBlksize must be {MIN_BLKSIZE}-{MAX_BLKSIZE}")
        if not 1 <= self.maxWindowsize <= 0xFFFF:
            raise ValueError("maxWindowsize must be 1-65535")


# More digits than any option needs; int() would refuse over 4300 with a
# ValueError of its own.
_MAX_DIGITS = 20


def _decimal(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise TFTPOptionError(f"{name} value {value[:40]!r} is not a decimal number")
    if len(value) > _MAX_DIGITS:
        raise TFTPOptionError(f"{name} value of {len(value)} digits is too long")
    return int(value)


def _ranged(name: str, value: str, low: int, high: int, clampTo: int | None) -> int:
    """
    Check an option value against its RFC range.

    @param clampTo: if not L{None}, values above C{high} (and above this) are
        lowered to it instead of refused; values below C{low} are always
        refused.
    """
    number = _decimal(name, value)
    if number < low:
        raise TFTPOptionError(f"{name} {number} is below the minimum {low}")
    if clampTo is not None:
        return min(number, clampTo)
    if number > high:
        raise TFTPOptionError(f"{name} {number} is above the maximum {high}")
    return number


def negotiate(
    requested: Mapping[str, str],
    limits: OptionLimits = OptionLimits(),
    size: int | None = None,
) -> dict[str, int]:
    """
    Decide which requested options the server accepts, and with what values.

    Unknown and disabled options are ignored (RFC 2347).  C{blksize} and
    C{windowsize} above the server's limit are lowered to it; C{timeout} is
    accepted as sent (RFC 2349 requires the echo); C{tsize} is answered with
    C{size}, and dropped when C{size} is L{None} (unknown, or netascii where
    the transferred size differs).

    @param requested: the request's options, names in lower case.
    @param size: the octets the transfer will carry.
    @return: accepted option names (in request order) mapped to the values for
        the OACK; empty when nothing was accepted (plain RFC 1350 transfer).
    @raise TFTPOptionError: for a value that is not a decimal number or lies
        below its RFC minimum (C{blksize} < 8, C{timeout} outside 1-255,
        C{windowsize} 0).
    """
    accepted: dict[str, int] = {}
    for name, value in requested.items():
        if name not in limits.enabled:
            continue
        if name == "blksize":
            accepted[name] = _ranged(
                name, value, MIN_BLKSIZE, MAX_BLKSIZE, limits.maxBlksize
            )
        elif name == "windowsize":
            accepted[name] = _ranged(name, value, 1, 0xFFFF, limits.maxWindowsize)
        elif name == "timeout":
            accepted[name] = _ranged(name, value, 1, 255, None)
        elif name == "tsize":
            _decimal(name, value)
            if size is not None:
                accepted[name] = size
    return accepted


_NETASCII_ENCODED = re.compile(b"\r[\n\0]")


def toNetascii(data: bytes) -> bytes:
    """
    Convert local text to netascii: LF becomes CR LF, a bare CR becomes CR NUL.
    """
    return data.replace(b"\r", b"\r\0").replace(b"\n", b"\r\n")


def fromNetascii(data: bytes) -> bytes:
    """
    The inverse of L{toNetascii}: CR LF becomes LF, CR NUL becomes CR.
    """
    return _NETASCII_ENCODED.sub(lambda m: b"\n" if m.group() == b"\r\n" else b"\r", data)

"""
Tests for L{snomprov.tftp.packet}: the pure TFTP codec, option negotiation and
netascii conversion.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snomprov.tftp.packet import (
    ACK,
    DATA,
    ERROR,
    MAX_BLKSIZE,
    OACK,
    RRQ,
    WRQ,
    ErrorCode,
    OptionLimits,
    TFTPOptionError,
    TFTPPacketError,
    ackBlock,
    buildPacket,
    fromNetascii,
    negotiate,
    parsePacket,
    toNetascii,
)

# curl 7.88's default request and the server's answer (reference formats §3.1).
CURL_RRQ = (
    b"\x00\x01spa942.cfg\x00octet\x00tsize\x000\x00blksize\x00512\x00"
    b"timeout\x006\x00"
)
CURL_OACK = b"\x00\x06tsize\x001234\x00blksize\x00512\x00timeout\x006\x00"

WIRE = [
    (CURL_RRQ, RRQ("spa942.cfg", "octet", {"tsize": "0", "blksize": "512", "timeout": "6"})),
    (b"\x00\x02up.bin\x00octet\x00", WRQ("up.bin", "octet", {})),
    (b"\x00\x03\x00\x01hello", DATA(1, b"hello")),
    (b"\x00\x03\xff\xff", DATA(65535, b"")),
    (b"\x00\x04\x00\x00", ACK(0)),
    (b"\x00\x04\x01\x02", ACK(258)),
    (b"\x00\x05\x00\x01File not found\x00", ERROR(1, "File not found")),
    (CURL_OACK, OACK({"tsize": "1234", "blksize": "512", "timeout": "6"})),
]


@pytest.mark.parametrize("wire,packet", WIRE)
def test_parseKnownPackets(wire, packet):
    """
    Each packet type decodes from its RFC 1350/2347 layout to the expected
    value.
    """
    assert parsePacket(wire) == packet


@pytest.mark.parametrize("wire,packet", WIRE)
def test_buildKnownPackets(wire, packet):
    """
    Each packet value encodes to exactly the octets its RFC prescribes.
    """
    assert buildPacket(packet) == wire


def test_caseInsensitiveModeAndOptions():
    """
    Mode and option names are folded to lower case; option values and the
    file name are kept as sent.
    """
    packet = parsePacket(b"\x00\x01/SPA942.cfg\x00OCTET\x00BlkSize\x001468\x00")
    assert packet == RRQ("/SPA942.cfg", "octet", {"blksize": "1468"})


def test_errorWithoutTerminatingNul():
    """
    An ERROR whose message lacks its final NUL is still accepted.
    """
    assert parsePacket(b"\x00\x05\x00\x08bad") == ERROR(ErrorCode.OPTION_REFUSED, "bad")


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"\x00",
        b"\x00\x07\x00\x00",  # unknown opcode
        b"\x00\x00",
        b"\x00\x04\x00",  # short ACK
        b"\x00\x04\x00\x01\x00",  # long ACK
        b"\x00\x03\x00",  # DATA without a full block number
        b"\x00\x03\x00\x01" + b"x" * (MAX_BLKSIZE + 1),
        b"\x00\x01name\x00octet",  # mode not terminated
        b"\x00\x01name\x00",  # no mode
        b"\x00\x01name\x00\x00",  # empty mode
        b"\x00\x01name\x00octet\x00blksize\x00",  # option without value
        b"\x00\x01name\x00octet\x00\x00512\x00",  # empty option name
        b"\x00\x05\x00",  # ERROR without a code
        b"\x00\x06blksize\x00512",  # OACK not terminated
    ],
)
def test_malformedPacketsRaise(wire):
    """
    Truncated, oversized, unterminated and unknown datagrams raise
    L{TFTPPacketError}.
    """
    with pytest.raises(TFTPPacketError):
        parsePacket(wire)


@pytest.mark.parametrize(
    "packet",
    [
        ACK(65536),
        DATA(-1, b""),
        DATA(1, b"x" * (MAX_BLKSIZE + 1)),
        ERROR(1, "nul\x00inside"),
        RRQ("caf\u20ac", "octet"),
        RRQ("name", ""),
        OACK({"": "1"}),
        "not a packet",
    ],
)
def test_unbuildablePacketsRaise(packet):
    """
    Values that cannot be represented on the wire raise L{TFTPPacketError}
    instead of producing a corrupt datagram.
    """
    with pytest.raises(TFTPPacketError):
        buildPacket(packet)


_text = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=30)
_name = st.text(st.characters(min_codepoint=1, max_codepoint=255), min_size=1, max_size=10)
_options = st.dictionaries(_name.map(str.lower), _text, max_size=5)
_block = st.integers(0, 0xFFFF)
packets = st.one_of(
    st.builds(RRQ, _text, _name.map(str.lower), _options),
    st.builds(WRQ, _text, _name.map(str.lower), _options),
    st.builds(DATA, _block, st.binary(max_size=600)),
    st.builds(ACK, _block),
    st.builds(ERROR, _block, _text),
    st.builds(OACK, _options),
)


@given(packets)
def test_buildParseIdentity(packet):
    """
    Parsing what was built gives the same packet back, for every packet type.
    """
    assert parsePacket(buildPacket(packet)) == packet


@given(st.binary(max_size=200))
def test_parseArbitraryBytesRaisesOnlyPacketError(data):
    """
    Any octet string either parses or raises L{TFTPPacketError}; no other
    exception escapes the parser.
    """
    try:
        parsePacket(data)
    except TFTPPacketError:
        pass


@given(st.binary(max_size=40), st.lists(_name, max_size=4))
def test_parseOpcodePrefixedGarbage(tail, strings):
    """
    Valid opcodes followed by arbitrary fields parse or raise only
    L{TFTPPacketError}.
    """
    body = tail + b"\0".join(s.encode("latin-1") for s in strings)
    for opcode in range(1, 7):
        try:
            parsePacket(bytes([0, opcode]) + body)
        except TFTPPacketError:
            pass


def test_negotiateAcceptsKnownOptions():
    """
    C{blksize}, C{timeout}, C{tsize} and C{windowsize} within limits are
    accepted with their values, C{tsize} answered with the size.
    """
    requested = {"tsize": "0", "timeout": "3", "blksize": "1428", "windowsize": "4"}
    assert negotiate(requested, OptionLimits(), size=1234) == {
        "tsize": 1234,
        "timeout": 3,
        "blksize": 1428,
        "windowsize": 4,
    }


def test_negotiateIgnoresUnknownAndDisabled():
    """
    Options the server does not know or has disabled are silently left out,
    as is C{tsize} when the size is unknown.
    """
    limits = OptionLimits(enabled=frozenset({"blksize", "tsize"}))
    requested = {"rollover": "0", "windowsize": "8", "blksize": "512", "tsize": "0"}
    assert negotiate(requested, limits, size=None) == {"blksize": 512}


def test_negotiateNothing():
    """
    A request without options negotiates nothing (plain RFC 1350 transfer).
    """
    assert negotiate({}, OptionLimits(), size=10) == {}


def test_negotiateClampsBlksizeAndWindowsize():
    """
    C{blksize} and C{windowsize} above the server's limits, even above the RFC
    maximum, are lowered to the limits (RFC 2348 and RFC 7440 allow smaller
    answers).
    """
    limits = OptionLimits(maxBlksize=1024, maxWindowsize=8)
    accepted = negotiate({"blksize": "70000", "windowsize": "65535"}, limits)
    assert accepted == {"blksize": 1024, "windowsize": 8}


@pytest.mark.parametrize(
    "requested",
    [
        {"blksize": "7"},
        {"blksize": "abc"},
        {"blksize": "-512"},
        {"windowsize": "0"},
        {"timeout": "0"},
        {"timeout": "256"},
        {"timeout": "1.5"},
        {"tsize": "x"},
    ],
)
def test_negotiateRefuses(requested):
    """
    Values that are not decimal or lie outside what the RFCs allow (and cannot
    be lowered) raise L{TFTPOptionError}, answered with ERROR 8.
    """
    with pytest.raises(TFTPOptionError):
        negotiate(requested, OptionLimits(), size=10)


@pytest.mark.parametrize("kwargs", [{"maxBlksize": 7}, {"maxWindowsize": 0}])
def test_invalidLimits(kwargs):
    """
    Limits outside the RFC ranges are rejected when configured.
    """
    with pytest.raises(ValueError):
        OptionLimits(**kwargs)


def test_toNetascii():
    """
    LF becomes CR LF and a bare CR becomes CR NUL.
    """
    assert toNetascii(b"a\nb\rc\r\n") == b"a\r\nb\r\0c\r\0\r\n"


@given(st.binary(max_size=200))
def test_netasciiRoundTrip(data):
    """
    Decoding netascii gives back exactly the original octets, and the encoding
    never contains a CR not followed by LF or NUL.
    """
    encoded = toNetascii(data)
    assert fromNetascii(encoded) == data
    assert encoded.count(b"\r") == encoded.count(b"\r\n") + encoded.count(b"\r\0")


@given(st.one_of(packets.map(buildPacket), st.binary(max_size=8)))
def test_ackBlockAgreesWithParser(datagram):
    """
    The hot-path L{ackBlock} shortcut returns a block number exactly for the
    datagrams L{parsePacket} decodes as an ACK, and the same number.
    """
    try:
        packet = parsePacket(datagram)
    except TFTPPacketError:
        packet = None
    expected = packet.block if isinstance(packet, ACK) else None
    assert ackBlock(datagram) == expected

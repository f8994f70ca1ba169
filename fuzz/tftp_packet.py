"""
The TFTP codec (L{snomprov.tftp.packet}): L{parsePacket} raises only
L{TFTPPacketError} and what it reads builds back to a packet it reads the
same; L{negotiate} raises only L{TFTPOptionError} and answers within the
limits; L{ackBlock} agrees with L{parsePacket}; netascii round-trips.
"""

from __future__ import annotations

from snomprov.tftp.packet import (
    ACK,
    MAX_BLKSIZE,
    MIN_BLKSIZE,
    RRQ,
    WRQ,
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

_LIMITS = OptionLimits(maxBlksize=1468, maxWindowsize=16)


def seeds() -> list[bytes]:
    return [
        b"\x00\x01spa0004f2a1b2c3.cfg\x00octet\x00blksize\x001468\x00tsize\x000\x00",
        b"\x00\x01/snom/../../etc/passwd\x00netascii\x00windowsize\x0099999\x00timeout\x000\x00",
        b"\x00\x02x\x00octet\x00",
        b"\x00\x03\x00\x01hello",
        b"\x00\x04\x00\x07",
        b"\x00\x05\x00\x01File not found\x00",
        b"\x00\x06blksize\x00512\x00",
    ]


def testOneInput(data: bytes) -> None:
    assert fromNetascii(toNetascii(data)) == data
    try:
        packet = parsePacket(data)
    except TFTPPacketError:
        assert ackBlock(data) is None
        return
    assert ackBlock(data) == (packet.block if isinstance(packet, ACK) else None)
    assert parsePacket(buildPacket(packet)) == packet, packet
    if isinstance(packet, (RRQ, WRQ)):
        for size in (None, len(data)):
            try:
                accepted = negotiate(packet.options, _LIMITS, size)
            except TFTPOptionError:
                continue
            if "blksize" in accepted:
                assert MIN_BLKSIZE <= accepted["blksize"] <= min(_LIMITS.maxBlksize, MAX_BLKSIZE)
            if "windowsize" in accepted:
                assert 1 <= accepted["windowsize"] <= _LIMITS.maxWindowsize
            if "timeout" in accepted:
                assert 1 <= accepted["timeout"] <= 255

"""
snomprov's read-only TFTP server: L{packet} (pure codec and option
negotiation) and L{protocol} (the listening protocol and per-transfer ports).
"""

from snomprov.tftp.packet import OptionLimits, TFTPOptionError, TFTPPacketError
from snomprov.tftp.protocol import BytesSource, TFTPServerProtocol, TFTPSource

__all__ = [
    "BytesSource",
    "OptionLimits",
    "TFTPOptionError",
    "TFTPPacketError",
    "TFTPServerProtocol",
    "TFTPSource",
]

"""
The plug-and-play decoder (L{snomprov.sip.decoded}, the quick reader of
L{snomprov.sip.quick}): raises only L{SIPParseError}, and the quick reading
agrees with the full parser's, message for message (the full parser is the
reference); the quick helpers agree with it too.
"""

from __future__ import annotations

from snomprov.sip.decoded import Decoder
from snomprov.sip.message import SIPParseError, SIPRequest, parseMessage
from snomprov.sip.quick import quickFinalResponseBranch, quickSplit, requestLine, statusCode

from . import fixtures


def seeds() -> list[bytes]:
    return fixtures("sip", "*.sip") + [
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK0123456789abcdefABCD\r\n\r\n",
    ]


def _read(decoder: Decoder, data: bytes):
    try:
        return decoder.decode(data)
    except SIPParseError:
        return SIPParseError


def testOneInput(data: bytes) -> None:
    quick = _read(Decoder(quick=True, maxNames=16), data)
    full = _read(Decoder(quick=False, maxNames=16), data)
    if quick is not SIPParseError and quick.branch is not None:
        # Read no further than the branch (a final response's with the
        # shape of ours, unguessable): agreed only on what it read.
        assert quick.branch == quickFinalResponseBranch(data)
        if full is not SIPParseError:
            assert full.code == quick.code and full.method is None, (quick, full)
    else:
        assert quick == full, (quick, full)
    split = quickSplit(data)
    if split is not None:
        start = split[0]
        try:
            message = parseMessage(data)
        except SIPParseError:
            assert requestLine(start) is None and statusCode(start) is None, start
            return
        if isinstance(message, SIPRequest):
            assert requestLine(start) == (message.method, message.uri), start
        else:
            assert statusCode(start) == message.code, start

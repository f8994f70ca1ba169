"""
The ua-profile reader and answers (L{snomprov.sip.uaprofile}) on what the
decoder reads, the way L{snomprov.pnp} runs them: only L{SIPParseError}
escapes (from the readers of headers an answer must copy), each vendor's
C{claimSubscribe} raises nothing, and every answer we build is a SIP
message the full parser reads back, with the request's Call-ID.
"""

from __future__ import annotations

from snomprov.registry import discoverVendors
from snomprov.sip.decoded import Decoder
from snomprov.sip.message import SIPParseError, parseMessage
from snomprov.sip.uaprofile import (
    ProfileReader,
    buildNotify,
    buildResponse,
    eventPackage,
    headerLines,
    isUAProfileSubscribe,
    subscribeKey,
    taggedTo,
)

from . import fixtures

_DECODER = Decoder(maxNames=64)
_READER = ProfileReader(maxEvents=8)
_REGISTRY = discoverVendors()
_SOURCE = ("192.0.2.7", 5060)


def seeds() -> list[bytes]:
    return fixtures("sip", "*.sip")


def _checked(answer: bytes, callID: str | None) -> None:
    message = parseMessage(answer)
    assert message.headers.get("Call-ID") == callID, (answer, callID)


def testOneInput(data: bytes) -> None:
    try:
        message = _DECODER.decode(data)
    except SIPParseError:
        return
    if message.isResponse:
        return
    callID = message.fields.get("call-id")
    try:
        event = message.fields.get("event")
        if event is None or eventPackage(event) != "ua-profile" or not isUAProfileSubscribe(message):
            _checked(buildResponse(message, 489, "Bad Event", _SOURCE, "t1",
                                   headerLines(("Allow-Events", "ua-profile"))), callID)
            return
        subscribeKey(message)
        profile = _READER.read(message, _SOURCE[0])
        _REGISTRY.answerProfileRequest(profile, message)
        tagged = taggedTo(message, "t2")
        _checked(buildResponse(message, 200, "OK", _SOURCE, "t2", "", tagged), callID)
        _checked(buildNotify(message, "t2", "z9hG4bK1", 1, "sip:192.0.2.1:5060",
                             "192.0.2.1:5060", "http://192.0.2.1/x", tagged), callID)
    except SIPParseError:
        pass

"""
The full SIP parser (L{snomprov.sip.message}): L{parseMessage} raises only
L{SIPParseError}; what it reads comes back the same through
L{serializeMessage}; the header readers (L{parseVia}, L{parseNameAddr},
L{parseParams}, L{splitList}) raise only L{SIPParseError} on any value.
"""

from __future__ import annotations

from snomprov.sip.message import (
    HeaderNames,
    SIPParseError,
    SIPRequest,
    parseMessage,
    parseNameAddr,
    parseParams,
    parseVia,
    serializeMessage,
    splitList,
)

from . import fixtures


def seeds() -> list[bytes]:
    return fixtures("sip", "*.sip") + [
        b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP [::1]:5060;branch=z9hG4bK1\r\nl: 0\r\n\r\n",
        b"SIP/2.0 200 OK\nVia: SIP/2.0/UDP h\n f: \"a\\\"b\" <sip:x>;tag=1\n\nbody",
    ]


def _withoutLength(message):
    """
    The message's parts but the C{Content-Length} (which serializing sets).
    """
    start = (message.method, message.uri) if isinstance(message, SIPRequest) else (message.code, message.reason)
    return start, [(n, v) for n, v in message.headers if n.lower() != "content-length"]


def testOneInput(data: bytes) -> None:
    try:
        message = parseMessage(data, names=HeaderNames(64))
    except SIPParseError:
        return
    data = serializeMessage(message)
    again = parseMessage(data)
    assert _withoutLength(again) == _withoutLength(message), (message, again)
    assert again.body == message.body and again.headers.get("Content-Length") == str(len(message.body))
    assert serializeMessage(again) == data, (message, again)
    for name, value in message.headers:
        parseParams(value)
        splitList(value)
        for reader in (parseVia, parseNameAddr):
            try:
                reader(value)
            except SIPParseError:
                pass

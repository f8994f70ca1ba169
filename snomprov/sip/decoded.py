# -*- test-case-name: tests.test_sip_decoded -*-
"""
The one value the SIP protocol hands the plug-and-play controller: a
L{DecodedMessage}, read from a datagram by a L{Decoder} (the quick reader of
L{snomprov.sip.quick} where it answers, else the full parser of
L{snomprov.sip.message}).  Past the decoder, nothing sees bytes.

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, Sequence

from .message import HeaderNames, SIPRequest, SIPResponse, parseMessage
from .quick import QUICK_HEADERS, quickFinalResponseBranch, quickSplit, requestLine, statusCode

__all__ = ["DecodedMessage", "Decoder", "decodedFrom", "DECODED_HEADERS"]

DECODED_HEADERS = QUICK_HEADERS
"""
The lookup keys of the headers whose first value a L{DecodedMessage} keeps
(besides every Via): C{from}, C{to}, C{call-id}, C{cseq}, C{contact},
C{event}, C{user-agent}.
"""


class DecodedMessage:
    """
    A SIP request or response, as far as plug-and-play reads it.

    @ivar method: the request's method, or C{None} for a response.
    @ivar uri: the request's Request-URI, or C{None} for a response.
    @ivar code: the response's status code, or C{None} for a request.
    @ivar vias: every Via element, in order (a sequence: a list, or an
        empty tuple when only the branch was read).
    @ivar fields: the first value of each header of L{DECODED_HEADERS} that
        is present, by lookup key (the C{contact} value is its first list
        element).
    @ivar branch: the top Via's C{branch} when the decoder read only that:
        a final response carrying a branch of the shape ours have
        (L{snomprov.sip.quick.quickFinalResponseBranch}) is read no
        further, and its C{vias} and C{fields} are then empty (shared,
        read-only); else
        C{None} (see L{topBranch}).
    """

    __slots__ = ("method", "uri", "code", "vias", "fields", "branch")

    def __init__(self, method: str | None, uri: str | None, code: int | None, vias: Sequence[str],
                 fields: Mapping[str, str], branch: str | None = None) -> None:
        self.method = method
        self.uri = uri
        self.code = code
        self.vias = vias
        self.fields = fields
        self.branch = branch

    @property
    def isResponse(self) -> bool:
        return self.method is None

    def header(self, name: str) -> str | None:
        """
        The first value of a header of L{DECODED_HEADERS} (C{"Event"},
        C{"call-id"}: any case), or C{None}.
        """
        return self.fields.get(name.lower())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DecodedMessage):
            return NotImplemented
        return (
            self.method == other.method and self.uri == other.uri and self.code == other.code
            and list(self.vias) == list(other.vias) and self.fields == other.fields
            and self.branch == other.branch
        )

    def __repr__(self) -> str:
        start = f"{self.method} {self.uri}" if self.method is not None else f"{self.code}"
        return f"<DecodedMessage {start} {len(self.vias)} Via, {sorted(self.fields)}>"


def decodedFrom(message: SIPRequest | SIPResponse) -> DecodedMessage:
    """
    The L{DecodedMessage} of a message the full parser read.
    """
    headers = message.headers
    fields = {}
    for key in QUICK_HEADERS:
        value = headers.get(key)
        if value is not None:
            fields[key] = value
    vias = headers.getAll("Via")
    if isinstance(message, SIPRequest):
        return DecodedMessage(message.method, message.uri, None, vias, fields)
    return DecodedMessage(None, None, message.code, vias, fields)


_NO_VIAS: tuple[str, ...] = ()
_NO_FIELDS: Mapping[str, str] = MappingProxyType({})
_FINAL_CODES = {str(code).encode(): code for code in range(200, 700)}
"""
The final status codes as written (C{b"200"}: 200), for the responses read
by their branch alone: a fixed table, not one traffic grows.
"""


class Decoder:
    """
    Reads datagrams into L{DecodedMessage}s, learning the header names it
    meets (bounded, on this instance).

    @param quick: use the quick readers where they answer (the default);
        C{False} reads everything with the full parser (the reference,
        for tests).
    """

    def __init__(self, quick: bool = True, maxNames: int = 2048) -> None:
        self._quick = quick
        self._names = HeaderNames(maxNames)

    def finalResponseBranch(self, data: bytes) -> str | None:
        """
        The branch of a final response when it has the shape of ours
        (L{quickFinalResponseBranch}), read from the bytes alone, for the
        NOTIFY transaction it may end; C{None} otherwise, or with
        C{quick=False}.  L{decode} reads the same datagram into a value
        with that branch.
        """
        return quickFinalResponseBranch(data) if self._quick else None

    def decode(self, data: bytes) -> DecodedMessage:
        """
        @raise snomprov.sip.message.SIPParseError: if C{data} is not a SIP
            message.
        """
        if self._quick:
            if data[:8] == b"SIP/2.0 ":
                # The phone's 200 to our NOTIFY: one object, nothing else
                # allocated (the empty Via list and fields are shared).
                branch = quickFinalResponseBranch(data)
                if branch is not None:
                    return DecodedMessage(None, None, _FINAL_CODES[data[8:11]], _NO_VIAS, _NO_FIELDS, branch)
            split = quickSplit(data, self._names)
            if split is not None:
                start, vias, fields = split
                if start[:4] == "SIP/":
                    code = statusCode(start)
                    if code is not None:
                        return DecodedMessage(None, None, code, vias, fields)
                else:
                    line = requestLine(start)
                    if line is not None:
                        method, uri = line
                        return DecodedMessage(method, uri, None, vias, fields)
        message = parseMessage(data, names=self._names)
        return decodedFrom(message)


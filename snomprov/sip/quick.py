# -*- test-case-name: tests.test_sip_quick -*-
"""
The plug-and-play hot path's reading of a datagram: the start line, every
Via element and the first value of the few headers a ua-profile exchange
uses, without building a L{snomprov.sip.message.SIPRequest}.

L{quickSplit} reads only datagrams in the plain form phones send (CRLF line
ends, no folded lines, header names already seen by L{parseMessage}, no
body or an exact C{Content-Length}); for anything else it answers C{None}
and the caller uses L{parseMessage}, which stays the reference.  Where it
answers, it agrees with L{parseMessage} and L{Headers.get}/L{Headers.getAll}
(tests/test_sip_quick.py checks this on the fixtures and on generated
messages).

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

from .message import _NAMES, _TOKEN_CHARS, MAX_DIGITS, MAX_MESSAGE_SIZE, HeaderNames, SIPParseError, splitList

__all__ = [
    "quickSplit",
    "QUICK_HEADERS",
    "quickFinalResponseBranch",
    "requestLine",
    "isPlainRequestLine",
    "statusCode",
    "BRANCH_COOKIE",
    "BRANCH_DIGITS",
]

BRANCH_COOKIE = "z9hG4bK"
"""
The RFC 3261 magic cookie every branch we make starts with.
"""

BRANCH_DIGITS = 20
"""
The random hex digits after L{BRANCH_COOKIE} in a branch we make
(L{snomprov.sip.uaprofile.newBranch}).
"""

QUICK_HEADERS = (
    "from", "to", "call-id", "cseq", "contact", "event", "user-agent",
)  # fmt: skip
"""
The lookup keys whose first value L{quickSplit} returns (besides Via).
"""

_WANTED = frozenset(QUICK_HEADERS)


def quickSplit(data: bytes, names: HeaderNames | None = None) -> tuple[str, list[str], dict[str, str]] | None:
    """
    Read a datagram's start line and headers, the plain way.

    @param names: the decoder's L{HeaderNames}: names not known yet are
        learnt; without it, a datagram with a name outside the usual ones
        is left to L{parseMessage}.

    @return: C{(start line, Via elements, {lookup key: first value})} for
        the keys of L{QUICK_HEADERS} that are present (the C{contact} value
        is its first list element, as L{Headers.get} gives it); or C{None}
        when the datagram is not in the plain form or not a valid message
        (L{parseMessage} then decides).  The start line is not checked:
        see L{isPlainRequestLine} and L{statusCode}.
    """
    end = data.find(b"\r\n\r\n")
    if end <= 0 or len(data) > MAX_MESSAGE_SIZE:
        return None
    head = data[:end]
    if b"\n " in head or b"\n\t" in head or data[0] in b"\r\n":
        return None
    text = head.decode("utf-8", "surrogateescape")
    lines = text.split("\r\n")
    if text.count("\n") != len(lines) - 1:
        return None  # a line ends in a bare LF
    known = _NAMES if names is None else names.table
    wanted = _WANTED
    vias: list[str] = []
    fields: dict[str, str] = {}
    length = None
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            return None
        try:
            key = known[name][0]  # a subscript: cheaper than get() per line
        except KeyError:
            if names is None:
                return None
            try:
                key = names.learn(name)[0]
            except SIPParseError:
                return None
        if key in wanted:
            if key not in fields:
                fields[key] = value.strip()
        elif key == "via":
            value = value.strip()
            if "," in value:
                vias.extend(splitList(value))
            elif value:
                vias.append(value)
        elif key == "content-length":
            value = value.strip()
            if length is None:
                length = value
            elif value != length:
                return None
    if length is not None and not (
        length.isdigit() and length.isascii() and len(length) <= MAX_DIGITS
        and len(data) - end - 4 >= int(length)
    ):
        return None
    contact = fields.get("contact")
    if contact is not None and "," in contact:
        elements = splitList(contact)
        if elements:
            fields["contact"] = elements[0]
        else:
            del fields["contact"]
    return lines[0], vias, fields


def requestLine(start: str) -> tuple[str, str] | None:
    """
    The method and Request-URI of a request line C{<method> <uri> SIP/2.0}
    that L{parseMessage} accepts, or C{None}.
    """
    parts = start.split(" ")
    if len(parts) != 3:
        return None
    method, uri, version = parts
    if not method or not uri or (version != "SIP/2.0" and version.upper() != "SIP/2.0"):
        return None
    return (method, uri) if method in _METHODS or _TOKEN_CHARS.issuperset(method) else None


_METHODS = frozenset({"SUBSCRIBE", "NOTIFY", "OPTIONS", "ACK", "INVITE", "BYE", "CANCEL", "REGISTER"})
"""
Methods known to be tokens, so that the usual request lines skip the
character check.
"""


def isPlainRequestLine(start: str, method: str) -> str | None:
    """
    The Request-URI of a request line C{<method> <uri> SIP/2.0} that
    L{parseMessage} accepts, or C{None}.
    """
    parts = start.split(" ")
    if len(parts) != 3 or parts[0] != method or not parts[1] or parts[2].upper() != "SIP/2.0":
        return None
    return parts[1] if _TOKEN_CHARS.issuperset(method) else None


def statusCode(start: str) -> int | None:
    """
    The code of a status line L{parseMessage} accepts, or C{None}.
    """
    if start[:4] != "SIP/":
        return None
    version, _, rest = start.partition(" ")
    codeText = rest.partition(" ")[0]
    if (
        version.upper() != "SIP/2.0"
        or len(codeText) != 3
        or not (codeText.isdigit() and codeText.isascii())
        or not "100" <= codeText <= "699"
    ):
        return None
    return int(codeText)


_BRANCH_PARAMETER = b"branch=" + BRANCH_COOKIE.encode()
_BRANCH_LENGTH = len(BRANCH_COOKIE) + BRANCH_DIGITS
_BRANCH_ENDS = frozenset(b";, \t\r\n")


def quickFinalResponseBranch(data: bytes) -> str | None:
    """
    The branch of the first Via in a final response, the plain way, when it
    has the shape of those L{snomprov.sip.uaprofile.newBranch} makes:
    C{"z9hG4bK"} and 20 letters or digits.  Only a branch of ours is worth
    looking up, and ours are unguessable, so nothing else of the datagram
    needs reading.

    @return: the branch, or C{None} when C{data} is not a final response
        (C{SIP/2.0 <200-699> ...}) or carries no such branch.
    """
    if data[:8] != b"SIP/2.0 " or not (b"200" <= data[8:11] <= b"699") or not data[8:11].isdigit():
        return None
    at = data.find(_BRANCH_PARAMETER)
    if at < 0:
        return None
    start = at + len("branch=")
    end = start + _BRANCH_LENGTH
    branch = data[start:end]
    if end >= len(data) or data[end] not in _BRANCH_ENDS or not branch[len(BRANCH_COOKIE):].isalnum():
        return None
    return branch.decode("ascii")

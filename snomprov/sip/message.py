# -*- test-case-name: tests.test_sip_message -*-
"""
Pure SIP/2.0 message parsing and serialization (RFC 3261 §7).

Nothing here does I/O or imports C{twisted.internet}: L{parseMessage} takes
the bytes of one datagram and returns a L{SIPRequest} or L{SIPResponse};
L{serializeMessage} does the reverse.  L{SIPParseError} is the only exception
the parsing functions raise, whatever the input.

This is on the plug-and-play hot path, so the parser does the least it can:
one split of the header block, one C{partition} per header line, and no
parsing of header parameters until someone asks (L{parseParams},
L{parseNameAddr}, L{parseVia}).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

__all__ = [
    "SIPParseError",
    "Headers",
    "SIPRequest",
    "SIPResponse",
    "Via",
    "MAX_MESSAGE_SIZE",
    "MAX_DIGITS",
    "parseMessage",
    "serializeMessage",
    "parseParams",
    "parseNameAddr",
    "parseVia",
    "splitList",
    "splitQuoted",
    "canonicalHeaderName",
    "HeaderNames",
]

MAX_MESSAGE_SIZE = 65535
"""
The largest datagram L{parseMessage} accepts by default (a UDP payload).
"""

MAX_DIGITS = 20
"""
The most digits a number in a header (C{Content-Length}, a Via port, a
C{CSeq}) may have: longer runs are refused before C{int()} reads them
(Python refuses to convert more than 4300 digits with a C{ValueError} of
its own, and no SIP number needs more than 10).
"""


class SIPParseError(ValueError):
    """
    The bytes or text are not a SIP message (or not the part asked for).
    """


# RFC 3261 §7.3.3 and the IANA registry: the compact forms, and the full
# names they stand for.
_COMPACT = {
    "a": "Accept-Contact",
    "b": "Referred-By",
    "c": "Content-Type",
    "d": "Request-Disposition",
    "e": "Content-Encoding",
    "f": "From",
    "i": "Call-ID",
    "j": "Reject-Contact",
    "k": "Supported",
    "l": "Content-Length",
    "m": "Contact",
    "n": "Identity-Info",
    "o": "Event",
    "r": "Refer-To",
    "s": "Subject",
    "t": "To",
    "u": "Allow-Events",
    "v": "Via",
    "x": "Session-Expires",
    "y": "Identity",
}

# Headers whose grammar is a comma-separated list (RFC 3261 §20 and
# extensions): only these are split by Headers.getAll.
_LIST_HEADERS = frozenset(
    name.lower()
    for name in (
        "Via", "Contact", "Route", "Record-Route", "Allow", "Supported",
        "Require", "Proxy-Require", "Unsupported", "Accept",
        "Accept-Encoding", "Accept-Language", "Allow-Events",
        "Content-Encoding", "Content-Language", "Alert-Info", "Call-Info",
        "Error-Info", "In-Reply-To", "Warning", "Path", "Service-Route",
        "P-Asserted-Identity",
    )
)

_TOKEN_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"
)

# Header name as written -> (lookup key, name as stored): the usual
# spellings, filled in once below and never changed after (what traffic
# shows more is learnt by a HeaderNames, one per decoder, bounded).
_NAMES: dict[str, tuple[str, str]] = {}


def _canonical(name: str) -> tuple[str, str]:
    """
    The lookup key and stored spelling of a header name as written.

    @raise SIPParseError: if C{name} is not a token.
    """
    known = _NAMES.get(name)
    if known is not None:
        return known
    return _canonicalOf(name)


def _canonicalOf(name: str) -> tuple[str, str]:
    """
    L{_canonical} worked out, without looking at the known names.
    """
    stripped = name.strip(" \t")
    if not stripped or not _TOKEN_CHARS.issuperset(stripped):
        raise SIPParseError(f"bad header name {name!r}")
    if len(stripped) == 1:
        full = _COMPACT.get(stripped.lower())
        if full is not None:
            stripped = full
    return (stripped.lower(), stripped)


class HeaderNames:
    """
    The lookup keys and stored spellings of header names as written: the
    usual ones, and those seen since (at most C{limit} more), so that a
    decoder validates and canonicalises a header name with one dict lookup.
    One per decoder: nothing that traffic brings grows a module's table.

    @ivar table: name as written to C{(lookup key, name as stored)}.
    """

    def __init__(self, limit: int = 2048) -> None:
        self.table: dict[str, tuple[str, str]] = dict(_NAMES)
        self._limit = len(self.table) + limit

    def learn(self, name: str) -> tuple[str, str]:
        """
        The key and spelling of C{name}, remembered while there is room.

        @raise SIPParseError: if C{name} is not a token.
        """
        result = _canonicalOf(name)
        if len(self.table) < self._limit:
            self.table[name] = result
        return result


def canonicalHeaderName(name: str) -> str:
    """
    The full name of a header as snomprov stores it: compact forms expanded
    (C{"v"} -> C{"Via"}), other names kept as written, surrounding blanks
    removed.

    @raise SIPParseError: if C{name} is not a token.
    """
    return _canonical(name)[1]


for _full in (
    "Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards",
    "Expires", "Event", "Accept", "Allow", "Allow-Events", "Supported",
    "User-Agent", "Server", "Content-Type", "Content-Length",
    "Subscription-State", "Record-Route", "Route", "Require",
):
    _NAMES[_full] = _canonicalOf(_full)
for _short in _COMPACT:
    _NAMES[_short] = _canonicalOf(_short)
    _NAMES[_short.upper()] = _canonicalOf(_short.upper())
del _full, _short


def _lookupKey(name: str) -> str:
    """
    The case-insensitive key of a header name, compact forms expanded.
    """
    known = _NAMES.get(name)
    if known is not None:
        return known[0]
    key = name.strip(" \t").lower()
    if len(key) == 1:
        full = _COMPACT.get(key)
        if full is not None:
            return full.lower()
    return key


def splitQuoted(text: str, sep: str) -> list[str]:
    """
    Split C{text} on C{sep}, except inside double quotes (with backslash
    escapes) and angle brackets.  An unterminated quote or bracket runs to
    the end of the text.
    """
    parts = text.split(sep)
    if len(parts) == 1:
        return parts
    hasQuote = '"' in text
    hasAngle = "<" in text
    if not hasQuote and not hasAngle:
        return parts
    if hasQuote and hasAngle or "\\" in text:
        return _scanSplit(text, sep)
    # Only one kind of grouping and no escapes: glue back the pieces that
    # leave a quote or bracket open.
    out: list[str] = []
    pending = None
    for part in parts:
        piece = part if pending is None else pending + sep + part
        if (
            piece.count('"') % 2
            if hasQuote
            else piece.rfind("<") > piece.rfind(">")
        ):
            pending = piece
        else:
            out.append(piece)
            pending = None
    if pending is not None:
        out.append(pending)
    return out


def _scanSplit(text: str, sep: str) -> list[str]:
    """
    The general case of L{splitQuoted}, one character at a time.
    """
    parts = []
    start = 0
    inQuote = inAngle = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if inQuote:
            if c == "\\":
                i += 1
            elif c == '"':
                inQuote = False
        elif c == '"':
            inQuote = True
        elif c == "<":
            inAngle = True
        elif c == ">":
            inAngle = False
        elif c == sep and not inAngle:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def splitList(value: str) -> list[str]:
    """
    Split a comma-separated header value into its elements (commas inside
    quotes or angle brackets do not count), each stripped; empty elements
    are dropped.
    """
    if "," not in value:
        return [value] if value else []
    return [p for p in (part.strip() for part in splitQuoted(value, ",")) if p]


class Headers:
    """
    The headers of a SIP message, in order, repeated headers kept.

    Names are looked up case-insensitively and compact forms (C{v}, C{f},
    C{i}, ...) are accepted wherever a name is; compact forms are stored
    under their full names.  Each header line is kept as one item, as
    written; L{getAll} splits the comma-separated lists of list headers
    (C{Via}, C{Contact}, C{Route}, C{Allow}, ...) into their elements.

    Instances are treated as immutable.
    """

    __slots__ = ("_items", "_index")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        """
        @param items: C{(name, value)} pairs, in order.
        @raise SIPParseError: if a name is not a token or a value holds a
            line break.
        """
        stored = []
        index: dict[str, list[str]] = {}
        for name, value in items:
            if "\n" in value or "\r" in value:
                raise SIPParseError(f"line break in the value of {name!r}")
            key, name = _canonical(name)
            stored.append((name, value))
            index.setdefault(key, []).append(value)
        self._items = tuple(stored)
        self._index = index

    def get(self, name: str, default: str | None = None) -> str | None:
        """
        The first value of header C{name} (for a list header, its first
        element), or C{default}.
        """
        key = _lookupKey(name)
        values = self._index.get(key)
        if not values:
            return default
        value = values[0]
        if key in _LIST_HEADERS and "," in value:
            elements = splitList(value)
            return elements[0] if elements else default
        return value

    def getAll(self, name: str) -> list[str]:
        """
        Every value of header C{name}, in order; the lists of list headers
        are split into their elements.
        """
        key = _lookupKey(name)
        values = self._index.get(key, ())
        if key not in _LIST_HEADERS:
            return list(values)
        result = []
        for value in values:
            result.extend(splitList(value))
        return result

    def getLines(self, name: str) -> list[str]:
        """
        The values of every C{name} header line, as written (lists not
        split).
        """
        return list(self._index.get(_lookupKey(name), ()))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _lookupKey(name) in self._index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> tuple[tuple[str, str], ...]:
        """
        The C{(name, value)} header lines, in order.
        """
        return self._items

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"Headers({list(self._items)!r})"


# parseMessage fills a Headers without checking again what it checked.
_newHeaders = object.__new__


@dataclass(frozen=True, slots=True)
class SIPRequest:
    """
    A SIP request.

    @ivar method: e.g. C{"SUBSCRIBE"}, as written (case matters in SIP).
    @ivar uri: the Request-URI, as written.
    """

    method: str
    uri: str
    headers: Headers
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class SIPResponse:
    """
    A SIP response.

    @ivar code: the status code, 100..699.
    @ivar reason: the reason phrase, as written (may be empty).
    """

    code: int
    reason: str
    headers: Headers
    body: bytes = b""


_FOLD = re.compile(r"[ \t]*\r?\n[ \t]+")


def parseMessage(
    data: bytes, maxSize: int = MAX_MESSAGE_SIZE, names: HeaderNames | None = None
) -> SIPRequest | SIPResponse:
    """
    Parse one SIP message (one datagram).

    Line ends may be CRLF or LF; folded header lines are unfolded; compact
    header names are expanded; empty lines before the start line are
    skipped.  Header text is decoded as UTF-8, with bytes that are not UTF-8
    kept as surrogate escapes (L{serializeMessage} writes them back as they
    came).  With a C{Content-Length}, the body is cut to it (a shorter body
    is an error); without one, the body is the rest of the datagram.

    @param maxSize: longer input is refused.
    @param names: the decoder's L{HeaderNames}, which learns the names it
        reads; without one, only the usual names are looked up.
    @raise SIPParseError: if C{data} is not a SIP message.
    """
    if not isinstance(data, bytes):
        raise SIPParseError(f"expected bytes, not {type(data).__name__}")
    if len(data) > maxSize:
        raise SIPParseError(f"message of {len(data)} bytes is over {maxSize}")
    if data[:1] in (b"\r", b"\n"):
        data = data.lstrip(b"\r\n")
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n")
    if crlf < 0 and lf < 0:
        head = data.rstrip(b"\r\n")
        body = b""
    elif lf < 0 or 0 <= crlf < lf:
        head = data[:crlf]
        body = data[crlf + 3 :]
    else:
        head = data[:lf]
        body = data[lf + 2 :]
    if head[-1:] == b"\r":
        head = head[:-1]
    if not head:
        raise SIPParseError("empty message")
    text = head.decode("utf-8", "surrogateescape")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    if "\n " in text or "\n\t" in text:
        text = _FOLD.sub(" ", text)
    lines = text.split("\n")

    items: list[tuple[str, str]] = []
    index: dict[str, list[str]] = {}
    known = _NAMES if names is None else names.table
    learn = _canonicalOf if names is None else names.learn
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise SIPParseError(f"header line without colon: {line[:80]!r}")
        canon = known.get(name)
        if canon is None:
            canon = learn(name)
        key, name = canon
        value = value.strip()
        items.append((name, value))
        values = index.get(key)
        if values is None:
            index[key] = [value]
        else:
            values.append(value)

    lengths = index.get("content-length")
    if lengths is not None:
        length = lengths[0]
        if not (length.isdigit() and length.isascii() and len(length) <= MAX_DIGITS) or (
            len(lengths) > 1 and lengths.count(length) != len(lengths)
        ):
            raise SIPParseError(f"bad Content-Length {lengths!r}")
        size = int(length)
        if len(body) < size:
            raise SIPParseError(
                f"body of {len(body)} bytes is shorter than Content-Length {size}"
            )
        if len(body) > size:
            body = body[:size]

    headers = _newHeaders(Headers)
    headers._items = tuple(items)
    headers._index = index
    start = lines[0]
    if start[:4] == "SIP/":
        version, _, rest = start.partition(" ")
        codeText, _, reason = rest.partition(" ")
        if (
            version.upper() != "SIP/2.0"
            or len(codeText) != 3
            or not (codeText.isdigit() and codeText.isascii())
            or not "100" <= codeText <= "699"
        ):
            raise SIPParseError(f"bad status line {start[:80]!r}")
        return SIPResponse(int(codeText), reason, headers, body)
    parts = start.split(" ")
    if (
        len(parts) != 3
        or parts[2].upper() != "SIP/2.0"
        or not parts[1]
        or not parts[0]
        or not _TOKEN_CHARS.issuperset(parts[0])
    ):
        raise SIPParseError(f"bad request line {start[:80]!r}")
    return SIPRequest(parts[0], parts[1], headers, body)


def serializeMessage(message: SIPRequest | SIPResponse) -> bytes:
    """
    The bytes of a message: CRLF line ends, the headers in order, and a
    C{Content-Length} that is the length of the body (replacing the value of
    the first C{Content-Length} header, dropping any other, or appended at
    the end when there is none).
    """
    if isinstance(message, SIPRequest):
        lines = [f"{message.method} {message.uri} SIP/2.0"]
    else:
        lines = [f"SIP/2.0 {message.code} {message.reason}"]
    body = message.body
    lengthWritten = False
    for name, value in message.headers._items:
        if name == "Content-Length" or name.lower() == "content-length":
            if lengthWritten:
                continue
            value = str(len(body))
            lengthWritten = True
        lines.append(f"{name}: {value}")
    if not lengthWritten:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + body


def _unquote(text: str) -> str:
    """
    The content of a quoted-string (C{text} without its quotes), with
    backslash escapes resolved.
    """
    if "\\" not in text:
        return text
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            i += 1
            c = text[i]
        out.append(c)
        i += 1
    return "".join(out)


def parseParams(text: str) -> tuple[str, dict[str, str]]:
    """
    Split a header value into its main value and its C{;}-parameters:
    C{'ua-profile;profile-type="device";Vendor=snom;x'} gives
    C{("ua-profile", {"profile-type": "device", "vendor": "snom", "x": ""})}.

    Parameter names are lower-cased, quoted values unquoted, flags give
    C{""}; the first of repeated parameters wins.  Never raises.
    """
    parts = splitQuoted(text, ";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        name = name.strip().lower()
        if not name or name in params:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            value = _unquote(value[1:-1])
        params[name] = value
    return parts[0].strip(), params


def parseNameAddr(text: str) -> tuple[str, str, dict[str, str]]:
    """
    Read a From, To or Contact value: C{'"Bob" <sip:bob@h>;tag=1'} gives
    C{("Bob", "sip:bob@h", {"tag": "1"})}; without angle brackets
    (C{sip:bob@h;tag=1}) the parameters belong to the header, not the URI.

    @return: C{(display name or "", URI, header parameters)}.
    @raise SIPParseError: if there is no URI or a bracket or quote is not
        closed.
    """
    text = text.strip()
    display = ""
    rest = text
    if text[:1] == '"':
        i = 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                break
            i += 1
        else:
            raise SIPParseError(f"unterminated display name in {text[:80]!r}")
        display = _unquote(text[1:i])
        rest = text[i + 1 :]
        if "<" not in rest:
            raise SIPParseError(f"display name without <URI> in {text[:80]!r}")
    lt = rest.find("<")
    if lt >= 0:
        gt = rest.find(">", lt)
        if gt < 0:
            raise SIPParseError(f"unclosed < in {text[:80]!r}")
        if not display:
            display = rest[:lt].strip()
        uri = rest[lt + 1 : gt].strip()
        params = parseParams(rest[gt + 1 :])[1]
    else:
        uri, params = parseParams(rest)
    if not uri:
        raise SIPParseError(f"no URI in {text[:80]!r}")
    return display, uri, params


class Via(NamedTuple):
    """
    One Via value, read by L{parseVia}.

    @ivar protocol: C{"SIP/2.0/UDP"} (blanks removed, upper case).
    @ivar host: the sent-by host (an IPv6 address keeps its brackets).
    @ivar port: the sent-by port, or C{None}.
    @ivar params: C{branch}, C{rport}, C{received}, ... (see L{parseParams}).
    """

    protocol: str
    host: str
    port: int | None
    params: dict[str, str]


def parseVia(text: str) -> Via:
    """
    Read one Via value (one element of C{Headers.getAll("Via")}).

    @raise SIPParseError: if it is not C{SIP/2.0/<transport> host[:port]}.
    """
    value, params = parseParams(text)
    tokens = value.replace("/", " / ").split()
    if len(tokens) < 6 or tokens[1] != "/" or tokens[3] != "/":
        raise SIPParseError(f"bad Via {text[:80]!r}")
    protocol = "".join(tokens[:5]).upper()
    sentBy = "".join(tokens[5:])
    if sentBy.startswith("["):
        end = sentBy.find("]")
        if end < 0:
            raise SIPParseError(f"bad Via host in {text[:80]!r}")
        host, portText = sentBy[: end + 1], sentBy[end + 1 :]
        if portText and not portText.startswith(":"):
            raise SIPParseError(f"bad Via host in {text[:80]!r}")
        portText = portText[1:]
    else:
        host, _, portText = sentBy.partition(":")
    port = None
    if portText:
        if (
            not (portText.isdigit() and portText.isascii())
            or len(portText) > MAX_DIGITS
            or int(portText) > 65535
        ):
            raise SIPParseError(f"bad Via port in {text[:80]!r}")
        port = int(portText)
    if not host:
        raise SIPParseError(f"no Via host in {text[:80]!r}")
    return Via(protocol, host, port, params)

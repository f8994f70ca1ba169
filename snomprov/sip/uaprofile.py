# -*- test-case-name: tests.test_sip_uaprofile -*-
"""
Pure ua-profile plug-and-play (RFC 6080 as phones use it): read a
decoded SUBSCRIBE (L{snomprov.sip.decoded.DecodedMessage}) into a
L{ProfileRequest}, and build the bytes of our replies: the C{200 OK}, the
C{NOTIFY} carrying the provisioning URL (DESIGN.md §1.1 steps 2-3), other
responses (§1.1 step 6) and the re-sync C{NOTIFY} of a push (§1.4).

Vendor-neutral: the MAC is read from the forms RFC 6080 and most phones
use (C{MAC%3a<hex>}, C{MAC:}, C{MAC=}), the C{Event}'s parameters by their
RFC names; a vendor whose phones write otherwise reads its SUBSCRIBEs
itself (L{snomprov.interfaces.ISubscribeReadingVendor}).

The builders fill string templates; nothing they build is parsed again.
They raise L{SIPParseError} when the request lacks a header they must copy.
"""

from __future__ import annotations

import secrets

from snomprov.device import InvalidMAC, ProfileRequest, parseMAC
from snomprov.sip.decoded import DecodedMessage
from snomprov.sip.message import (
    MAX_DIGITS,
    SIPParseError,
    SIPRequest,
    SIPResponse,
    parseNameAddr,
    parseParams,
    splitQuoted,
)
from snomprov.sip.quick import BRANCH_COOKIE, BRANCH_DIGITS

__all__ = [
    "UA_PROFILE_EVENT",
    "ALLOWED_METHODS",
    "eventPackage",
    "eventParameters",
    "eventParameter",
    "isUAProfileSubscribe",
    "readProfileRequest",
    "ProfileReader",
    "macFromURI",
    "userPart",
    "subscribeKey",
    "transactionKey",
    "viaBranch",
    "BRANCH_COOKIE",
    "BRANCH_DIGITS",
    "newTag",
    "newBranch",
    "headerLines",
    "taggedTo",
    "buildResponse",
    "buildSubscribeOK",
    "subscribeOKHeaders",
    "buildNotify",
    "buildResyncNotify",
]

UA_PROFILE_EVENT = "ua-profile"

ALLOWED_METHODS = "SUBSCRIBE, NOTIFY, OPTIONS"
"""
The C{Allow} header value of our 405 and OPTIONS answers.
"""

# Typographic quotes some vendor documents (snom M700) put around values.
_STRAY_QUOTES = "\u201c\u201d\u201e\u201f\u2033\"' "


def _cleanParam(value: str | None) -> str | None:
    """
    A ua-profile parameter value without stray typographic quotes; empty
    becomes C{None}.
    """
    if value is None:
        return None
    value = value.strip(_STRAY_QUOTES)
    return value or None


def eventPackage(event: str) -> str:
    """
    The event package of an C{Event} header value, lower-cased
    (C{"ua-profile"} for C{ua-profile;vendor="snom"}).
    """
    return event.partition(";")[0].strip().lower()


def isUAProfileSubscribe(message: DecodedMessage) -> bool:
    """
    Whether C{message} is a C{SUBSCRIBE} for the C{ua-profile} event.
    """
    if message.method != "SUBSCRIBE":
        return False
    event = message.fields.get("event")
    return event is not None and eventPackage(event) == UA_PROFILE_EVENT


def userPart(uri: str) -> str:
    """
    The user part of a SIP URI (C{""} without one), percent-escapes of C{:}
    and C{=} resolved: what a vendor reading its phones' own MAC forms
    looks at.
    """
    scheme, colon, rest = uri.partition(":")
    if not colon:
        return ""
    user, at, _ = rest.partition("@")
    if not at:
        return ""
    if "%" in user:
        user = (
            user.replace("%3a", ":").replace("%3A", ":")
            .replace("%3d", "=").replace("%3D", "=")
        )
    return user


def macFromURI(uri: str) -> str | None:
    """
    The MAC a phone wrote into a URI's user part: C{MAC%3a000413922D24},
    C{MAC:…} or C{MAC=…} (the C{MAC} label, a separator, then the MAC as
    L{parseMAC} reads it), normalised; C{None} for anything else (a bare
    number is never taken for a MAC, nor is a label without separator,
    which only some vendors write: they read it themselves).
    """
    if uri[:10] in _PLAIN_MAC_PREFIXES and uri[22:23] == "@":
        # What snom and most phones send: sip:MAC%3a<12 hex digits>@...
        bare = uri[10:22].upper()
        if _HEX.issuperset(bare):
            return bare
    user = userPart(uri)
    if user[:3].upper() != "MAC" or user[3:4] not in (":", "="):
        return None
    # The common forms (MAC:<hex>, MAC=<hex>) without parseMAC's general
    # machinery: this runs for every SUBSCRIBE.
    bare = user[4:]
    if len(bare) == 12:
        bare = bare.upper()
        if _HEX.issuperset(bare):
            return bare
    try:
        return parseMAC(user)
    except InvalidMAC:
        return None


_HEX = frozenset("0123456789ABCDEF")
_PLAIN_MAC_PREFIXES = frozenset({"sip:MAC%3a", "sip:MAC%3A"})


def _uriOf(value: str | None) -> str | None:
    """
    The URI of a From/To/Contact value, or C{None} if it has none.
    """
    if not value:
        return None
    try:
        return parseNameAddr(value)[1]
    except SIPParseError:
        return None


def readProfileRequest(subscribe: DecodedMessage, sourceIP: str) -> ProfileRequest:
    """
    What a ua-profile SUBSCRIBE says of the phone (see L{ProfileReader.read}).
    """
    return ProfileReader(0).read(subscribe, sourceIP)


class ProfileReader:
    """
    Reads ua-profile SUBSCRIBEs into L{ProfileRequest}s, remembering the
    parameters of the C{Event} values it meets (at most C{maxEvents}, on
    this instance): a boot storm repeats a few models and firmware versions.
    """

    def __init__(self, maxEvents: int = 4096) -> None:
        self._events: dict[str, tuple[str | None, ...]] = {}
        self._maxEvents = maxEvents

    def read(self, subscribe: DecodedMessage, sourceIP: str) -> ProfileRequest:
        """
        What C{subscribe} says of the phone: the MAC from the Request-URI,
        else the From, else the To URI (see L{macFromURI}); the rest from
        the C{Event} parameters (C{vendor}, C{model}, C{version},
        C{profile-type}; see L{eventParameters}) and the C{User-Agent}.
        """
        fields = subscribe.fields
        mac = macFromURI(subscribe.uri or "")
        if mac is None:
            for value in (fields.get("from"), fields.get("to")):
                found = _uriOf(value)
                if found is not None:
                    mac = macFromURI(found)
                    if mac is not None:
                        break
        event = fields.get("event") or ""
        events = self._events
        known = events.get(event)
        if known is None:
            known = eventParameters(event)
            if len(events) >= self._maxEvents:
                events.clear()
            if self._maxEvents:
                events[event] = known
        vendor, model, version, profileType = known
        return ProfileRequest(mac, vendor, model, version, profileType, fields.get("user-agent"), sourceIP)


def eventParameter(event: str | None, name: str) -> str | None:
    """
    One parameter of an C{Event} value (C{None} for no value), cleaned of
    stray quotes: for a vendor whose phones send one of their own
    (Panasonic's C{vender}).
    """
    if not event:
        return None
    return _cleanParam(parseParams(event)[1].get(name))


def eventParameters(event: str) -> tuple[str | None, ...]:
    """
    C{(vendor, model, version, profile-type)} of an C{Event} value, cleaned
    of stray quotes (C{None} for an absent or empty one).
    """
    params = parseParams(event)[1]
    return (
        _cleanParam(params.get("vendor")),
        _cleanParam(params.get("model")),
        _cleanParam(params.get("version")),
        _cleanParam(params.get("profile-type")),
    )


def cseqNumber(cseq: str | None) -> int:
    """
    The sequence number of a C{CSeq} value.

    @raise SIPParseError: if C{cseq} is C{None} or not a number.
    """
    if cseq is None:
        raise SIPParseError("no CSeq header")
    number = cseq.partition(" ")[0]
    if not (number.isdigit() and number.isascii() and len(number) <= MAX_DIGITS):
        raise SIPParseError(f"bad CSeq {cseq[:80]!r}")
    return int(number)


def subscribeKey(subscribe: DecodedMessage) -> tuple[str, str, int]:
    """
    What identifies a SUBSCRIBE among its retransmissions: C{(Call-ID,
    From tag or "", CSeq number)}.

    @raise SIPParseError: without Call-ID, From or a numeric CSeq.
    """
    fields = subscribe.fields
    try:
        callID, from_ = fields["call-id"], fields["from"]
    except KeyError:
        raise SIPParseError("no Call-ID header" if "call-id" not in fields else "no From header") from None
    return callID, _tagOf(from_), cseqNumber(fields.get("cseq"))


def _tagOf(nameAddr: str) -> str:
    """
    The C{tag} parameter of a From/To value, or C{""}.

    @raise SIPParseError: if C{nameAddr} is malformed.
    """
    if '"' in nameAddr:
        return parseNameAddr(nameAddr)[2].get("tag", "")
    params = nameAddr[nameAddr.rfind(">") + 1 :]
    if "tag" not in params.lower():
        return ""
    if params[:5] == ";tag=" and ";" not in params[5:]:
        # The usual lone tag, as parseParams would read it.
        return params[5:].strip()
    return parseParams(params)[1].get("tag", "")


def transactionKey(message: SIPRequest | SIPResponse) -> tuple[str, int]:
    """
    C{(Call-ID, CSeq number)}: the key of a re-sync NOTIFY we sent, read
    from it or from the phone's response to it (parsed in full: the push
    path, not plug-and-play).

    @raise SIPParseError: without Call-ID or a numeric CSeq.
    """
    return (_required(message, "Call-ID"), cseqNumber(message.headers.get("CSeq")))


def viaBranch(via: str | None) -> str | None:
    """
    The C{branch} parameter of a Via element (C{None} without one): what
    matches a response to the request that carried that Via (RFC 3261
    §17.1.3).
    """
    if not via:
        return None
    return parseParams(via)[1].get("branch") or None


class _RandomHex:
    """
    Hex digits from the system's CSPRNG, drawn a few kilobytes at a time
    rather than one C{getrandom} call per tag (two per PnP exchange).
    """

    _chunk = 4096

    def __init__(self) -> None:
        self._pool = ""
        self._at = 0

    def __call__(self, digits: int) -> str:
        at = self._at
        end = at + digits
        if end > len(self._pool):
            self._pool = secrets.token_hex(self._chunk)
            at, end = 0, digits
        self._at = end
        return self._pool[at:end]


_randomHex = _RandomHex()


def newTag() -> str:
    """
    A fresh random From/To tag (64 bits).
    """
    return _randomHex(16)


def newBranch() -> str:
    """
    A fresh random Via branch (80 bits), with the RFC 3261 magic cookie.
    """
    return BRANCH_COOKIE + _randomHex(BRANCH_DIGITS)


def _required(message: SIPRequest | SIPResponse, name: str) -> str:
    """
    The first value of a header the reply must copy.

    @raise SIPParseError: if it is missing.
    """
    value = message.headers.get(name)
    if value is None:
        raise SIPParseError(f"no {name} header")
    return value


_HEADER_NAMES = {"from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}


def _missing(vias, fields, keys) -> SIPParseError:
    """
    The error for a message lacking a header a reply copies: no Via (when
    C{vias} is empty), or the first of C{keys} missing from C{fields}.
    """
    if not vias:
        return SIPParseError("no Via header")
    for key in keys:
        if key not in fields:
            return SIPParseError(f"no {_HEADER_NAMES[key]} header")
    return SIPParseError("a header is missing")


def _contact(contact: str) -> str:
    """
    A Contact value: C{contact} in angle brackets unless it already is a
    name-addr.
    """
    return contact if "<" in contact else f"<{contact}>"


def _withTag(nameAddr: str, tag: str) -> str:
    """
    A From/To value with a tag: C{nameAddr} as it is if it has one already,
    else with C{;tag=<tag>} appended.
    """
    try:
        if _tagOf(nameAddr):
            return nameAddr
    except SIPParseError:
        pass
    return f"{nameAddr};tag={tag}"


def taggedTo(subscribe: DecodedMessage, toTag: str) -> str | None:
    """
    The To value of our answers to C{subscribe} given our tag (C{None} when
    it has no To): for L{buildSubscribeOK} and L{buildNotify}, which then
    need not work it out twice.
    """
    to = subscribe.fields.get("to")
    return None if to is None else _withTag(to, toTag)


def headerLines(*pairs: tuple[str, str]) -> str:
    """
    Whole header lines (each ending in CRLF) of C{(name, value)} pairs: the
    C{extra} of L{buildResponse}.
    """
    return "".join(f"{name}: {value}\r\n" for name, value in pairs)


def _topVia(via: str, host: str, port: int) -> str:
    """
    The top Via of a response: C{received} set to the source address and
    C{rport} filled with the source port (added when absent); other
    parameters kept in place.
    """
    low = via.lower()
    if "received" not in low:
        # The usual forms, without splitting: no rport (append both), or a
        # single bare ";rport" at the end (fill it, then received).
        rport = low.find("rport")
        if rport < 0:
            return f"{via};received={host};rport={port}"
        if (
            rport == len(via) - 5
            and via[rport - 1 : rport] == ";"
            and '"' not in via
            and "<" not in via
        ):
            return f"{via}={port};received={host}"
    parts = splitQuoted(via, ";")
    kept = [parts[0]]
    rportDone = False
    for part in parts[1:]:
        name = part.partition("=")[0].strip().lower()
        if name == "rport":
            kept.append(f"rport={port}")
            rportDone = True
        elif name != "received":
            kept.append(part)
    kept.append(f"received={host}")
    if not rportDone:
        kept.append(f"rport={port}")
    return ";".join(kept)


def buildResponse(
    request: DecodedMessage,
    code: int,
    reason: str,
    source: tuple[str, int],
    toTag: str,
    extra: str = "",
    tagged: str | None = None,
) -> bytes:
    """
    A response to C{request} without body: every Via copied (the top one
    with C{received} and a filled C{rport}, see RFC 3581), From, Call-ID and
    CSeq copied, To copied with C{;tag=<toTag>} unless it has a tag, then
    C{extra}, then C{Content-Length: 0}.

    @param source: the C{(ip, port)} the request came from.
    @param extra: whole header lines, each ending in CRLF (see
        L{headerLines}), e.g. C{headerLines(("Allow", ALLOWED_METHODS))}
        for a 405.
    @param tagged: the To with our tag, when the caller already worked it
        out (L{taggedTo}).
    @raise SIPParseError: if C{request} has no Via, From, To, Call-ID or
        CSeq.
    """
    vias = request.vias
    fields = request.fields
    try:
        top = vias[0]
        from_, to, callID, cseq = fields["from"], fields["to"], fields["call-id"], fields["cseq"]
    except (IndexError, KeyError):
        raise _missing(vias, fields, ("from", "to", "call-id", "cseq")) from None
    top = _topVia(top, source[0], source[1])
    if len(vias) > 1:
        top = "\r\nVia: ".join([top, *vias[1:]])
    return (
        f"SIP/2.0 {code} {reason}\r\nVia: {top}\r\nFrom: {from_}\r\n"
        f"To: {tagged or _withTag(to, toTag)}\r\nCall-ID: {callID}\r\nCSeq: {cseq}\r\n"
        f"{extra}Content-Length: 0\r\n\r\n"
    ).encode("utf-8", "surrogateescape")


def buildSubscribeOK(
    subscribe: DecodedMessage, source: tuple[str, int], toTag: str, contact: str,
    tagged: str | None = None,
) -> bytes:
    """
    The C{200 OK} to a ua-profile SUBSCRIBE (DESIGN.md §1.1 step 2): see
    L{buildResponse}, plus our C{Contact} and C{Expires: 0}.

    @param contact: our SIP URI (C{sip:192.0.2.10:5060}); angle brackets
        are added unless present.
    @param tagged: see L{buildResponse}.
    @raise SIPParseError: see L{buildResponse}.
    """
    return buildResponse(subscribe, 200, "OK", source, toTag, subscribeOKHeaders(contact), tagged)


def subscribeOKHeaders(contact: str) -> str:
    """
    The header lines L{buildSubscribeOK} adds to L{buildResponse}'s (our
    C{Contact} and C{Expires: 0}): the same for every phone reaching us at
    C{contact}, so a caller may keep them and call L{buildResponse} itself.
    """
    return f"Contact: {_contact(contact)}\r\nExpires: 0\r\n"


def _notifyHead(
    target: str,
    via: str,
    branch: str,
    from_: str,
    to: str,
    callID: str,
    cseq: int,
    contact: str,
    event: str,
    extra: str,
    length: int,
) -> str:
    """
    The start line and headers of a NOTIFY we send, up to the blank line;
    C{extra} holds whole header lines put before C{Content-Length}.
    """
    if not branch.startswith(BRANCH_COOKIE):
        branch = BRANCH_COOKIE + branch
    return (
        f"NOTIFY {target} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {via};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: {from_}\r\n"
        f"To: {to}\r\n"
        f"Call-ID: {callID}\r\n"
        f"CSeq: {cseq} NOTIFY\r\n"
        f"Contact: {contact if '<' in contact else f'<{contact}>'}\r\n"
        f"Event: {event}\r\n"
        f"{extra}"
        f"Content-Length: {length}\r\n"
        "\r\n"
    )


def buildNotify(
    subscribe: DecodedMessage,
    toTag: str,
    branch: str,
    cseq: int,
    contact: str,
    via: str,
    body: str,
    tagged: str | None = None,
) -> bytes:
    """
    The C{NOTIFY} carrying the provisioning URL (DESIGN.md §1.1 step 3).

    Request-URI: the SUBSCRIBE's Contact URI (its From URI without one);
    C{Via: SIP/2.0/UDP <via>;branch=<branch>;rport}; C{Max-Forwards: 70};
    From: their To with our tag (the same From/To as in L{buildSubscribeOK}
    given the same C{toTag}); To: their From; the same Call-ID;
    C{CSeq: <cseq> NOTIFY}; our Contact; the SUBSCRIBE's Event;
    C{Subscription-State: terminated;reason=timeout};
    C{Content-Type: application/url}; the URL as body.

    @param branch: a fresh branch (see L{newBranch}); C{z9hG4bK} is put in
        front when missing.
    @param via: C{host:port} we send from, as the phone should reach us.
    @param contact: our SIP URI (angle brackets added unless present).
    @param body: the provisioning URL.
    @param tagged: see L{buildResponse}.
    @raise SIPParseError: if C{subscribe} lacks From, To, Call-ID or a
        usable Contact/From URI.
    """
    fields = subscribe.fields
    try:
        theirFrom, theirTo, callID = fields["from"], fields["to"], fields["call-id"]
    except KeyError:
        raise _missing(True, fields, ("from", "to", "call-id")) from None
    get = fields.get
    target = notifyTarget(get("contact"), theirFrom)
    # A URL is ASCII: then its length is known without encoding it apart,
    # and the whole datagram is encoded at once.
    ascii = body.isascii()
    encoded = b"" if ascii else body.encode("utf-8")
    head = _notifyHead(
        target,
        via,
        branch,
        tagged or _withTag(theirTo, toTag),
        theirFrom,
        callID,
        cseq,
        contact,
        get("event") or UA_PROFILE_EVENT,
        "Subscription-State: terminated;reason=timeout\r\n"
        "Content-Type: application/url\r\n",
        len(body) if ascii else len(encoded),
    )
    if ascii:
        return (head + body).encode("utf-8", "surrogateescape")
    return head.encode("utf-8", "surrogateescape") + encoded


def notifyTarget(theirContact: str | None, theirFrom: str) -> str:
    """
    The Request-URI of our NOTIFY: the URI of the SUBSCRIBE's Contact, or of
    its From when the Contact is missing, unusable or C{*}.

    @raise SIPParseError: if the From is needed and has no URI.
    """
    if theirContact and theirContact[0] == "<" and theirContact[-1] == ">" and theirContact.find(">") == len(theirContact) - 1:
        # The usual form, as parseNameAddr would read it.
        target = theirContact[1:-1].strip()
    else:
        target = _uriOf(theirContact)
    if not target or target == "*":
        target = parseNameAddr(theirFrom)[1]
    return target


def buildResyncNotify(
    targetURI: str,
    via: str,
    branch: str,
    fromTag: str,
    callID: str,
    cseq: int,
    contact: str,
    event: str,
    extra: str = "",
) -> bytes:
    """
    An unsolicited C{NOTIFY} that makes a phone re-sync (DESIGN.md §1.4;
    formats.md §1.10), without body.

    From is our Contact URI with C{fromTag}; To is C{targetURI}.

    @param targetURI: the phone's SIP URI (its last known address).
    @param event: C{"check-sync;reboot=false"} (snom), C{"resync"} (SPA):
        the vendor's C{resyncEvent}.
    @param branch: see L{buildNotify}.
    @param extra: whole header lines (each ending in CRLF) put before
        C{Content-Length}: the C{Authorization} of a challenged push.
    """
    ours = _contact(contact)
    return _notifyHead(
        targetURI, via, branch, f"{ours};tag={fromTag}", f"<{targetURI}>",
        callID, cseq, contact, event, extra, 0,
    ).encode("utf-8", "surrogateescape")

# -*- test-case-name: tests.test_sip_uaprofile -*-
"""
Pure ua-profile plug-and-play (RFC 6080 as phones use it): read a
SUBSCRIBE into a L{ProfileRequest}, and build the bytes of our replies:
the C{200 OK}, the C{NOTIFY} carrying the provisioning URL
(DESIGN.md §1.1 steps 2-3), other responses (§1.1 step 6) and the re-sync
C{NOTIFY} of a push (§1.4).

The builders fill string templates; nothing they build is parsed again.
They raise L{SIPParseError} when the request lacks a header they must copy.
"""

from __future__ import annotations

import secrets
from typing import Iterable

from snomprov.device import InvalidMAC, ProfileRequest, parseMAC
from snomprov.sip.message import (
    SIPParseError,
    SIPRequest,
    SIPResponse,
    parseNameAddr,
    parseParams,
    splitQuoted,
)

__all__ = [
    "UA_PROFILE_EVENT",
    "ALLOWED_METHODS",
    "eventPackage",
    "readProfileRequest",
    "isUAProfileSubscribe",
    "eventType",
    "macFromURI",
    "subscribeKey",
    "transactionKey",
    "viaBranch",
    "BRANCH_COOKIE",
    "BRANCH_DIGITS",
    "newTag",
    "newBranch",
    "buildResponse",
    "buildSubscribeOK",
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


def eventType(request: SIPRequest | SIPResponse) -> str | None:
    """
    The event package of the C{Event} header (see L{eventPackage}), or
    C{None} without one.
    """
    event = request.headers.get("Event")
    return None if event is None else eventPackage(event)


def isUAProfileSubscribe(message: SIPRequest | SIPResponse) -> bool:
    """
    Whether C{message} is a C{SUBSCRIBE} for the C{ua-profile} event.
    """
    return (
        isinstance(message, SIPRequest)
        and message.method == "SUBSCRIBE"
        and eventType(message) == UA_PROFILE_EVENT
    )


def _userPart(uri: str) -> str:
    """
    The user part of a SIP URI (C{""} without one), percent-escapes of C{:}
    and C{=} resolved.
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
    C{MAC:…}, C{MAC=…} or Yealink's C{MAC000413922D24}, normalised; C{None}
    for anything else (a bare number is never taken for a MAC).
    """
    if uri[:10] in _PLAIN_MAC_PREFIXES and uri[22:23] == "@":
        # What snom and most phones send: sip:MAC%3a<12 hex digits>@...
        bare = uri[10:22].upper()
        if _HEX.issuperset(bare):
            return bare
    user = _userPart(uri)
    if user[:3].upper() != "MAC":
        return None
    # The common forms (MAC:<hex>, MAC=<hex>, MAC<hex>) without parseMAC's
    # general machinery: this runs for every SUBSCRIBE.
    bare = user[4:] if user[3:4] in (":", "=") else user[3:]
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


def readProfileRequest(request: SIPRequest, sourceIP: str) -> ProfileRequest:
    """
    What a ua-profile SUBSCRIBE says of the phone.

    The MAC comes from the Request-URI, else the From, else the To URI (see
    L{macFromURI}); the rest from the C{Event} parameters (C{vendor}, or
    Panasonic's C{vender}; C{model}, C{version}, C{profile-type}) and the
    C{User-Agent} header.
    """
    headers = request.headers
    return profileOf(
        request.uri, headers.get("From"), headers.get("To"), headers.get("Event"),
        headers.get("User-Agent"), sourceIP,
    )


def profileOf(
    uri: str, from_: str | None, to: str | None, event: str | None, userAgent: str | None,
    sourceIP: str,
) -> ProfileRequest:
    """
    L{readProfileRequest} on the header values themselves (C{None} for a
    missing header): the Request-URI, the first From, To, Event and
    User-Agent values.
    """
    mac = macFromURI(uri)
    if mac is None:
        for value in (from_, to):
            found = _uriOf(value)
            if found is not None:
                mac = macFromURI(found)
                if mac is not None:
                    break
    vendor, model, version, profileType = _eventParams(event or "")
    return ProfileRequest(mac, vendor, model, version, profileType, userAgent, sourceIP)


_EVENT_PARAMS: dict[str, tuple[str | None, ...]] = {}
_EVENT_PARAMS_LIMIT = 4096


def _eventParams(event: str) -> tuple[str | None, ...]:
    """
    C{(vendor, model, version, profile-type)} of an C{Event} value, cleaned
    (see L{_cleanParam}).  Remembered per value (bounded): a boot storm
    repeats a few models and firmware versions.
    """
    known = _EVENT_PARAMS.get(event)
    if known is not None:
        return known
    params = parseParams(event)[1]
    vendor = params.get("vendor")
    if vendor is None:
        vendor = params.get("vender")
    result = (
        _cleanParam(vendor),
        _cleanParam(params.get("model")),
        _cleanParam(params.get("version")),
        _cleanParam(params.get("profile-type")),
    )
    if len(_EVENT_PARAMS) >= _EVENT_PARAMS_LIMIT:
        _EVENT_PARAMS.clear()
    _EVENT_PARAMS[event] = result
    return result


def _cseqNumber(message: SIPRequest | SIPResponse) -> int:
    """
    The sequence number of the C{CSeq} header.

    @raise SIPParseError: if there is none or it is not a number.
    """
    return cseqNumber(_required(message, "CSeq"))


def cseqNumber(cseq: str | None) -> int:
    """
    The sequence number of a C{CSeq} value.

    @raise SIPParseError: if C{cseq} is C{None} or not a number.
    """
    if cseq is None:
        raise SIPParseError("no CSeq header")
    number = cseq.partition(" ")[0]
    if not (number.isdigit() and number.isascii()):
        raise SIPParseError(f"bad CSeq {cseq!r}")
    return int(number)


def subscribeKey(request: SIPRequest) -> tuple[str, str, int]:
    """
    What identifies a SUBSCRIBE among its retransmissions: C{(Call-ID,
    From tag or "", CSeq number)}.

    @raise SIPParseError: without Call-ID, From or a numeric CSeq.
    """
    return (
        _required(request, "Call-ID"),
        _tagOf(_required(request, "From")),
        _cseqNumber(request),
    )


def subscribeKeyOf(callID: str | None, from_: str | None, cseq: str | None) -> tuple[str, str, int]:
    """
    L{subscribeKey} on the header values (C{None} for a missing header).

    @raise SIPParseError: without Call-ID, From or a numeric CSeq.
    """
    if callID is None:
        raise SIPParseError("no Call-ID header")
    if from_ is None:
        raise SIPParseError("no From header")
    return callID, _tagOf(from_), cseqNumber(cseq)


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
    C{(Call-ID, CSeq number)}: the key of a NOTIFY we sent, read from it or
    from the phone's response to it.

    @raise SIPParseError: without Call-ID or a numeric CSeq.
    """
    return (_required(message, "Call-ID"), _cseqNumber(message))


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


BRANCH_COOKIE = "z9hG4bK"
"""
The RFC 3261 magic cookie every branch we make starts with.
"""

BRANCH_DIGITS = 20
"""
The random hex digits after L{BRANCH_COOKIE} in a branch we make.
"""


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


def taggedTo(to: str | None, toTag: str) -> str | None:
    """
    The To value of our answers to a request whose To is C{to} (C{None}
    when missing), given our tag: for L{responseOf} and L{notifyOf}, which
    then need not work it out twice.
    """
    return None if to is None else _withTag(to, toTag)


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
    request: SIPRequest,
    code: int,
    reason: str,
    source: tuple[str, int],
    toTag: str,
    extraHeaders: Iterable[tuple[str, str]] = (),
) -> bytes:
    """
    A response to C{request} without body: every Via copied (the top one
    with C{received} and a filled C{rport}, see RFC 3581), From, Call-ID and
    CSeq copied, To copied with C{;tag=<toTag>} unless it has a tag, then
    C{extraHeaders} in order, then C{Content-Length: 0}.

    @param source: the C{(ip, port)} the request came from.
    @param extraHeaders: C{(name, value)} pairs, e.g.
        C{[("Allow", ALLOWED_METHODS)]} for a 405.
    @raise SIPParseError: if C{request} has no Via, From, To, Call-ID or
        CSeq.
    """
    headers = request.headers
    return responseOf(
        code, reason, headers.getAll("Via"), headers.get("From"), headers.get("To"),
        headers.get("Call-ID"), headers.get("CSeq"), source, toTag,
        "".join(f"{name}: {value}\r\n" for name, value in extraHeaders),
    )


def responseOf(
    code: int,
    reason: str,
    vias: list[str],
    from_: str | None,
    to: str | None,
    callID: str | None,
    cseq: str | None,
    source: tuple[str, int],
    toTag: str,
    extra: str = "",
    taggedTo: str | None = None,
) -> bytes:
    """
    L{buildResponse} on the request's header values: every Via element,
    the first From, To, Call-ID and CSeq (C{None} when missing); C{extra}
    holds whole header lines (each ending in CRLF); C{taggedTo}, when given,
    is C{to} with C{toTag} already added (see L{taggedTo}).

    @raise SIPParseError: if a Via, From, To, Call-ID or CSeq is missing.
    """
    if not vias:
        raise SIPParseError("no Via header")
    for name, value in (("From", from_), ("To", to), ("Call-ID", callID), ("CSeq", cseq)):
        if value is None:
            raise SIPParseError(f"no {name} header")
    top = _topVia(vias[0], source[0], source[1])
    if len(vias) > 1:
        top = "\r\nVia: ".join([top, *vias[1:]])
    return (
        f"SIP/2.0 {code} {reason}\r\nVia: {top}\r\nFrom: {from_}\r\n"
        f"To: {taggedTo or _withTag(to, toTag)}\r\nCall-ID: {callID}\r\nCSeq: {cseq}\r\n"
        f"{extra}Content-Length: 0\r\n\r\n"
    ).encode("utf-8", "surrogateescape")


def buildSubscribeOK(
    subscribe: SIPRequest, source: tuple[str, int], toTag: str, contact: str
) -> bytes:
    """
    The C{200 OK} to a ua-profile SUBSCRIBE (DESIGN.md §1.1 step 2): see
    L{buildResponse}, plus our C{Contact} and C{Expires: 0}.

    @param contact: our SIP URI (C{sip:192.0.2.10:5060}); angle brackets
        are added unless present.
    @raise SIPParseError: see L{buildResponse}.
    """
    return buildResponse(
        subscribe,
        200,
        "OK",
        source,
        toTag,
        (("Contact", _contact(contact)), ("Expires", "0")),
    )


def subscribeOKExtra(contact: str) -> str:
    """
    The header lines L{buildSubscribeOK} adds, for L{responseOf}.
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
    if not branch.startswith("z9hG4bK"):
        branch = "z9hG4bK" + branch
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
    subscribe: SIPRequest,
    toTag: str,
    branch: str,
    cseq: int,
    contact: str,
    via: str,
    body: str,
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
    @raise SIPParseError: if C{subscribe} lacks From, To, Call-ID or a
        usable Contact/From URI.
    """
    headers = subscribe.headers
    return notifyOf(
        headers.get("Contact"), headers.get("From"), headers.get("To"), headers.get("Call-ID"),
        headers.get("Event"), toTag, branch, cseq, contact, via, body,
    )


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


def notifyOf(
    theirContact: str | None, theirFrom: str | None, theirTo: str | None, callID: str | None,
    event: str | None, toTag: str, branch: str, cseq: int, contact: str, via: str, body: str,
    taggedTo: str | None = None,
) -> bytes:
    """
    L{buildNotify} on the SUBSCRIBE's first Contact, From, To, Call-ID and
    Event values (C{None} when missing); C{taggedTo} as for L{responseOf}.

    @raise SIPParseError: see L{buildNotify}.
    """
    for name, value in (("From", theirFrom), ("To", theirTo), ("Call-ID", callID)):
        if value is None:
            raise SIPParseError(f"no {name} header")
    target = notifyTarget(theirContact, theirFrom)
    encoded = body.encode("utf-8")
    head = _notifyHead(
        target,
        via,
        branch,
        taggedTo or _withTag(theirTo, toTag),
        theirFrom,
        callID,
        cseq,
        contact,
        event or UA_PROFILE_EVENT,
        "Subscription-State: terminated;reason=timeout\r\n"
        "Content-Type: application/url\r\n",
        len(encoded),
    )
    return head.encode("utf-8", "surrogateescape") + encoded


def buildResyncNotify(
    targetURI: str,
    via: str,
    branch: str,
    fromTag: str,
    callID: str,
    cseq: int,
    contact: str,
    event: str,
) -> bytes:
    """
    An unsolicited C{NOTIFY} that makes a phone re-sync (DESIGN.md §1.4;
    formats.md §1.10), without body.

    From is our Contact URI with C{fromTag}; To is C{targetURI}.

    @param targetURI: the phone's SIP URI (its last known address).
    @param event: C{"check-sync;reboot=false"} (snom), C{"resync"} (SPA):
        the vendor's C{resyncEvent}.
    @param branch: see L{buildNotify}.
    """
    ours = _contact(contact)
    return _notifyHead(
        targetURI, via, branch, f"{ours};tag={fromTag}", f"<{targetURI}>",
        callID, cseq, contact, event, "", 0,
    ).encode("utf-8", "surrogateescape")

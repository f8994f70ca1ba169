# -*- test-case-name: tests.test_sip_digest -*-
"""
HTTP digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617), from
the client's side: read a C{WWW-Authenticate} / C{Proxy-Authenticate}
challenge and write the C{Authorization} / C{Proxy-Authorization} answer.
MD5 and MD5-sess (and SHA-256, RFC 8760); C{qop=auth} when the challenge
offers it, else the RFC 2069 form.  Pure: no I/O, no clock; the client
nonce is the caller's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .message import SIPParseError, splitQuoted

__all__ = ["DigestChallenge", "DigestCredentials", "parseChallenge", "authorization"]

_HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5, "SHA-256": hashlib.sha256,
           "SHA-256-SESS": hashlib.sha256}
_SPELLING = {"MD5": "MD5", "MD5-SESS": "MD5-sess", "SHA-256": "SHA-256", "SHA-256-SESS": "SHA-256-sess"}


@dataclass(frozen=True)
class DigestCredentials:
    """
    A line's user and password, as a phone's digest challenge is answered
    with; the password never in its C{repr}.
    """

    username: str
    password: str

    def __repr__(self) -> str:
        return f"DigestCredentials(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class DigestChallenge:
    """
    @ivar qop: the qop values offered (C{("auth",)}), empty when none.
    @ivar algorithm: upper-case (C{MD5} when the challenge names none);
        see L{_SPELLING} for how it is written back.
    """

    realm: str
    nonce: str
    opaque: str | None = None
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escaped = [], False
        for character in value[1:-1]:
            if escaped or character != "\\":
                out.append(character)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return value


def parseChallenge(value: str) -> DigestChallenge:
    """
    A C{Digest} challenge header value.

    @raise SIPParseError: for another scheme, a missing C{realm} or
        C{nonce}, or an algorithm this module does not compute.
    """
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SIPParseError(f"not a Digest challenge: {scheme[:20]!r}")
    params: dict[str, str] = {}
    for item in splitQuoted(rest, ","):
        name, equals, text = item.partition("=")
        if equals:
            params[name.strip().lower()] = _unquote(text)
    if "realm" not in params or "nonce" not in params:
        raise SIPParseError("a Digest challenge needs a realm and a nonce")
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm not in _HASHES:
        raise SIPParseError(f"digest algorithm {algorithm[:20]!r} is not supported")
    qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
    return DigestChallenge(params["realm"], params["nonce"], params.get("opaque"), algorithm, qop)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def authorization(challenge: DigestChallenge, method: str, uri: str, credentials: DigestCredentials,
                  cnonce: str, nc: int = 1) -> str:
    """
    The C{Authorization} (or C{Proxy-Authorization}) header value answering
    C{challenge} for a request C{method uri}.

    @param cnonce: the client nonce (used with C{qop=auth} and the C{-sess}
        algorithms).
    @raise SIPParseError: when the challenge offers qop values but not
        C{auth} (C{auth-int} alone is not supported).
    """
    hashOf = _HASHES[challenge.algorithm]

    def h(text: str) -> str:
        return hashOf(text.encode("utf-8")).hexdigest()

    ha1 = h(f"{credentials.username}:{challenge.realm}:{credentials.password}")
    if challenge.algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    if challenge.qop and "auth" not in challenge.qop:
        raise SIPParseError(f"the challenge offers qop {','.join(challenge.qop)[:40]!r}, not auth")
    fields = [f"username={_quoted(credentials.username)}", f"realm={_quoted(challenge.realm)}",
              f"nonce={_quoted(challenge.nonce)}", f"uri={_quoted(uri)}"]
    if challenge.qop:
        count = f"{nc:08x}"
        response = h(f"{ha1}:{challenge.nonce}:{count}:{cnonce}:auth:{ha2}")
        fields += [f"response={_quoted(response)}", f"algorithm={_SPELLING[challenge.algorithm]}",
                   f"cnonce={_quoted(cnonce)}", "qop=auth", f"nc={count}"]
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")
        fields += [f"response={_quoted(response)}", f"algorithm={_SPELLING[challenge.algorithm]}"]
    if challenge.opaque is not None:
        fields.append(f"opaque={_quoted(challenge.opaque)}")
    return "Digest " + ", ".join(fields)

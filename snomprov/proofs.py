# -*- test-case-name: tests.test_proofs -*-
"""
Provisioning tokens and device credentials (DESIGN §5), as values: made
and checked with the daemon's key, never stored.

  - A B{token} is issued in a PnP NOTIFY's URL: bound to one MAC and to
    the address that sent the SUBSCRIBE, valid until its expiry (written
    in it).  C{t<expiry>.<mac>}: C{<expiry>} the POSIX second it ends (base
    36), C{<mac>} a truncated HMAC-SHA256 of the MAC, the address and the
    expiry under the key.  How many fetches it is good for is counted by
    L{snomprov.proofcheck.ProofChecker}.
  - A B{credential} rides in the URLs a phone keeps (snom's
    C{setting_server}, an SPA's C{Profile_Rule}) so that its later
    re-syncs prove themselves: C{c<mac>}, an HMAC of the MAC and the
    device's credential seed (L{snomprov.device.DeviceInfo.credential}),
    which an operator rotates to revoke every credential issued before.

Several daemons sharing a store share the key file (C{[provisioning]
key_file}) and accept each other's tokens and credentials.

Both ride in the request as its C{token} query parameter
(L{splitToken}); over TFTP as a C{?token=} suffix of the file name.

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["TOKEN_PREFIX", "CREDENTIAL_PREFIX", "KEY_BYTES", "issueToken", "tokenHolds", "credentialFor",
           "isCredential", "splitToken"]

KEY_BYTES = 32
"""
The size of a daemon's key.
"""

TOKEN_PREFIX = "t"
CREDENTIAL_PREFIX = "c"
_DIGEST_BYTES = 15  # 120 bits: 20 characters of base64url
_TOKEN = re.compile(r"t([0-9a-z]{1,12})\.([A-Za-z0-9_-]{20})\Z")
_CREDENTIAL = re.compile(r"c[A-Za-z0-9_-]{20}\Z")
_PARAMETER = re.compile(r"(?:^|&)token=([^&]*)")


def _digest(key: bytes, *parts: str) -> str:
    message = "\0".join(parts).encode("utf-8", "surrogateescape")
    raw = hmac.new(key, message, hashlib.sha256).digest()[:_DIGEST_BYTES]
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def issueToken(key: bytes, mac: str, address: str, expires: float) -> str:
    """
    A token for C{mac} fetching from C{address} until C{expires} (POSIX
    seconds, rounded up).
    """
    expiry = _base36(max(0, int(-(-expires // 1))))
    return f"{TOKEN_PREFIX}{expiry}.{_digest(key, 'token', mac, address, expiry)}"


def tokenHolds(key: bytes, token: str, mac: str, address: str, now: float) -> str | None:
    """
    Why C{token} does not prove that a request from C{address} comes from
    C{mac} at C{now}, or C{None} when it does.
    """
    match = _TOKEN.match(token)
    if match is None:
        return "the token is not one of ours"
    expiry, digest = match.groups()
    if not hmac.compare_digest(digest, _digest(key, "token", mac, address, expiry)):
        return "the token is for another device or address"
    if int(expiry, 36) < now:
        return "the token has expired"
    return None


def credentialFor(key: bytes, mac: str, seed: str | None) -> str:
    """
    The credential of C{mac} while its seed is C{seed}.
    """
    return CREDENTIAL_PREFIX + _digest(key, "credential", mac, seed or "")


def isCredential(text: str) -> bool:
    """
    Whether C{text} is shaped like a credential (not whether it is right).
    """
    return _CREDENTIAL.match(text) is not None


def splitToken(name: str) -> tuple[str, str | None]:
    """
    A requested name without its C{token} query parameter, and that
    parameter's value (C{None}: none; the last one, if several).  The rest
    of the query is kept, in order.
    """
    if "token=" not in name:
        return name, None
    path, sep, query = name.partition("?")
    if not sep:
        return name, None
    found = _PARAMETER.findall(query)
    if not found:
        return name, None
    rest = "&".join(p for p in query.split("&") if not p.startswith("token="))
    return (f"{path}?{rest}" if rest else path), found[-1]

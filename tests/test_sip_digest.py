"""
Tests for L{snomprov.sip.digest}: RFC 2617's own example, the RFC 2069
form, and the parser on any text (only its own error type).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, strategies as st

from snomprov.sip.digest import DigestChallenge, DigestCredentials, authorization, parseChallenge
from snomprov.sip.message import SIPParseError

MUFASA = DigestCredentials("Mufasa", "Circle Of Life")


def _fields(header: str) -> dict[str, str]:
    assert header.startswith("Digest ")
    out = {}
    for item in header[len("Digest "):].split(", "):
        name, _, value = item.partition("=")
        out[name] = value.strip('"')
    return out


def test_rfc2617Example():
    """
    RFC 2617 §3.5: the challenge of testrealm@host.com answered for
    C{GET /dir/index.html} gives its response
    C{6629fae49393a05397450978507c4ef1}.
    """
    challenge = parseChallenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')
    assert challenge == DigestChallenge("testrealm@host.com", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                                        "5ccc069c403ebaf9f0171e9517f40e41", "MD5", ("auth", "auth-int"))
    fields = _fields(authorization(challenge, "GET", "/dir/index.html", MUFASA, "0a4f113b"))
    assert fields["response"] == "6629fae49393a05397450978507c4ef1"
    assert (fields["qop"], fields["nc"], fields["cnonce"]) == ("auth", "00000001", "0a4f113b")
    assert fields["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    assert fields["username"] == "Mufasa" and fields["uri"] == "/dir/index.html"


def test_withoutQop():
    """
    A challenge with no qop is answered in the RFC 2069 form:
    MD5(HA1:nonce:HA2), no cnonce.
    """
    challenge = parseChallenge('Digest realm="spa", nonce="abc", algorithm=MD5')
    fields = _fields(authorization(challenge, "NOTIFY", "sip:192.0.2.4:5060", MUFASA, "ignored"))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    ha1, ha2 = md5("Mufasa:spa:Circle Of Life"), md5("NOTIFY:sip:192.0.2.4:5060")
    assert fields["response"] == md5(f"{ha1}:abc:{ha2}")
    assert "cnonce" not in fields and "qop" not in fields


def test_refused():
    """
    Another scheme, a missing nonce, an unknown algorithm and a qop
    without C{auth} are this module's error.
    """
    for value in ['Basic realm="x"', 'Digest realm="x"', 'Digest realm="x", nonce="n", algorithm=SHA-999']:
        with pytest.raises(SIPParseError):
            parseChallenge(value)
    with pytest.raises(SIPParseError):
        authorization(parseChallenge('Digest realm="x", nonce="n", qop="auth-int"'), "NOTIFY", "sip:x",
                      MUFASA, "c")


def test_credentialsNeverShowThePassword():
    assert "Circle" not in repr(MUFASA)


@given(st.text(max_size=300))
def test_parserRaisesOnlyItsError(text):
    """
    Any text is a challenge or L{SIPParseError}; a parsed one can be
    answered.
    """
    try:
        challenge = parseChallenge(text)
    except SIPParseError:
        return
    try:
        authorization(challenge, "NOTIFY", "sip:x", MUFASA, "c")
    except SIPParseError:
        pass

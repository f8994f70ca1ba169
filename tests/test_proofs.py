"""
Tests for L{snomprov.proofs}: tokens and credentials made and checked with
a key, and the C{token} parameter of a requested name.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from snomprov.proofs import credentialFor, isCredential, issueToken, splitToken, tokenHolds

KEY = bytes(range(32))
MAC = "000413AABBCC"


def test_aTokenHoldsForItsMACAndAddressUntilItExpires():
    token = issueToken(KEY, MAC, "192.0.2.5", 1000.0)
    assert tokenHolds(KEY, token, MAC, "192.0.2.5", 999.0) is None
    assert tokenHolds(KEY, token, MAC, "192.0.2.5", 1000.0) is None
    assert tokenHolds(KEY, token, MAC, "192.0.2.5", 1001.0) == "the token has expired"
    assert tokenHolds(KEY, token, "000413AABBCD", "192.0.2.5", 999.0) == "the token is for another device or address"
    assert tokenHolds(KEY, token, MAC, "192.0.2.6", 999.0) == "the token is for another device or address"
    assert tokenHolds(bytes(32), token, MAC, "192.0.2.5", 999.0) == "the token is for another device or address"


def test_anEditedExpiryDoesNotHold():
    """
    The expiry is covered by the digest: moving it on breaks the token.
    """
    token = issueToken(KEY, MAC, "192.0.2.5", 1000.0)
    expiry, digest = token[1:].split(".")
    later = "t" + "zz" + expiry + "." + digest
    assert tokenHolds(KEY, later, MAC, "192.0.2.5", 999.0) == "the token is for another device or address"


@given(st.text(max_size=60))
def test_anyTextIsCheckedWithoutRaising(text):
    assert tokenHolds(KEY, text, MAC, "192.0.2.5", 0.0) in (
        None, "the token is not one of ours", "the token is for another device or address", "the token has expired")
    assert tokenHolds(KEY, text, MAC, "192.0.2.5", 0.0) is not None or text.startswith("t")


def test_credentialsChangeWithTheSeed():
    first = credentialFor(KEY, MAC, None)
    assert first == credentialFor(KEY, MAC, "")
    assert first != credentialFor(KEY, MAC, "rotated")
    assert first != credentialFor(KEY, "000413AABBCD", None)
    assert isCredential(first) and not isCredential(issueToken(KEY, MAC, "192.0.2.5", 1.0))
    assert not isCredential(first + "x")


_VALUE = st.text(alphabet="abcXYZ019-._~%", max_size=12)


@given(st.sampled_from(["snom/000413AABBCC.xml", "spa000e08aabbcc.cfg", "a/b"]),
       st.lists(st.tuples(st.sampled_from(["mac", "token", "x", "tokens", "atoken"]), _VALUE), max_size=5))
def test_splitTokenTakesOutExactlyTheTokenParameters(path, parameters):
    """
    The name keeps every other parameter in order; the value is the last
    C{token}'s.
    """
    query = "&".join(f"{name}={value}" for name, value in parameters)
    name = f"{path}?{query}" if parameters else path
    rest = [f"{n}={v}" for n, v in parameters if n != "token"]
    tokens = [v for n, v in parameters if n == "token"]
    expectedName = f"{path}?{'&'.join(rest)}" if rest else (path if tokens or not parameters else name)
    assert splitToken(name) == (expectedName if tokens else name, tokens[-1] if tokens else None)


def test_splitTokenWithoutAQuery():
    assert splitToken("snom/token=x.xml") == ("snom/token=x.xml", None)

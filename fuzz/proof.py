"""
A request's proof (L{snomprov.proofs}): the C{token} parameter taken out
of any requested name (L{splitToken}), then checked as a token and as a
credential: nothing escapes; a name without C{token=} comes back whole;
what is left never holds a C{token} parameter; only a token issued with
the key for that MAC and address holds.
"""

from __future__ import annotations

from snomprov.proofs import credentialFor, isCredential, issueToken, splitToken, tokenHolds

_KEY = bytes(range(32))
_MAC = "000413922D24"


def seeds() -> list[bytes]:
    token = issueToken(_KEY, _MAC, "192.0.2.5", 10_000.0)
    return [f"snom/{_MAC}.xml?token={token}".encode(), b"spa000e08aabbcc.cfg?token=&mac=1",
            f"a?mac=1&token={credentialFor(_KEY, _MAC, None)}&x".encode(), b"token=?token==&&token",
            b"t0.AAAAAAAAAAAAAAAAAAAA", f"x?token={token}&token=t1.{'A' * 20}".encode()]


def testOneInput(data: bytes) -> None:
    name = data.decode("utf-8", "surrogateescape")
    rest, token = splitToken(name)
    if "token=" not in name:
        assert (rest, token) == (name, None)
    if token is not None:
        assert splitToken(rest) == (rest, None), (name, rest)
    for candidate in (token or "", name):
        why = tokenHolds(_KEY, candidate, _MAC, "192.0.2.5", 0.0)
        assert why is None or isinstance(why, str)
        if why is None:
            assert candidate == issueToken(_KEY, _MAC, "192.0.2.5", int(candidate[1:].split(".")[0], 36))
        if isCredential(candidate):
            assert (candidate == credentialFor(_KEY, _MAC, None)) == (candidate == credentialFor(_KEY, _MAC, ""))

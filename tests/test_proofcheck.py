"""
Tests for L{snomprov.proofcheck}, L{snomprov.networks} and
L{snomprov.keyfile}: which proof a request has, and the key tokens are
made with.
"""

from __future__ import annotations

import os
import stat

import pytest
from twisted.internet.task import Clock

from snomprov.config import parseConfig
from snomprov.keyfile import KeyFileError, readOrCreateKey
from snomprov.networks import NetworkSet
from snomprov.proofcheck import ProofChecker

KEY = bytes(range(32))
A = "000413AABBCC"
B = "000413AABBCD"


def _checker(text: str = "", clock=None) -> ProofChecker:
    return ProofChecker(KEY, parseConfig(text), clock or Clock())


def test_noProofByDefaultNamesEveryMissingOne():
    proof = _checker().prove(A, "http", "192.0.2.5", None, None)
    assert not proof and proof.proof is None
    assert proof.missing == ("no client certificate naming it", "no token", "no [http] allowed_networks",
                             "not from the address of its PnP")


def test_certificateNamingTheMAC():
    checker = _checker()
    assert checker.prove(A, "http", "192.0.2.5", A, None).proof == "certificate"
    assert not checker.prove(A, "http", "192.0.2.5", B, None)


def test_aTokenIsBoundToItsMACAndAddressAndCounted():
    clock = Clock()
    checker = _checker("[provisioning]\ntoken_fetches = 2\ntoken_seconds = 60\n", clock)
    token = checker.issue(A, "192.0.2.5")
    assert checker.prove(B, "http", "192.0.2.5", None, token).missing[1] == "the token is for another device or address"
    assert checker.prove(A, "http", "192.0.2.6", None, token).missing[1] == "the token is for another device or address"
    assert checker.prove(A, "http", "192.0.2.5", None, token).proof == "token"
    assert checker.prove(A, "tftp", "192.0.2.5", None, token).proof == "token"
    assert checker.prove(A, "http", "192.0.2.5", None, token).missing[1] == "the token is used up"
    fresh = checker.issue(A, "192.0.2.5")
    clock.advance(61)
    assert checker.prove(A, "http", "192.0.2.5", None, fresh).missing[1] == "the token has expired"


def test_noTokenWithoutAMACOrWhenTokensAreNotAccepted():
    assert _checker().issue(None, "192.0.2.5") == ""
    checker = _checker('[provisioning]\nproofs = ["network"]\n')
    assert checker.issue(A, "192.0.2.5") == ""
    token = _checker().issue(A, "192.0.2.5")
    proof = checker.prove(A, "http", "192.0.2.5", A, token)
    assert not proof and proof.missing == ("no [http] allowed_networks",)


def test_networksPerTransport():
    checker = _checker('[http]\nallowed_networks = ["10.0.0.0/8"]\n[tftp]\nallowed_networks = ["10.1.0.0/16"]\n')
    assert checker.prove(A, "http", "10.9.0.1", None, None).proof == "network"
    assert not checker.prove(A, "tftp", "10.9.0.1", None, None)
    assert "10.9.0.1 is outside [tftp] allowed_networks" in checker.prove(A, "tftp", "10.9.0.1", None, None).missing
    assert checker.prove(A, "tftp", "10.1.0.1", None, None).proof == "network"
    assert not checker.prove(A, "http", "not-an-address", None, None)


def test_pnpAddressWithinItsWindow():
    clock = Clock()
    checker = _checker("[provisioning]\npnp_address_seconds = 30\n", clock)
    assert not checker.prove(A, "http", "192.0.2.5", None, None)
    checker.acknowledged(A, "192.0.2.5")
    assert checker.prove(A, "http", "192.0.2.5", None, None).proof == "pnp-address"
    assert not checker.prove(A, "http", "192.0.2.6", None, None)
    assert not checker.prove(B, "http", "192.0.2.5", None, None)
    clock.advance(31)
    assert not checker.prove(A, "http", "192.0.2.5", None, None)


def test_credentials():
    checker = _checker()
    credential = checker.credential(A, None)
    assert checker.isCredential(credential) and not checker.isCredential(None)
    assert checker.credentialHolds(A, None, credential)
    assert not checker.credentialHolds(A, "rotated", credential)
    assert not checker.credentialHolds(B, None, credential)
    assert checker.prove(A, "http", "192.0.2.5", None, credential).missing[1] == "a credential that is not its own"
    assert not _checker('[provisioning]\nproofs = ["network"]\n').credentialHolds(A, None, credential)


def test_tablesAreBounded():
    checker = _checker()
    checker.maxEntries = 10
    for n in range(100):
        checker.acknowledged(f"000413{n:06X}", "192.0.2.5")
        checker.prove(A, "http", "192.0.2.5", None, checker.issue(A, "192.0.2.5"))
    assert len(checker._pnp) <= 10 and len(checker._uses) <= 10


def test_networkSet():
    networks = NetworkSet(parseConfig('[http]\nallowed_networks = ["10.0.0.0/8", "2001:db8::/32"]\n')
                          .http.allowedNetworks, maxAddresses=2)
    assert "10.1.2.3" in networks and "2001:db8::1" in networks
    assert "192.0.2.1" not in networks and "garbage" not in networks and "10.1.2.3" in networks
    assert NetworkSet(()).isEmpty and not networks.isEmpty


def test_keyFileMadePrivateOnceAndReadAgain(tmp_path):
    path = tmp_path / "var" / "provisioning.key"
    key = readOrCreateKey(str(path))
    assert len(key) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert readOrCreateKey(str(path)) == key


def test_aKeyFileWithoutAKeyIsRefused(tmp_path):
    path = tmp_path / "key"
    path.write_text("not hex\n")
    with pytest.raises(KeyFileError, match="not a key"):
        readOrCreateKey(str(path))
    with pytest.raises(KeyFileError, match=str(tmp_path / "file" / "key")):
        (tmp_path / "file").write_text("")
        readOrCreateKey(str(tmp_path / "file" / "key"))


def test_theAccessLogMasksTokens():
    """
    A proof in a request's URI never reaches the access log.
    """
    from twisted.web.test.requesthelper import DummyRequest

    from snomprov.web.bounds import accessLogFormatter

    request = DummyRequest([b"snom", b"x.xml"])
    request.uri = b"/snom/x.xml?mac=000413AABBCC&token=cSECRETCREDENTIAL01234&y=1"
    request.method = b"GET"
    request.clientproto = b"HTTP/1.1"
    request.code = 200
    request.sentLength = 10
    line = accessLogFormatter()("[04/Dec/2026:03:00:00 +0000]", request)
    assert "cSECRETCREDENTIAL" not in line and "token=***&y=1" in line and "mac=000413AABBCC" in line

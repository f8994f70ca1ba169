"""
Tests for L{snomprov.ldap}: the look-up against a real slapd (Debian's,
started by the test on loopback with a tiny directory,
L{slapdserver}), anonymous and bound; a directory that is down answers at
once, one that is slow (slapd stopped with SIGSTOP) within the timeout;
and the pure parts (filter escaping, endpoints) with hypothesis.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from zope.interface.verify import verifyObject

from slapdserver import ADMIN_DN, PEOPLE
from snomprov.config import LDAPConfig, parseConfig
from snomprov.ldap import (
    DirectoryEntry,
    DirectoryUnavailable,
    IDirectory,
    LDAPDirectory,
    directoryFor,
    endpointFor,
    searchFilter,
)


def _directory(url: str, **changes) -> LDAPDirectory:
    from twisted.internet import reactor

    return LDAPDirectory(LDAPConfig(url=url, baseDN=PEOPLE, **changes), reactor)


@pytest_twisted.ensureDeferred
async def test_lookUpAnonymous(slapd):
    directory = _directory(slapd.url)
    verifyObject(IDirectory, directory)
    assert await directory.lookUp("ada") == DirectoryEntry("ada", "Ada Lovelace", "1001", "ada@example.org")
    assert await directory.lookUp("grace") == DirectoryEntry("grace", "Grace Hopper", "", "grace@example.org")
    assert await directory.lookUp("nobody") is None
    assert await directory.lookUp("twin") is None  # two entries: not one user
    assert await directory.lookUp("*") is None  # escaped: no wildcard search
    assert await directory.lookUp("") is None


@pytest_twisted.ensureDeferred
async def test_lookUpBoundAndAttributes(slapd, tmp_path):
    secret = tmp_path / "bind.pw"
    secret.write_text(slapd.adminPassword + "\n")
    directory = _directory(slapd.url, bindDN=ADMIN_DN, bindPasswordFile=str(secret),
                           attributes={"display_name": "sn", "email": "mail"})
    assert await directory.lookUp("ada") == DirectoryEntry("ada", "Lovelace", "", "ada@example.org")
    secret.write_text("wrong\n")
    with pytest.raises(DirectoryUnavailable) as e:
        await directory.lookUp("ada")
    assert "refused" in str(e.value) and "wrong" not in str(e.value)


@pytest_twisted.ensureDeferred
async def test_downDirectory(slapd):
    directory = _directory(slapd.url, timeout=5.0)
    slapd.stop()
    with pytest.raises(DirectoryUnavailable) as e:
        await directory.lookUp("ada")
    assert "cannot be reached" in str(e.value)


@pytest_twisted.ensureDeferred
async def test_slowDirectoryTimesOut(slapd):
    directory = _directory(slapd.url, timeout=0.5)
    slapd.pause()
    try:
        with pytest.raises(DirectoryUnavailable) as e:
            await directory.lookUp("ada")
        assert "did not answer within 0.5 s" in str(e.value)
    finally:
        slapd.resume()
    assert (await directory.lookUp("ada")).extension == "1001"


@given(st.text(min_size=1, max_size=40))
def test_searchFilterEscapes(login):
    """
    Whatever the login, the filter is one equality on one value: no
    character of the login opens, closes or widens it.
    """
    from ldaptor.ldapfilter import parseFilter
    from ldaptor.protocols import pureldap

    text = searchFilter("(uid={login})", login)
    parsed = parseFilter(text)
    assert isinstance(parsed, pureldap.LDAPFilter_equalityMatch)
    value = parsed.assertionValue.value
    assert (value.decode("utf-8") if isinstance(value, bytes) else value) == login


def test_endpointFor():
    assert endpointFor("ldap://127.0.0.1:3890") == "tcp:127.0.0.1:3890"
    assert endpointFor("ldap://dir.example.org") == "tcp:dir.example.org:389"
    assert endpointFor("ldaps://dir.example.org") == "tls:dir.example.org:636"


def test_directoryFor(tmp_path):
    assert directoryFor(parseConfig("", baseDir=str(tmp_path)), None) is None
    config = parseConfig('[ldap]\nurl = "ldap://127.0.0.1:1"\nbase_dn = "o=x"\n', baseDir=str(tmp_path))
    assert isinstance(directoryFor(config, None), LDAPDirectory)

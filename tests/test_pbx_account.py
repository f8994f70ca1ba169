"""
Tests for L{snomprov.pbx.account}.
"""

import hashlib

from snomprov.device import Line
from snomprov.pbx.account import accountFor, ha1, ha1b


def test_accountForUsesTheAuthUserElseTheUser():
    """
    The PBX user name is the auth user when there is one, else the user; the
    realm is the sink's domain.
    """
    plain = accountFor("000413922D24", Line(1, "201", "pw", "Reception"), "pbx.example.org")
    assert (plain.username, plain.domain, plain.user, plain.password) == ("201", "pbx.example.org", "201", "pw")
    auth = accountFor("000413922D24", Line(2, "202", "pw", authUser="auth202"), "pbx.example.org")
    assert (auth.username, auth.index) == ("auth202", 2)
    assert "pw" not in repr(auth)


def test_hashesAreKamailios():
    """
    ha1 and ha1b as Kamailio's auth_db computes them.
    """
    assert ha1("201", "pbx.example.org", "pw") == hashlib.md5(b"201:pbx.example.org:pw").hexdigest()
    assert ha1b("201", "pbx.example.org", "pw") == hashlib.md5(b"201@pbx.example.org:pbx.example.org:pw").hexdigest()

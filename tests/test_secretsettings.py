"""
Tests for L{snomprov.secretsettings}: secrets are what vendors declare and
operators mark, never a name pattern.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from snomprov.device import Line, Setting
from snomprov.plugin import ISecretSettingsVendor, implementer
from snomprov.secretsettings import (
    declaredByAny,
    declaredSecrets,
    declaringVendors,
    isSecretForAny,
    isSecretSetting,
    linesWithoutPasswords,
    settingsWithoutSecrets,
)
from snomprov.vendors.linksys import LinksysVendor
from snomprov.vendors.snom import snomVendor


@implementer(ISecretSettingsVendor)
class _Acme:
    name = "acme"
    ouis = frozenset()
    secretSettings = frozenset({"Admin_PIN"})


def test_declaredNamesWhateverTheCase():
    """
    A declared name is a secret in any case and at any index; the same
    name is not a secret for a vendor that does not declare it.
    """
    acme = _Acme()
    assert declaredSecrets(acme) == {"admin_pin"}
    assert isSecretSetting(acme, Setting("admin_pin", "1234", idx=2))
    assert isSecretSetting(acme, Setting("ADMIN_PIN", "1234"))
    assert not isSecretSetting(snomVendor, Setting("Admin_PIN", "1234"))
    assert isSecretSetting(snomVendor, Setting("http_pass", "x"))
    assert isSecretSetting(LinksysVendor(), Setting("Admin_Passwd", "x"))
    assert declaredSecrets(None) == frozenset()


def test_noNamePattern():
    """
    A name that merely looks like a password is not a secret unless
    marked; one that does not look like one is, once marked.
    """
    assert not isSecretSetting(snomVendor, Setting("my_password_hint", "x"))
    assert isSecretSetting(snomVendor, Setting("web_language", "x", secret=True))


@given(st.lists(st.tuples(st.sampled_from(["http_pass", "user_pass", "language", "ntp_server", "x"]),
                          st.one_of(st.none(), st.integers(1, 3)), st.booleans()), max_size=12))
def test_withoutSecretsLeavesOutExactlyTheSecrets(rows):
    """
    L{settingsWithoutSecrets} keeps exactly the settings that are neither
    declared nor marked, unchanged.
    """
    settings = {(name, idx): Setting(name, "v", idx, secret=marked) for name, idx, marked in rows}
    kept = settingsWithoutSecrets(snomVendor, settings)
    assert kept == {key: s for key, s in settings.items()
                    if not (s.secret or s.name in {"http_pass", "user_pass"})}


def test_linesWithoutPasswords():
    lines = (Line(1, "alice", "s3cret"), Line(2, "bob"))
    assert linesWithoutPasswords(lines) == (Line(1, "alice", ""), Line(2, "bob"))


@given(st.sampled_from(["http_pass", "HTTP_PASS", "Admin_Passwd", "admin_pin", "language", "my_password"]),
       st.one_of(st.none(), st.integers(0, 3)), st.booleans(),
       st.lists(st.sampled_from(["snom", "linksys", "acme", "none"]), max_size=4))
def test_isSecretForAnyIsMarkedOrDeclaredByOne(name, idx, marked, chosen):
    """
    L{isSecretForAny} holds exactly for a marked setting or one whose name
    (in any case) one of the vendors declares; with no vendors, only a
    marked one.
    """
    known = {"snom": snomVendor, "linksys": LinksysVendor(), "acme": _Acme(), "none": None}
    vendors = [known[n] for n in chosen]
    setting = Setting(name, "v", idx, secret=marked)
    assert isSecretForAny(vendors, setting) == (marked or name.lower() in declaredByAny(
        [v for v in vendors if v is not None]))
    assert isSecretForAny(vendors, setting) == any(isSecretSetting(v, setting) for v in vendors) or (
        marked and not vendors)


def test_isSecretForAnyExamples():
    assert isSecretForAny([snomVendor], Setting("http_pass", "x"))
    assert not isSecretForAny([LinksysVendor()], Setting("http_pass", "x"))
    assert isSecretForAny([LinksysVendor(), snomVendor], Setting("Http_Pass", "x", 3))
    assert not isSecretForAny([snomVendor, _Acme()], Setting("language", "x"))
    assert isSecretForAny([], Setting("language", "x", secret=True))
    assert not isSecretForAny([], Setting("http_pass", "x"))
    assert declaringVendors([LinksysVendor(), snomVendor, _Acme()], Setting("HTTP_pass", "x")) == ("snom",)
    assert declaringVendors([snomVendor], Setting("language", "x", secret=True)) == ()

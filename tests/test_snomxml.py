"""
Tests for L{snomprov.vendors.snomxml}: the upload parser and the writers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from snomprov.device import Setting, SettingsLayer
from snomprov.vendors.snomxml import (
    SNOM_PERMS,
    SettingsXMLError,
    parseSettingsXML,
    renderContainer,
    renderFirmware,
    renderSettings,
    unwritableSettings,
    xmlSafe,
)

FIXTURES = Path(__file__).parent / "fixtures" / "snom"


def refusal(data: bytes, **kw: int) -> SettingsXMLError:
    """
    Parse C{data} expecting a refusal, and return it.
    """
    with pytest.raises(SettingsXMLError) as info:
        parseSettingsXML(data, "site", **kw)
    return info.value


def test_exampleFile() -> None:
    """
    The example file is read in order, with C{idx}, entity-decoded values
    and every C{perm} exactly as written (C{""}, C{" "}, C{&} and absent
    differ).
    """
    layer = parseSettingsXML((FIXTURES / "settings-example.xml").read_bytes(), "model:snomD785")
    assert layer.scope == "model:snomD785"
    byKey = {s.key: s for s in layer.settings}
    assert [s.name for s in layer.settings][:4] == [
        "setting_server",
        "language",
        "timezone",
        "ntp_server",
    ]
    assert byKey[("language", None)].perm == ""
    assert byKey[("timezone", None)].perm == " "
    assert byKey[("ntp_server", None)].perm is None
    assert byKey[("tone_scheme", None)].perm == "&"
    assert byKey[("user_name", 1)] == Setting("user_name", "4711", 1, "R")
    assert byKey[("user_idle_text", 1)].value == "Empfang & Büro"
    assert set(layer.documents) == {"functionKeys", "tbook", "dialplan"}
    tbook = etree.fromstring(layer.documents["tbook"])
    assert tbook.get("complete") == "true"
    assert tbook.findtext("item/name") == "Müller"


def test_barePhoneSettings() -> None:
    """
    A file whose root is C{<phone-settings>} is accepted.
    """
    layer = parseSettingsXML(b'<phone-settings e="2"><a idx="0">x</a><b/></phone-settings>', "site")
    assert layer == SettingsLayer("site", (Setting("a", "x", 0), Setting("b", "")), {})


@pytest.mark.parametrize(
    "root, key",
    [("functionKeys", "functionKeys"), ("function-keys", "functionKeys"), ("phone-book", "tbook"), ("dial-plan", "dialplan")],
)
def test_bareSectionAndAliases(root: str, key: str) -> None:
    """
    A section alone is accepted, and snom's alias names are stored under the
    canonical document key with the element kept as written.
    """
    data = f'<{root} e="2"><x a="1">y</x></{root}>'.encode()
    layer = parseSettingsXML(data, "site")
    assert layer.settings == ()
    assert layer.documents == {key: data}


@pytest.mark.parametrize("root", ["setting-files", "settings-files"])
def test_containerRefused(root: str) -> None:
    """
    A container (either spelling) is refused with a message saying it lists
    files rather than holding settings.
    """
    error = refusal(f'<{root}>\n<file url="http://x/a.xml"/></{root}>'.encode())
    assert error.line == 1
    assert "container" in error.reason


@pytest.mark.parametrize(
    "data, line, words",
    [
        (b"<firmware-settings><firmware>u</firmware></firmware-settings>", 1, "firmware"),
        (b"<html/>", 1, "root element"),
        (b"<settings>\n<certificates/></settings>", 2, "not supported"),
        (b"<settings>\n<tbook/>\n<tbook/></settings>", 3, "second"),
        (b"<settings><phone-settings>\n<a idx='x'>1</a></phone-settings></settings>", 2, "idx"),
        (b"<settings><phone-settings>\n<a idx='-1'>1</a></phone-settings></settings>", 2, "idx"),
        (b"<phone-settings>\n\n<a action='remove'/></phone-settings>", 3, "action"),
        (b"<phone-settings>\n<a><b/></a></phone-settings>", 2, "child"),
        (b"<phone-settings>\n<a idx='1'/>\n<a idx='1'/></phone-settings>", 3, "repeated"),
        (b"<phone-settings>\nstray<a/></phone-settings>", 1, "text"),
        (b"<phone-settings>\n<x:a xmlns:x='urn:x'/></phone-settings>", 2, "namespace"),
    ],
)
def test_refusedWithLine(data: bytes, line: int, words: str) -> None:
    """
    Each kind of bad file is refused whole, with the line of the problem and
    a reason naming it.
    """
    error = refusal(data)
    assert error.line == line
    assert words in error.reason
    assert str(error) == f"line {line}: {error.reason}"


@pytest.mark.parametrize("perm", ["r", "RWX", "  ", "RV", "yes"])
def test_badPermRefused(perm: str) -> None:
    """
    A C{perm} outside snom's set is refused with its line.
    """
    data = f'<settings>\n<phone-settings>\n<a/>\n<b perm="{perm}">1</b></phone-settings></settings>'
    error = refusal(data.encode())
    assert error.line == 4
    assert "perm" in error.reason


@pytest.mark.parametrize("perm", SNOM_PERMS)
def test_goodPermKept(perm: str) -> None:
    """
    Every accepted C{perm} is stored exactly as written.
    """
    quoted = perm.replace("&", "&amp;")
    layer = parseSettingsXML(f'<phone-settings><a perm="{quoted}">v</a></phone-settings>'.encode(), "site")
    assert layer.settings[0].perm == perm


def test_malformedRefusedWithLine() -> None:
    """
    XML that is not well-formed is refused with the parser's line.
    """
    error = refusal(b"<settings>\n<phone-settings>\n<a>1</b>\n</phone-settings></settings>")
    assert error.line == 3
    assert "well-formed" in error.reason


def test_billionLaughsRefused() -> None:
    """
    An entity-expansion bomb is refused (no DOCTYPE is allowed) and never
    expanded.
    """
    lol = ["<!ENTITY lol0 'lol'>"] + [
        f"<!ENTITY lol{i} '{('&lol' + str(i - 1) + ';') * 10}'>" for i in range(1, 10)
    ]
    data = (
        "<?xml version='1.0'?>\n<!DOCTYPE settings [" + "".join(lol) + "]>\n"
        "<settings><phone-settings><a>&lol9;</a></phone-settings></settings>"
    ).encode()
    error = refusal(data)
    assert error.line == 2
    assert "DOCTYPE" in error.reason


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE p [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
        "<!DOCTYPE p [<!ENTITY % e SYSTEM 'http://192.0.2.1/x.dtd'> %e;]>",
        "<!DOCTYPE p SYSTEM 'file:///etc/passwd'>",
    ],
)
def test_externalEntityRefused(doctype: str) -> None:
    """
    External entities and DTDs are refused; nothing from C{/etc/passwd}
    reaches a layer.
    """
    data = f"{doctype}\n<phone-settings><a>&e;</a></phone-settings>".encode()
    with pytest.raises(SettingsXMLError) as info:
        parseSettingsXML(data, "site")
    assert "DOCTYPE" in info.value.reason


def test_doctypeInOtherEncodingRefused() -> None:
    """
    A DOCTYPE the byte search cannot see (UTF-16) is still refused, by the
    check on the parsed tree.
    """
    data = "<?xml version='1.0' encoding='utf-16'?>\n<!DOCTYPE p>\n<phone-settings/>"
    error = refusal(data.encode("utf-16"))
    assert "DOCTYPE" in error.reason


def test_oversizeRefusedBeforeParsing() -> None:
    """
    A file over the limit is refused by size before it is parsed: even bytes
    that are not XML get the size message.
    """
    error = refusal(b"x" * 101, maxSize=100)
    assert error.line is None
    assert "limit is 100 bytes" in str(error)
    assert parseSettingsXML(b"<phone-settings/>", "site", maxSize=17).settings == ()


def test_emptyRefused() -> None:
    """
    An empty file is refused with a reason, not a parser trace.
    """
    assert str(refusal(b" \n")) == "file is empty"


def test_controlCharacterReferenceRefused() -> None:
    """
    A character XML 1.0 forbids, even as a reference, makes the file
    malformed.
    """
    error = refusal(b"<phone-settings>\n<a>&#1;</a></phone-settings>")
    assert error.line == 2


def test_renderPermExactly() -> None:
    """
    The writer keeps C{perm=""} and C{perm=" "} apart and writes no C{perm}
    for C{None}.
    """
    out = renderSettings([Setting("a", "1", perm=""), Setting("b", "2", perm=" "), Setting("c", "3")])
    assert b'<a perm="">1</a>' in out
    assert b'<b perm=" ">2</b>' in out
    assert b"<c>3</c>" in out


def test_renderDeclarationAndSection() -> None:
    """
    Documents start with the double-quoted UTF-8 declaration and the settings
    section carries C{e="2"}.
    """
    out = renderSettings([])
    assert out.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<settings>')
    assert etree.fromstring(out).find("phone-settings").get("e") == "2"


def test_renderLeavesOutBadNames() -> None:
    """
    A setting whose name is not an XML name is left out of the file and
    reported by L{unwritableSettings}; the others are written.
    """
    settings = [Setting("1a", "x"), Setting("a b", "x"), Setting("ok", "y"), Setting("p:q", "z")]
    root = etree.fromstring(renderSettings(settings))
    assert [e.tag for e in root.find("phone-settings")] == ["ok"]
    assert [s.name for s in unwritableSettings(settings)] == ["1a", "a b", "p:q"]


def test_renderSkipsBrokenDocument() -> None:
    """
    A stored document that is not well-formed is left out rather than
    breaking the phone's whole file.
    """
    out = renderSettings([], {"tbook": b"<tbook>", "dialplan": b"<dialplan/>"})
    assert [e.tag for e in etree.fromstring(out)] == ["phone-settings", "dialplan"]


def test_firmwareFile() -> None:
    """
    The firmware file names the image, or is empty when nothing is to be
    installed.
    """
    assert etree.fromstring(renderFirmware("http://fw/a.bin")).findtext("firmware") == "http://fw/a.bin"
    assert len(etree.fromstring(renderFirmware(None))) == 0


ANY_TEXT = st.text(st.characters(exclude_categories=()))
NAMES = st.one_of(
    st.from_regex(r"[A-Za-z_\u00c0-\u00ff\u4e00-\u4e10][A-Za-z0-9_.\-\u00c0-\u00ff]{0,12}", fullmatch=True),
    ANY_TEXT,
)
SETTINGS = st.lists(
    st.builds(
        Setting,
        name=NAMES,
        value=ANY_TEXT,
        idx=st.none() | st.integers(0, 999),
        perm=st.none() | st.sampled_from(SNOM_PERMS),
    ),
    unique_by=lambda s: s.key,
    max_size=12,
)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "functionKeys": st.just('<functionKeys e="2"><fkey idx="0">line</fkey></functionKeys>'.encode()),
        "tbook": ANY_TEXT.map(lambda t: _tbook(t)),
        "dialplan": st.just(b'<dialplan e="2"><TEMPLATE MATCH="9,1." User="Phone"/></dialplan>'),
    },
)


def _tbook(name: str) -> bytes:
    """
    A phone book with one entry called C{name}.
    """
    root = etree.Element("tbook", e="2")
    etree.SubElement(etree.SubElement(root, "item"), "name").text = xmlSafe(name) or None
    return etree.tostring(root, encoding="utf-8")


@settings(max_examples=300)
@given(SETTINGS, DOCUMENTS)
def test_settingsRoundTrip(settingsList: list[Setting], documents: dict[str, bytes]) -> None:
    """
    Any settings and documents, with any Unicode values (C{&}, C{<}, quotes,
    control characters), render to well-formed XML that parses back to the
    same settings, in order, with XML-illegal characters stripped and
    unwritable names left out; the documents come back byte for byte.
    """
    out = renderSettings(settingsList, documents)
    layer = parseSettingsXML(out, "site")
    unwritable = unwritableSettings(settingsList)
    expected = tuple(
        Setting(s.name, xmlSafe(s.value), s.idx, s.perm) for s in settingsList if s not in unwritable
    )
    assert layer.settings == expected
    assert layer.documents == documents


@given(st.lists(ANY_TEXT, max_size=5))
def test_containerRoundTrip(urls: list[str]) -> None:
    """
    Any URLs make a well-formed container whose C{url} attributes read back
    as written (less XML-illegal characters).
    """
    root = etree.fromstring(renderContainer(urls))
    assert root.tag == "setting-files"
    assert [f.get("url") for f in root.iter("file")] == [xmlSafe(u) for u in urls]

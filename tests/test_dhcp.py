"""
Tests for L{snomprov.dhcp}: the text of the ISC dhcpd, Kea and dnsmasq
snippets, their escaping, and the values they refuse.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snomprov.device import DHCPRule
from snomprov.dhcp import (
    FORMATS,
    InvalidDHCPValue,
    Reservation,
    render,
    renderDnsmasq,
    renderISC,
    renderKea,
)

SNOM = DHCPRule(
    name="snom",
    vendorClasses=("snom",),
    ouis=("000413",),
    options={66: "192.0.2.10", 67: "snom.htm"},
)
LINKSYS = DHCPRule(
    name="linksys",
    vendorClasses=("LINKSYS SPA", "Cisco SPA"),
    ouis=("000E08", "00:18:f8"),
    options={66: "192.0.2.10", 150: "192.0.2.10, 192.0.2.11", 160: "http://192.0.2.10/spa$PSN.cfg"},
)
RESERVATIONS = (
    Reservation("00-04-13-aa-bb-cc", "desk42", SNOM, "192.0.2.42"),
    Reservation("000e08112233", None, LINKSYS),
)


def _withOption(code: int, value: str) -> DHCPRule:
    """
    The snom rule with one option set to C{value}.
    """
    return DHCPRule("snom", ("snom",), ("000413",), {code: value})


def _block(text: str, opening: str) -> str:
    """
    The lines of C{text} from the line starting with C{opening} to the next
    closing C{}}.
    """
    start = text.index(opening)
    return text[start : text.index("\n}", start) + 2]


# -- ISC dhcpd ---------------------------------------------------------------


def test_iscClassPerRule():
    """
    Each rule is one ISC class matched by an option 60 prefix of the right
    length or by the OUI in the hardware address, carrying its options.
    """
    text = renderISC([SNOM, LINKSYS])
    assert _block(text, 'class "snomprov-snom"') == (
        'class "snomprov-snom" {\n'
        '  match if (substring(option vendor-class-identifier, 0, 4) = "snom")\n'
        "        or (substring(hardware, 1, 3) = 00:04:13);\n"
        '  option tftp-server-name "192.0.2.10";\n'
        '  option bootfile-name "snom.htm";\n'
        "}"
    )
    linksys = _block(text, 'class "snomprov-linksys"')
    assert '(substring(option vendor-class-identifier, 0, 11) = "LINKSYS SPA")' in linksys
    assert '(substring(option vendor-class-identifier, 0, 9) = "Cisco SPA")' in linksys
    assert "(substring(hardware, 1, 3) = 00:18:f8);" in linksys
    assert "  option snomprov-tftp-servers 192.0.2.10, 192.0.2.11;" in linksys
    assert '  option snomprov-opt160 "http://192.0.2.10/spa$PSN.cfg";' in linksys


def test_iscDefinesOnlyUsedOptions():
    """
    ISC option definitions appear for the non-standard codes in use only:
    none for snom's 66/67, 150 and 160 for the SPA rule.
    """
    assert " code " not in renderISC([SNOM])
    text = renderISC([SNOM, LINKSYS])
    assert "option snomprov-tftp-servers code 150 = array of ip-address;" in text
    assert "option snomprov-opt160 code 160 = text;" in text
    assert "code 159" not in text


def test_iscHosts():
    """
    A reservation is an ISC host with its MAC, fixed address, host name and
    the options of its rule; without address or name those lines are left out.
    """
    text = renderISC([], RESERVATIONS)
    assert _block(text, "host snomprov-000413aabbcc") == (
        "host snomprov-000413aabbcc {\n"
        "  hardware ethernet 00:04:13:aa:bb:cc;\n"
        "  fixed-address 192.0.2.42;\n"
        '  option host-name "desk42";\n'
        '  option tftp-server-name "192.0.2.10";\n'
        '  option bootfile-name "snom.htm";\n'
        "}"
    )
    other = _block(text, "host snomprov-000e08112233")
    assert "fixed-address" not in other and "host-name" not in other
    assert "option snomprov-tftp-servers 192.0.2.10, 192.0.2.11;" in other


def test_iscEscapesQuotes():
    """
    Double quotes and backslashes in an ISC string are escaped with a
    backslash.
    """
    text = renderISC([_withOption(67, 'a"b\\c')])
    assert '  option bootfile-name "a\\"b\\\\c";\n' in text


# -- Kea -----------------------------------------------------------------------


def test_keaIsJSONWithClassesAndReservations():
    """
    The Kea snippet is one JSON object with a client class per rule (test
    on option 60 prefixes and OUIs, options always sent) and global
    reservations.
    """
    snippet = json.loads(renderKea([SNOM, LINKSYS], RESERVATIONS))
    assert set(snippet) == {"option-def", "client-classes", "reservations-global", "reservations"}
    snom, linksys = snippet["client-classes"]
    assert snom == {
        "name": "snomprov-snom",
        "test": "(substring(option[60].hex,0,4) == 'snom') or (substring(pkt4.mac,0,3) == 0x000413)",
        "option-data": [
            {"name": "tftp-server-name", "code": 66, "data": "192.0.2.10", "always-send": True},
            {"name": "boot-file-name", "code": 67, "data": "snom.htm", "always-send": True},
        ],
    }
    assert "(substring(option[60].hex,0,11) == 'LINKSYS SPA')" in linksys["test"]
    assert "(substring(pkt4.mac,0,3) == 0x0018F8)" in linksys["test"]
    assert snippet["reservations-global"] is True
    desk = snippet["reservations"][0]
    assert (desk["hw-address"], desk["hostname"], desk["ip-address"]) == (
        "00:04:13:aa:bb:cc",
        "desk42",
        "192.0.2.42",
    )
    assert [o["code"] for o in desk["option-data"]] == [66, 67]
    assert "hostname" not in snippet["reservations"][1]


def test_keaOptionDefOnlyWhenNeeded():
    """
    Kea gets option definitions for 150 and 160 only when they are used, and
    no reservation keys without reservations.
    """
    assert set(json.loads(renderKea([SNOM]))) == {"client-classes"}
    definitions = json.loads(renderKea([LINKSYS]))["option-def"]
    assert definitions == [
        {"name": "snomprov-tftp-servers", "code": 150, "space": "dhcp4",
         "type": "ipv4-address", "array": True},
        {"name": "snomprov-opt160", "code": 160, "space": "dhcp4", "type": "string"},
    ]


def test_keaLeavesOut159():
    """
    Kea cannot send option 159 as text: it is left out of the option data
    and a comment says so.
    """
    [klass] = json.loads(renderKea([_withOption(159, "http://192.0.2.10/x")]))["client-classes"]
    assert "option-data" not in klass
    assert "option 159 left out" in klass["comment"]


def test_keaEscapesCommas():
    """
    In Kea's comma-separated option data a comma and a backslash of a text
    are escaped with a backslash.
    """
    [klass] = json.loads(renderKea([_withOption(160, "http://x/a,b\\c")]))["client-classes"]
    assert klass["option-data"][0]["data"] == "http://x/a\\,b\\\\c"


def test_keaHexForAwkwardVendorClass():
    """
    A vendor class that is not plain letters, digits and punctuation safe in
    Kea's quoted literals (which have no escapes) is written in hex.
    """
    rule = DHCPRule("odd", ("it's",), (), {66: "192.0.2.10"})
    [klass] = json.loads(renderKea([rule]))["client-classes"]
    assert klass["test"] == "(substring(option[60].hex,0,4) == 0x69742773)"


# -- dnsmasq -------------------------------------------------------------------


def test_dnsmasqTagPerRule():
    """
    A rule is one dnsmasq tag, set by vendor class and by MAC wildcard, with
    forced options; texts are quoted so an address in option 66 goes out as
    text.
    """
    lines = renderDnsmasq([SNOM, LINKSYS]).splitlines()
    assert lines[lines.index('dhcp-vendorclass=set:snomprov-snom,"snom"') :][:4] == [
        'dhcp-vendorclass=set:snomprov-snom,"snom"',
        "dhcp-mac=set:snomprov-snom,00:04:13:*:*:*",
        'dhcp-option-force=tag:snomprov-snom,66,"192.0.2.10"',
        'dhcp-option-force=tag:snomprov-snom,67,"snom.htm"',
    ]
    assert 'dhcp-vendorclass=set:snomprov-linksys,"Cisco SPA"' in lines
    assert "dhcp-mac=set:snomprov-linksys,00:18:f8:*:*:*" in lines
    assert "dhcp-option-force=tag:snomprov-linksys,150,192.0.2.10,192.0.2.11" in lines


def test_dnsmasqHosts():
    """
    A reservation is a C{dhcp-host} line setting its own tag (with address
    and name when given) followed by that tag's options.
    """
    lines = renderDnsmasq([], RESERVATIONS).splitlines()
    assert "dhcp-host=00:04:13:aa:bb:cc,set:snomprov-000413aabbcc,192.0.2.42,desk42" in lines
    assert 'dhcp-option-force=tag:snomprov-000413aabbcc,67,"snom.htm"' in lines
    assert "dhcp-host=00:0e:08:11:22:33,set:snomprov-000e08112233" in lines


def test_dnsmasqEscapesQuotes():
    """
    Double quotes and backslashes inside a dnsmasq quoted string are escaped
    with a backslash.
    """
    text = renderDnsmasq([_withOption(67, 'a"b\\c')])
    assert 'dhcp-option-force=tag:snomprov-snom,67,"a\\"b\\\\c"\n' in text


# -- shared behaviour ------------------------------------------------------------


def test_ruleWithoutMatchersOnlyForReservations():
    """
    A rule with no vendor class and no OUI gives no class or tag, but a
    reservation naming it still gets its options.
    """
    rule = DHCPRule("bare", (), (), {66: "192.0.2.10"})
    reservation = Reservation("000413aabbcc", None, rule)
    assert "snomprov-bare" not in renderISC([rule], [reservation])
    assert json.loads(renderKea([rule], [reservation]))["client-classes"] == []
    text = renderDnsmasq([rule], [reservation])
    assert "snomprov-bare" not in text
    assert 'dhcp-option-force=tag:snomprov-000413aabbcc,66,"192.0.2.10"' in text


def test_bareReservation():
    """
    A reservation without a rule is a host entry with no options.
    """
    reservation = Reservation("000413aabbcc", "lobby", None, "192.0.2.5")
    assert _block(renderISC([], [reservation]), "host") == (
        "host snomprov-000413aabbcc {\n"
        "  hardware ethernet 00:04:13:aa:bb:cc;\n"
        "  fixed-address 192.0.2.5;\n"
        '  option host-name "lobby";\n'
        "}"
    )
    assert json.loads(renderKea([], [reservation]))["reservations"] == [
        {"hw-address": "00:04:13:aa:bb:cc", "hostname": "lobby", "ip-address": "192.0.2.5"}
    ]


def test_classNamesSanitised():
    """
    Class and tag names are C{snomprov-} plus the rule name in lower case
    with other characters than letters and digits made C{-}.
    """
    rule = DHCPRule('Acme "Phones"; x {1}', ("acme",), (), {66: "192.0.2.10"})
    assert 'class "snomprov-acme-phones-x-1" {' in renderISC([rule])
    assert "set:snomprov-acme-phones-x-1," in renderDnsmasq([rule])


def test_renderDispatches():
    """
    L{render} gives the output of the writer its format names.
    """
    assert render("isc", [SNOM], RESERVATIONS) == renderISC([SNOM], RESERVATIONS)
    assert render("kea", [SNOM], RESERVATIONS) == renderKea([SNOM], RESERVATIONS)
    assert render("dnsmasq", [SNOM], RESERVATIONS) == renderDnsmasq([SNOM], RESERVATIONS)
    assert FORMATS == ("isc", "kea", "dnsmasq")


def test_renderUnknownFormat():
    """
    An unknown format is refused with a message naming the allowed ones.
    """
    with pytest.raises(ValueError, match="'bind'.*isc, kea, dnsmasq"):
        render("bind", [SNOM], ())


# -- refusals -----------------------------------------------------------------

_BAD = [
    ("newline in 66", [_withOption(66, "192.0.2.10\n}\nclass x {")], [], "printable ASCII"),
    ("carriage return", [_withOption(67, "a\rb")], [], "printable ASCII"),
    ("NUL", [_withOption(67, "a\x00")], [], "printable ASCII"),
    ("non-ASCII", [_withOption(67, "caf\u00e9")], [], "printable ASCII"),
    ("empty", [_withOption(67, "")], [], "printable ASCII"),
    ("too long", [_withOption(160, "x" * 256)], [], "at most 255"),
    ("unknown code", [_withOption(43, "x")], [], "option 43 is not supported.*66, 67, 150, 159, 160"),
    ("bad 150", [_withOption(150, "192.0.2.10; evil")], [], "not an IPv4 address"),
    ("empty 150", [_withOption(150, " , ")], [], "not a list of IPv4"),
    ("bad OUI", [DHCPRule("x", (), ("0004", ), {})], [], "not an OUI"),
    ("newline in vendor class", [DHCPRule("x", ("snom\n",), (), {})], [], "vendor class"),
    ("nameless rule", [DHCPRule("!!", ("snom",), (), {})], [], "no letter or digit"),
    ("same class name", [SNOM, DHCPRule("SNOM!", ("x",), (), {})], [], "also that of rule 'snom'"),
    ("bad MAC", [], [Reservation("00:04:13", None, None)], "not a MAC"),
    ("MAC twice", [], [Reservation("000413aabbcc", None, None), Reservation("00:04:13:AA:BB:CC", None, None)], "reserved twice"),
    ("bad host name", [], [Reservation("000413aabbcc", 'a" ; evil', None)], "not one DNS label"),
    ("host name newline", [], [Reservation("000413aabbcc", "desk\n", None)], "not one DNS label"),
    ("bad address", [], [Reservation("000413aabbcc", None, None, "192.0.2.300")], "not an IPv4"),
    ("bad option in reservation", [], [Reservation("000413aabbcc", None, _withOption(66, "a\nb"))], "reservation 000413AABBCC option 66"),
]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("rules, reservations, message", [b[1:] for b in _BAD], ids=[b[0] for b in _BAD])
def test_refused(format, rules, reservations, message):
    """
    Values that could break or inject configuration, or that no server would
    accept, are refused with L{InvalidDHCPValue} naming the problem, in
    every format.
    """
    with pytest.raises(InvalidDHCPValue, match=message):
        render(format, rules, reservations)


# -- escaping round trips -------------------------------------------------------

_printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=255)


def _unquote(line: str, prefix: str) -> str:
    """
    Read the backslash-escaped double-quoted string that follows C{prefix}
    in C{line}, as ISC dhcpd and dnsmasq do; return it, C{|} and what
    follows it on the line.
    """
    assert line.startswith(prefix + '"')
    rest = line[len(prefix) + 1 :]
    out, i = [], 0
    while rest[i] != '"':
        if rest[i] == "\\":
            i += 1
        out.append(rest[i])
        i += 1
    return "".join(out) + "|" + rest[i + 1 :]


_QUOTED = [
    (renderISC, "  option bootfile-name ", ";"),
    (renderDnsmasq, "dhcp-option-force=tag:snomprov-snom,67,", ""),
]


@given(_printable)
def test_quotedStringRoundTrip(value):
    """
    Any printable ASCII text reads back unchanged from its quoted string in
    the ISC and dnsmasq snippets, and the line ends right after it.
    """
    for writer, prefix, end in _QUOTED:
        [line] = [l for l in writer([_withOption(67, value)]).splitlines() if l.startswith(prefix)]
        assert _unquote(line, prefix) == value + "|" + end


def _keaTokens(data: str) -> list[str]:
    """
    Split option data at unescaped commas the way Kea does (C{\\,} is a
    comma, C{\\\\} a backslash, other backslashes are kept).
    """
    tokens, token, escaped = [], "", False
    for c in data:
        if escaped:
            token += c if c in ",\\" else "\\" + c
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == ",":
            tokens.append(token)
            token = ""
        else:
            token += c
    return tokens + [token + ("\\" if escaped else "")]


@given(_printable)
def test_keaDataRoundTrip(value):
    """
    Any printable ASCII text is one token of Kea's comma-separated option
    data, equal to the text.
    """
    [klass] = json.loads(renderKea([_withOption(160, value)]))["client-classes"]
    assert _keaTokens(klass["option-data"][0]["data"]) == [value]


@given(_printable)
def test_keaVendorClassLiteral(value):
    """
    Any printable vendor class is a Kea literal that stands for exactly its
    bytes: quoted without quotes inside, or hex.
    """
    [klass] = json.loads(renderKea([DHCPRule("x", (value,), (), {})]))["client-classes"]
    match = re.fullmatch(r"\(substring\(option\[60\]\.hex,0,(\d+)\) == (.*)\)", klass["test"])
    assert match is not None
    assert int(match.group(1)) == len(value)
    literal = match.group(2)
    if literal.startswith("0x"):
        assert bytes.fromhex(literal[2:]).decode("ascii") == value
    else:
        assert literal == f"'{value}'" and "'" not in value

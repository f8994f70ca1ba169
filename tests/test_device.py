"""
Tests for L{snomprov.device}: MAC parsing and the pure values.
"""

import pytest
from hypothesis import given, strategies as st

from snomprov.device import (
    DeviceInfo,
    InvalidMAC,
    InvalidScope,
    Line,
    Setting,
    SettingsLayer,
    formatMAC,
    mergeLayers,
    parseMAC,
    parseScope,
)

MAC = "000413922D24"


@pytest.mark.parametrize(
    "text",
    [
        "000413922D24",
        "000413922d24",
        "00:04:13:92:2d:24",
        "00-04-13-92-2D-24",
        "0004.1392.2d24",
        " 000413922D24\r\n",  # a barcode scanner's output
        "MAC:000413922D24",
        "MAC000413922D24",
        b"00:04:13:92:2D:24",
    ],
)
def test_parseMACForms(text):
    """
    Every accepted spelling of a MAC normalises to 12 upper-case hex digits.
    """
    assert parseMAC(text) == MAC


@pytest.mark.parametrize(
    "text",
    ["", "00041392", "000413922D2", "000413922D245", "00:04:13:92:2d:2g",
     "0:004:13:92:2d:24", "00:0413:92:2d:24", "ZZ0413922D24", "\xff" * 12, b"\xff\xfe"],
)
def test_parseMACRefuses(text):
    """
    Anything that is not a MAC is refused with L{InvalidMAC}.
    """
    with pytest.raises(InvalidMAC):
        parseMAC(text)


octets = st.lists(st.integers(0, 255), min_size=6, max_size=6)


@given(octets, st.sampled_from([":", "-", ""]), st.booleans())
def test_parseMACRoundTrip(values, separator, lower):
    """
    A MAC written with any separator and case parses back to its canonical
    form, and formatting the canonical form gives the written one.
    """
    canonical = "".join(f"{v:02X}" for v in values)
    written = formatMAC(canonical, separator, lower)
    assert parseMAC(written) == canonical
    assert parseMAC(canonical.lower()[:4] + "." + canonical.lower()[4:8] + "." + canonical.lower()[8:]) == canonical


@given(st.text())
def test_parseMACOnlyRaisesInvalidMAC(text):
    """
    Arbitrary text either parses to 12 hex digits or raises L{InvalidMAC}.
    """
    try:
        result = parseMAC(text)
    except InvalidMAC:
        return
    assert len(result) == 12 and int(result, 16) >= 0


def test_lineReprHidesPassword():
    """
    A line's repr never shows its password, so it cannot reach a log.
    """
    assert "s3cret" not in repr(Line(1, "100", password="s3cret"))


@pytest.mark.parametrize(
    "text,expected",
    [("site", "site"), ("vendor:snom", "vendor:snom"), ("model:snomD785", "model:snomD785"),
     ("device:00:04:13:92:2d:24", "device:000413922D24")],
)
def test_parseScope(text, expected):
    """
    Scopes are validated and a device scope's MAC normalised.
    """
    assert parseScope(text) == expected


@pytest.mark.parametrize("text", ["", "sites", "vendor:", "model", "device:xyz", "group:a"])
def test_parseScopeRefuses(text):
    """
    Anything but the four scope forms is refused.
    """
    with pytest.raises(InvalidScope):
        parseScope(text)


def test_mergeLayersOrder():
    """
    Layers merge site < vendor < model < device whatever order they come
    in, per (name, idx).
    """
    layers = [
        SettingsLayer("device:" + MAC, (Setting("language", "Deutsch"),)),
        SettingsLayer("site", (Setting("language", "English"), Setting("user_host", "a", idx=1),
                               Setting("user_host", "b", idx=2))),
        SettingsLayer("model:snomD785", (Setting("user_host", "c", idx=2, perm="R"),)),
    ]
    merged = mergeLayers(layers)
    assert merged[("language", None)].value == "Deutsch"
    assert merged[("user_host", 1)].value == "a"
    assert merged[("user_host", 2)] == Setting("user_host", "c", idx=2, perm="R")

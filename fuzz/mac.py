"""
MAC parsing (L{snomprov.device.parseMAC}, L{parseOUI}, the SIP URI reading
L{snomprov.sip.uaprofile.macFromURI}, the CSV column's L{readMAC}): only
L{InvalidMAC} (L{FieldProblem} for the column) escapes; a MAC read is 12
upper-case hex digits that every spelling L{formatMAC} writes reads back
to; C{bytes} and C{str} read alike.
"""

from __future__ import annotations

import re

from snomprov.csvimport import FieldProblem, readMAC
from snomprov.device import InvalidMAC, formatMAC, parseMAC, parseOUI
from snomprov.sip.uaprofile import macFromURI

_MAC = re.compile(r"[0-9A-F]{12}")


def seeds() -> list[bytes]:
    return [b"00:04:13:92:2d:24", b"0004.1392.2D24", b"MAC:000413922D24\r\n", b"00-04-13",
            b"sip:MAC%3a000413922D24@h", b"sip:MAC=00:04:13:92:2d:24@h", b"0:004:13:92:2d:24"]


def _read(read, text):
    try:
        return read(text)
    except InvalidMAC:
        return None


def testOneInput(data: bytes) -> None:
    text = data.decode("latin-1")
    mac = _read(parseMAC, text)
    if data.isascii():
        assert _read(parseMAC, data) == mac, data
    else:
        assert _read(parseMAC, data) is None, data
    try:
        assert readMAC(text) == mac
    except FieldProblem as e:
        assert mac is None and e.field == "mac"
    if mac is not None:
        assert _MAC.fullmatch(mac), mac
        for separator in (":", "-", ".", ""):
            for lower in (False, True):
                assert parseMAC(formatMAC(mac, separator, lower)) == mac
    oui = _read(parseOUI, text)
    assert oui is None or re.fullmatch(r"[0-9A-F]{6}", oui), oui
    found = macFromURI(text)
    assert found is None or _MAC.fullmatch(found), found

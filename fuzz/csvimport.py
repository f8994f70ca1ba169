"""
The devices CSV import (L{snomprov.operations.imports.decodeCSV}, then
L{snomprov.csvimport.parseDeviceCSV}): only L{Refused} (bytes that are not
UTF-8) and L{CSVImportError} escape; every error names a line that exists
in the file (or none); a plan holds normalised MACs, each with its lines,
and parsing the same text again gives the same plan.
"""

from __future__ import annotations

import re

from snomprov.csvimport import CSVImportError, parseDeviceCSV
from snomprov.operations.errors import Refused
from snomprov.operations.imports import decodeCSV

_VENDORS = ("snom", "linksys")
_HEADER = b"mac,vendor,model,line,user,password,display_name,registrar"


def seeds() -> list[bytes]:
    return [
        _HEADER + b"\n000413A1B2C3,snom,snomD785,1,100,pw,Ada,pbx.example\n"
        b"000413A1B2C3,snom,snomD785,2,101,pw2,Ada 2,pbx.example\n",
        b"\xef\xbb\xbf" + _HEADER + b",auth_user,outbound_proxy\r\n"
        b"00:02:fd:ff:21:03,Linksys,SPA942,1,200,\"p,w\",\"B \"\"q\"\"\",pbx,a200,proxy\r\n",
        _HEADER + b"\nnot-a-mac,nobody,,0,,,,\n\"unclosed\n",
    ]


def testOneInput(data: bytes) -> None:
    try:
        text = decodeCSV(data, "f.csv")
    except Refused:
        return
    try:
        plan = parseDeviceCSV(text, _VENDORS, "f.csv")
    except CSVImportError as e:
        assert e.errors and len(e.problems) == len(e.errors), e
        lines = text.count("\n") + text.count("\r") + 1
        for number, _ in e.problems:
            assert number is None or 1 <= number <= lines, (number, lines)
        return
    assert plan.devices, plan
    for device in plan.devices:
        assert re.fullmatch(r"[0-9A-F]{12}", device.mac), device
        assert plan.lines[device.mac], device
    assert parseDeviceCSV(text, _VENDORS, "f.csv") == plan

"""
Settings-XML upload: the snom reader (L{snomprov.vendors.snomxml.parseSettingsXML})
raises only L{SettingsXMLError}, and a layer it reads renders
(L{renderSettings}) to a file it reads back to the same settings and
documents; the operators' layer upload (L{snomprov.operations.layers.parseLayer},
as XML and as JSON) raises only L{Refused}.
"""

from __future__ import annotations

from snomprov.operations.errors import Refused
from snomprov.operations.layers import parseLayer
from snomprov.registry import discoverVendors
from snomprov.vendors.snomxml import SettingsXMLError, parseSettingsXML, renderSettings, unwritableSettings

from . import fixtures

_REGISTRY = discoverVendors()
_SCOPE = "model:snomD785"


def seeds() -> list[bytes]:
    return fixtures("snom", "*.xml") + [
        b'<phone-settings><user_pname idx="1" perm="R">100</user_pname><x perm="RW"/></phone-settings>',
        b'<settings><phone-settings/><functionKeys><fkey idx="0">line</fkey></functionKeys></settings>',
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "x">]><settings>&e;</settings>',
        b'{"settings": [{"name": "user_pname", "idx": 1, "value": "100", "perm": "R"}]}',
    ]


def testOneInput(data: bytes) -> None:
    try:
        layer = parseSettingsXML(data, _SCOPE)
    except SettingsXMLError:
        pass
    else:
        assert not unwritableSettings(layer.settings), layer
        again = parseSettingsXML(renderSettings(layer.settings, layer.documents), _SCOPE)
        assert again.settings == layer.settings, (layer, again)
        assert set(again.documents) == set(layer.documents), (layer, again)
    for contentType in ("application/xml", "application/json"):
        try:
            parseLayer(_REGISTRY, _SCOPE, data, contentType)
        except Refused:
            pass

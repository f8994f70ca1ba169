# -*- test-case-name: tests.test_vendor_linksys -*-
"""
A pure writer for the Linksys/Sipura/Cisco SPA XML "open format" profile.

The document is one C{<flat-profile>} element holding one element per
parameter::

    <flat-profile>
      <Resync_Periodic ua="na">3600</Resync_Periodic>
      <Proxy_1_ ua="na">sip.example.com</Proxy_1_>
    </flat-profile>

Facts the writer keeps (Cisco Small Business IP Telephony Provisioning
Guide, "Element Tags, Attributes, Parameters, and Formatting"):

  - a parameter's element name is its web-UI field name with spaces and
    C{[ ] ( ) /} replaced by C{_}; per-line fields carry an C{_n_} suffix
    (C{Proxy_1_}); names are case-sensitive;
  - C{<X></X>} sets a parameter to the empty string, while C{<X/>} leaves
    it unchanged: so an empty value is written with both tags;
  - the C{ua} attribute gives the phone's I{User} web account C{na} (no
    access), C{ro} or C{rw}; absent, the factory default applies.

Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from lxml import etree

from ..xmltext import xmlSafe

__all__ = [
    "UA_VALUES",
    "FlatParameter",
    "isParameterName",
    "parameterName",
    "xmlSafe",
    "writeFlatProfile",
]

UA_VALUES = ("na", "ro", "rw")
"""
The values of the C{ua} (user access) attribute.
"""

_PARAMETER_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*")

# Characters XML 1.0 cannot carry at all, not even as a reference.

_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def isParameterName(name: str) -> bool:
    """
    Whether C{name} has the shape of an SPA parameter name: an upper-case
    ASCII letter, then letters, digits and underscores
    (C{Resync_Periodic}, C{Proxy_1_}, C{Speed_Dial_2_2_}).

    The shape also keeps other vendors' settings out of SPA files: snom's
    names are lower case (C{user_pname}).
    """
    return _PARAMETER_NAME.fullmatch(name) is not None


def parameterName(name: str, idx: int | None) -> str:
    """
    The element name of a setting: C{name} itself, or C{name_idx_} for an
    indexed one (C{("Proxy", 1)} is C{Proxy_1_}).
    """
    return name if idx is None else f"{name}_{idx}_"


@dataclass(frozen=True)
class FlatParameter:
    """
    One parameter of a flat profile.

    @ivar name: the element name (see L{isParameterName}).
    @ivar value: the text; C{""} sets the parameter empty, C{None} writes
        C{<name/>}, which leaves the phone's value unchanged.
    @ivar ua: one of L{UA_VALUES}, or C{None} for no C{ua} attribute.
    """

    name: str
    value: str | None
    ua: str | None = None


def writeFlatProfile(parameters: Iterable[FlatParameter]) -> bytes:
    """
    Serialise parameters, in order, as a UTF-8 C{<flat-profile>} document.

    Values are escaped by lxml; characters XML cannot carry are dropped
    (see L{xmlSafe}).

    @raise ValueError: if a name is not a parameter name or a C{ua} is not
        one of L{UA_VALUES}.
    """
    root = etree.Element("flat-profile")
    root.text = "\n  "
    element = None
    for parameter in parameters:
        if not isParameterName(parameter.name):
            raise ValueError(f"not an SPA parameter name: {parameter.name!r}")
        if parameter.ua is not None and parameter.ua not in UA_VALUES:
            raise ValueError(
                f"{parameter.name}: ua must be one of {', '.join(UA_VALUES)}, "
                f"not {parameter.ua!r}"
            )
        element = etree.SubElement(root, parameter.name)
        if parameter.ua is not None:
            element.set("ua", parameter.ua)
        if parameter.value is not None:
            # "" (not None) makes lxml write <X></X>: "set empty".
            element.text = xmlSafe(parameter.value)
        element.tail = "\n  "
    if element is None:
        root.text = "\n"
    else:
        element.tail = "\n"
    return _DECLARATION + etree.tostring(root, encoding="utf-8") + b"\n"

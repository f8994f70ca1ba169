# -*- test-case-name: tests.test_snomxml -*-
"""
Text that XML 1.0 can carry, and element names: shared by every vendor's
document writer and by the checks of uploaded layers.
"""

from __future__ import annotations

import re

from lxml import etree

__all__ = ["xmlSafe", "isXMLName"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xmlSafe(text: str) -> str:
    """
    C{text} without the characters XML 1.0 cannot carry (NUL and the other
    C0 controls but tab, line feed and carriage return; lone surrogates;
    U+FFFE, U+FFFF).  Markup characters (C{&<>"}) are kept: the writers
    escape them.
    """
    return _NOT_XML.sub("", text)


def isXMLName(name: str) -> bool:
    """
    Whether C{name} can be an element name (no namespace prefix).
    """
    if ":" in name or not name or name != xmlSafe(name):
        return False
    try:
        etree.Element(name)
    except ValueError:
        return False
    return True

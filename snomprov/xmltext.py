"""
Text that XML 1.0 can carry: shared by every vendor's document writer.
"""

import re

__all__ = ["xmlSafe"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xmlSafe(text: str) -> str:
    """
    C{text} without the characters XML 1.0 cannot carry (NUL and the other
    C0 controls but tab, line feed and carriage return; lone surrogates;
    U+FFFE, U+FFFF).  Markup characters (C{&<>"}) are kept: the writers
    escape them.
    """
    return _NOT_XML.sub("", text)

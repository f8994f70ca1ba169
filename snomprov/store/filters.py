# -*- test-case-name: tests.test_store_devices -*-
"""
The text filter of a page of devices, written once for every backend: a
case-insensitive substring (ASCII letters fold, as SQL's C{lower} and
C{LIKE} do everywhere) of a device's MAC, model, notes, address or
firmware, or of one of its lines' user, auth user or display name.  Pure.
"""

from __future__ import annotations

import string
from typing import Iterable

from snomprov.device import DeviceInfo, Line

__all__ = ["DEVICE_TEXT_FIELDS", "LINE_TEXT_FIELDS", "foldText", "likePattern", "textMatches"]

DEVICE_TEXT_FIELDS = ("mac", "model", "notes", "ip", "firmware")
"""
The device fields the text filter searches (also its SQL columns).
"""

LINE_TEXT_FIELDS = (("user", '"user"'), ("authUser", "auth_user"), ("displayName", "display_name"))
"""
The line fields the text filter searches, with their SQL columns.
"""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def foldText(text: str) -> str:
    """
    C{text} with ASCII letters in lower case (what SQL's C{lower} does
    without ICU); other characters as they are.
    """
    return text.translate(_ASCII_LOWER)


def likePattern(text: str) -> str:
    """
    The C{LIKE ... ESCAPE '\\'} pattern matching C{text} (folded) anywhere:
    C{%}, C{_} and C{\\} in it are literal.
    """
    escaped = foldText(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def textMatches(text: str, device: DeviceInfo, lines: Iterable[Line]) -> bool:
    """
    Whether the text filter C{text} matches C{device} with its C{lines}.
    """
    wanted = foldText(text)
    values = [getattr(device, name) for name in DEVICE_TEXT_FIELDS]
    for line in lines:
        values.extend(getattr(line, name) for name, _ in LINE_TEXT_FIELDS)
    return any(value is not None and wanted in foldText(value) for value in values)

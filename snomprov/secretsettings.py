# -*- test-case-name: tests.test_secretsettings -*-
"""
Which values of a file are secrets, and the file's parts without them
(DESIGN §5): the lines' passwords, each vendor's declared secret settings
(L{snomprov.interfaces.ISecretSettingsVendor.secretSettings}, by name,
whatever the case and index) and every setting an operator marked secret
(L{snomprov.device.Setting.secret}).  Not a name pattern: a setting is a
secret because somebody said so.

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from .device import Line, Setting
from .interfaces import ISecretSettingsVendor

__all__ = ["declaredSecrets", "declaredByAny", "isSecretSetting", "isSecretForAny", "declaringVendors",
           "linesWithoutPasswords",
           "settingsWithoutSecrets"]

_declared: dict[int, tuple[object, frozenset[str]]] = {}


def declaredSecrets(vendor) -> frozenset[str]:
    """
    The lower-cased names of C{vendor}'s declared secret settings (none
    for a vendor that declares none, or C{None}).
    """
    if vendor is None:
        return frozenset()
    known = _declared.get(id(vendor))
    if known is not None and known[0] is vendor:
        return known[1]
    names: frozenset[str] = frozenset()
    if ISecretSettingsVendor.providedBy(vendor):
        names = frozenset(str(name).lower() for name in vendor.secretSettings)
    if len(_declared) >= 256:
        _declared.clear()
    _declared[id(vendor)] = (vendor, names)
    return names


def declaredByAny(vendors) -> frozenset[str]:
    """
    The lower-cased names any of C{vendors} declares secret.
    """
    names: set[str] = set()
    for vendor in vendors:
        names |= declaredSecrets(vendor)
    return frozenset(names)


def isSecretSetting(vendor, setting: Setting) -> bool:
    """
    Whether C{setting}'s value is a secret for C{vendor}'s files: marked
    so by an operator, or declared so by any of C{vendor}.
    """
    return setting.secret or setting.name.lower() in declaredSecrets(vendor)


def isSecretForAny(vendors, setting: Setting) -> bool:
    """
    Whether C{setting}'s value is a secret wherever it is shown: marked so
    by an operator, or declared so by any of C{vendors} (a layer's
    C{http_pass} is a secret whichever vendor's file it reaches).

    @param vendors: the installed vendors (those declaring nothing count
        for nothing).
    """
    return setting.secret or bool(declaringVendors(vendors, setting))


def declaringVendors(vendors, setting: Setting) -> tuple[str, ...]:
    """
    The names of those of C{vendors} declaring C{setting}'s name secret,
    in their order (what the settings page shows).
    """
    return tuple(vendor.name for vendor in vendors if setting.name.lower() in declaredSecrets(vendor))


def settingsWithoutSecrets(vendor, settings: Mapping[tuple, Setting],
                           declared: frozenset[str] | None = None) -> dict[tuple, Setting]:
    """
    Merged settings (key to L{Setting}) with every secret one left out
    (not emptied: the phone keeps what it has).

    @param declared: the lower-cased names declared secret (by every
        installed vendor: a layer's C{http_pass} is a secret in any
        vendor's file); C{None}: C{vendor}'s own.
    """
    if declared is None:
        declared = declaredSecrets(vendor)
    return {key: s for key, s in settings.items() if not (s.secret or s.name.lower() in declared)}


def linesWithoutPasswords(lines: Iterable[Line]) -> tuple[Line, ...]:
    """
    The lines with their passwords left out (empty: the vendors write no
    password setting for an empty one).
    """
    return tuple(replace(line, password="") if line.password else line for line in lines)

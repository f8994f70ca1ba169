# -*- test-case-name: tests.test_operations_render -*-
"""
What a phone would receive (C{snomprov render}, C{GET
/api/devices/{mac}/files/{name}}): one device's file rendered from the
store exactly as the phone would get it, without recording a fetch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from snomprov.device import InvalidMAC, RenderedFile, Setting, parseMAC
from snomprov.interfaces import IBuiltinSettingsVendor, IFileVendor
from snomprov.rendering import MASK, deviceFileNames, renderContext
from snomprov.storedrender import renderStored
from snomprov.urltemplate import TOKEN_MARK, fillTokenMark

from .errors import NotFound, Refused

__all__ = ["BuiltinSettings", "builtinSettings", "checkMAC", "listFiles", "renderFile"]


def checkMAC(text: str) -> str:
    """
    A MAC in any spelling, normalised.

    @raise Refused: for anything else.
    """
    try:
        return parseMAC(text)
    except InvalidMAC as e:
        raise Refused(str(e)) from None


async def _vendorOf(store, registry, mac: str):
    device = await store.getDevice(mac)
    vendor = registry.byName(device.vendor if device else None) or registry.byMAC(mac)
    return device, vendor if vendor is not None and IFileVendor.providedBy(vendor) else None


async def listFiles(store, registry, mac: str) -> list[str]:
    """
    The names of the files a device fetches, its main file first (empty
    when no vendor serves files to it).

    @raise Refused: for a bad MAC.
    """
    mac = checkMAC(mac)
    device, vendor = await _vendorOf(store, registry, mac)
    if vendor is None:
        return []
    return deviceFileNames(vendor, mac, device.model if device else None)


def _namesOf(vendor, mac: str, device) -> str:
    names = deviceFileNames(vendor, mac, device.model if device else None)
    return "its files are " + ", ".join(names) if names else "it has no files"


async def renderFile(store, registry, config, mac: str, name: str | None = None,
                     userAgent: str | None = None, reveal: bool = True) -> tuple[str, RenderedFile]:
    """
    Render a device's file as the phone would get it.

    @param name: the name as the phone asks for it (a leading C{/} is
        ignored); C{None}: the device's main file.  A name of another
        device's file is not this device's.
    @param userAgent: render as for this User-Agent (firmware checks).
    @param reveal: whether the lines' passwords are shown; if not, each is
        L{snomprov.rendering.MASK}.
    @return: C{(name, file)}.
    @raise Refused: for a bad MAC.
    @raise NotFound: for a device no vendor serves, or a name it does not
        have (naming the files it has), or a file refused to it
        (C{[provisioning] unknown_devices = "reject"}).
    """
    mac = checkMAC(mac)
    device, vendor = await _vendorOf(store, registry, mac)
    if vendor is None:
        raise NotFound(f"{mac}: no vendor serves files for this device")
    name = vendor.deviceFileName(mac) if name is None else name.lstrip("/")
    agent = registry.parseUserAgent(userAgent)
    resolved = registry.resolveFile(name, agent)
    if resolved is None or resolved[1].mac not in (None, mac):
        raise NotFound(f"{name}: no such file for {mac}; {_namesOf(vendor, mac, device)}")
    fileVendor, request = resolved
    # A file of no device (a model's) is rendered as for any phone.
    stored = await renderStored(store, config, fileVendor, request, agent, device, "http", reveal)
    if stored.refused:
        raise NotFound(f"{name}: refused to {mac}, which has no lines and no device layer "
                       "([provisioning] unknown_devices = \"reject\")")
    rendered = stored.rendered
    if rendered is None:
        raise NotFound(f"{name}: no such file for {mac}; {_namesOf(vendor, mac, device)}")
    # The device's credential (what its kept URLs carry) is a proof: never shown.
    return name, replace(rendered, content=fillTokenMark(rendered.content, MASK))


@dataclass(frozen=True)
class BuiltinSettings:
    """
    The settings a vendor puts in a device's main file below every layer.

    @ivar layer: what the pages call them (C{"snom built-in"}).
    """

    layer: str
    settings: tuple[Setting, ...]


async def builtinSettings(store, registry, config, mac: str) -> BuiltinSettings | None:
    """
    The built-in settings of a device's main file, as its vendor renders
    them (L{IBuiltinSettingsVendor}), or C{None} when no vendor serves the
    device or its vendor has none.

    @raise Refused: for a bad MAC.
    """
    mac = checkMAC(mac)
    device, vendor = await _vendorOf(store, registry, mac)
    if vendor is None:
        return None
    resolved = registry.resolveFile(vendor.deviceFileName(mac), None)
    if resolved is None or not IBuiltinSettingsVendor.providedBy(resolved[0]):
        return None
    fileVendor, request = resolved
    context = renderContext(fileVendor, device, (), (), config)
    settings = tuple(replace(s, value=s.value.replace(TOKEN_MARK, MASK)) if TOKEN_MARK in s.value else s
                     for s in fileVendor.builtinSettings(request, context))
    return BuiltinSettings(f"{fileVendor.name} built-in", settings)

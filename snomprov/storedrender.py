# -*- test-case-name: tests.test_operations_render -*-
"""
Rendering one file of a stored device: its lines, its device layer and the
layers of the request's scopes read from the store, then
L{snomprov.rendering.renderDeviceFile}.  The one way the phone-facing
L{snomprov.provisioning.Provisioner} and the operators' C{render}
(L{snomprov.operations.render}) load what a file is made of.
"""

from __future__ import annotations

from dataclasses import dataclass

from .device import DeviceInfo, FileRequest, RenderedFile, UserAgentInfo
from .rendering import maskedLines, refusesUnknown, renderDeviceFile, requestScopes

__all__ = ["StoredRendering", "renderStored"]


@dataclass(frozen=True)
class StoredRendering:
    """
    @ivar refused: the device has no lines and no device layer and the
        configuration refuses such devices (C{unknown_devices = "reject"});
        nothing was rendered.
    @ivar rendered: the file, or C{None} (no such file).
    @ivar scopes: the scopes it was made from.
    """

    refused: bool
    rendered: RenderedFile | None
    scopes: tuple[str, ...]


async def renderStored(store, config, vendor, request: FileRequest, userAgent: UserAgentInfo | None,
                       device: DeviceInfo | None, transport: str, reveal: bool = True,
                       withSecrets: bool = True, secretNames: frozenset[str] | None = None) -> StoredRendering:
    """
    Render C{request} (a file of C{vendor}) from the store.

    @param device: the stored device of C{request.mac}, already read by the
        caller (C{None}: none, or a file of no device).
    @param reveal: whether the lines keep their passwords (else C{***}).
    @param withSecrets: whether the file may carry secrets (the request
        proved it comes from the device); an unknown device's file (no
        lines, no device layer) and a model-wide one never do.
    @param secretNames: see L{renderDeviceFile}.
    """
    mac = request.mac
    lines: tuple = ()
    if mac is not None:
        lines = tuple(await store.getLines(mac))
        deviceLayer = await store.getLayer(f"device:{mac}")
        if refusesUnknown(config, lines, deviceLayer):
            return StoredRendering(True, None, (f"device:{mac}",))
        withSecrets = withSecrets and bool(lines or deviceLayer)
    owner = device if mac is not None else None
    scopes = tuple(requestScopes(vendor, request, userAgent, owner))
    layers = [await store.getLayer(scope) for scope in scopes]
    shown = lines if reveal else maskedLines(lines)
    return StoredRendering(False, renderDeviceFile(vendor, request, owner, shown, layers, config, userAgent,
                                                   transport, withSecrets, secretNames), scopes)

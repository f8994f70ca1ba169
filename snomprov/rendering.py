# -*- test-case-name: tests.test_operations_render -*-
"""
Rendering one device's file from what is given, without a store: the
step L{snomprov.provisioning.Provisioner} takes once it has loaded the
device, its lines and its layers, shared with the operations that render
for an operator (C{render}, a layer change's plan).

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Sequence

from .device import (
    DeviceInfo,
    FileRequest,
    Line,
    RenderContext,
    RenderedFile,
    SettingsLayer,
    UserAgentInfo,
    layerScopesFor,
    mergeDocuments,
    mergeLayers,
)
from .interfaces import IFileListingVendor, IFileVendor
from .secretsettings import linesWithoutPasswords, settingsWithoutSecrets

__all__ = [
    "vendorOptions",
    "requestModel",
    "requestScopes",
    "refusesUnknown",
    "renderDeviceFile",
    "renderContext",
    "deviceFileNames",
    "MASK",
    "maskedLines",
]

MASK = "***"
"""
What a password is shown as to whoever may not see it.
"""


def maskedLines(lines: Iterable[Line]) -> tuple[Line, ...]:
    """
    The lines with every password that is set replaced by L{MASK}.
    """
    return tuple(replace(line, password=MASK) if line.password else line for line in lines)


def vendorOptions(config, name: str) -> dict:
    """
    The vendor's C{[vendors.<name>]} table, C{url} included.
    """
    vendorConfig = config.vendor(name)
    if vendorConfig.url is None:
        return vendorConfig.options
    return {**vendorConfig.options, "url": vendorConfig.url}


def requestModel(request: FileRequest, userAgent: UserAgentInfo | None,
                 device: DeviceInfo | None) -> str | None:
    """
    The model a file is rendered for: the one the name gives, else the
    User-Agent's, else the stored device's.
    """
    return request.model or (userAgent.model if userAgent else None) or (device.model if device else None)


def requestScopes(vendor, request: FileRequest, userAgent: UserAgentInfo | None,
                  device: DeviceInfo | None) -> list[str]:
    """
    The settings scopes that apply to a requested file, lowest first: a
    file of no device (a model-wide file) has no device scope.
    """
    model = requestModel(request, userAgent, device)
    if request.mac:
        return layerScopesFor(vendor.name, model, request.mac)
    return layerScopesFor(vendor.name, model, "")[:-1]


def refusesUnknown(config, lines: Sequence[Line], deviceLayer: SettingsLayer | None) -> bool:
    """
    Whether a per-device file is refused: C{[provisioning] unknown_devices
    = "reject"} and the device has neither lines nor a device layer.
    """
    return not lines and deviceLayer is None and config.provisioning.unknownDevices == "reject"


def renderDeviceFile(vendor, request: FileRequest, device: DeviceInfo | None, lines: Iterable[Line],
                     layers: Iterable[SettingsLayer | None], config, userAgent: UserAgentInfo | None = None,
                     transport: str = "http", withSecrets: bool = True,
                     secretNames: frozenset[str] | None = None) -> RenderedFile | None:
    """
    Render the file C{request} names, from explicitly given values.

    @param vendor: the L{IFileVendor} that recognised C{request}.
    @param device: the stored device, or C{None}.
    @param lines: the device's lines (none for a model-wide file).
    @param layers: the layers of L{requestScopes} (C{None}s, for scopes
        without a layer, are left out); any order.
    @param config: the L{snomprov.config.Config} (vendor options,
        C{base_url}, the TFTP server).
    @param withSecrets: whether the file may carry secrets
        (L{snomprov.secretsettings}); a file of no device (model-wide)
        never does.
    @param secretNames: the setting names declared secret
        (L{snomprov.secretsettings.declaredByAny} of the registry);
        C{None}: C{vendor}'s own.
    @return: the L{RenderedFile}, or C{None} when the vendor has no such
        file.
    """
    context = renderContext(vendor, device, lines, layers, config, userAgent, transport,
                            withSecrets and request.mac is not None, secretNames)
    return vendor.renderFile(request, context)


def renderContext(vendor, device: DeviceInfo | None, lines: Iterable[Line],
                  layers: Iterable[SettingsLayer | None], config, userAgent: UserAgentInfo | None = None,
                  transport: str = "http", withSecrets: bool = True,
                  secretNames: frozenset[str] | None = None) -> RenderContext:
    """
    The L{RenderContext} L{renderDeviceFile} renders with (the same
    parameters): without secrets, the lines have no passwords and the
    secret settings are left out.
    """
    present = [layer for layer in layers if layer is not None]
    settings = mergeLayers(present)
    lines = tuple(lines or ())
    if not withSecrets:
        settings = settingsWithoutSecrets(vendor, settings, secretNames)
        lines = linesWithoutPasswords(lines)
    return RenderContext(
        device=device,
        lines=lines,
        settings=settings,
        documents=mergeDocuments(present),
        options=vendorOptions(config, vendor.name),
        baseURL=config.server.baseURL,
        tftpServer=config.tftpServer,
        userAgent=userAgent,
        transport=transport,
    )


def deviceFileNames(vendor, mac: str, model: str | None) -> list[str]:
    """
    The names of the files a device fetches, its main file first: those
    an L{IFileListingVendor} lists, else its main file alone, else none.
    """
    if IFileListingVendor.providedBy(vendor):
        return list(vendor.deviceFileNames(mac, model))
    if IFileVendor.providedBy(vendor):
        return [vendor.deviceFileName(mac)]
    return []

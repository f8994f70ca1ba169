# -*- test-case-name: tests.test_device -*-
"""
Pure values: MAC addresses, devices, lines, settings layers and events.

Nothing here does I/O or knows about Twisted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

__all__ = [
    "InvalidMAC",
    "parseMAC",
    "formatMAC",
    "ouiOf",
    "DEVICE_STATES",
    "DeviceInfo",
    "Line",
    "Setting",
    "SettingsLayer",
    "Event",
    "EventPage",
    "InvalidScope",
    "parseScope",
    "mergeLayers",
]


class InvalidMAC(ValueError):
    """
    A text is not a MAC address in any form we accept.
    """


_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"[0-9A-F]{12}")


def parseMAC(text: str | bytes) -> str:
    """
    Normalise a MAC address to 12 upper-case hex digits.

    Accepts C{00:04:13:92:2d:24}, C{00-04-13-92-2D-24}, C{0004.1392.2d24},
    C{000413922d24}, any case, surrounding white space and the CR/LF a barcode
    scanner appends, and a leading C{MAC}/C{MAC:} label.

    @raise InvalidMAC: if C{text} holds anything else.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidMAC(f"not a MAC address: {text!r}") from None
    original = text
    text = text.strip().upper()
    if text.startswith("MAC"):
        text = text[3:].lstrip(":= ")
    compact = _SEPARATORS.sub("", text)
    if not _HEX12.fullmatch(compact) or not _groupsAreRegular(text):
        raise InvalidMAC(f"not a MAC address: {original!r}")
    return compact


def _groupsAreRegular(text: str) -> bool:
    """
    Separators, when used, must split the address into equal groups of 2 or 4
    hex digits (C{00:04:13:…}, C{0004.1392.2d24}): C{0:004:13…} is refused.
    """
    groups = [g for g in _SEPARATORS.split(text)]
    if len(groups) == 1:
        return True
    return len({len(g) for g in groups}) == 1 and len(groups[0]) in (2, 4)


def formatMAC(mac: str, separator: str = ":", lower: bool = False) -> str:
    """
    Write a normalised MAC with a separator between octets.
    """
    text = separator.join(mac[i : i + 2] for i in range(0, 12, 2))
    return text.lower() if lower else text


def parseOUI(text: str) -> str:
    """
    Normalise an OUI (C{00:04:13}, C{00-04-13}, C{000413}) to six upper-case
    hex digits.

    @raise InvalidMAC: for anything else.
    """
    compact = _SEPARATORS.sub("", str(text).strip().upper())
    if not re.fullmatch(r"[0-9A-F]{6}", compact):
        raise InvalidMAC(f"not an OUI: {text!r}")
    return compact


def ouiOf(mac: str) -> str:
    """
    The organisationally unique identifier: the first six hex digits.
    """
    return mac[:6]


DEVICE_STATES = ("registered", "seen", "notified", "fetched")
"""
A device's states, in the order it moves through them.
"""


@dataclass(frozen=True)
class DeviceInfo:
    """
    What we know of one phone.

    Every field but C{mac} may be C{None}: unknown.  When devices are merged
    into a store, a C{None} keeps what was stored (the merge rules of each
    field are those of its column: L{snomprov.store.columns}).

    @ivar state: one of L{DEVICE_STATES}.
    @ivar firstSeen: POSIX time of the first sighting.
    @ivar lastSeen: POSIX time of the last sighting.
    @ivar sipAddress: C{(host, port)} the phone last sent SIP from, for push.
    @ivar credential: what the device's provisioning credential is derived
        from (L{snomprov.proofs}), set when an operator rotates it;
        C{None}: never rotated.  Not a secret by itself (the credential
        needs the daemon's key), never shown.
    """

    mac: str
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    ip: str | None = None
    state: str | None = None
    firstSeen: float | None = None
    lastSeen: float | None = None
    notes: str | None = None
    sipAddress: tuple[str, int] | None = None
    credential: str | None = None


@dataclass(frozen=True)
class Line:
    """
    One SIP identity of a device.

    @ivar index: 1..n, the phone's line (each vendor writes it its own way).
    """

    index: int
    user: str
    password: str = ""
    displayName: str = ""
    registrar: str = ""
    authUser: str = ""
    outboundProxy: str = ""

    def __repr__(self) -> str:
        # Passwords never reach a log through repr().
        return (
            f"Line(index={self.index!r}, user={self.user!r}, password='***', "
            f"displayName={self.displayName!r}, registrar={self.registrar!r}, "
            f"authUser={self.authUser!r}, outboundProxy={self.outboundProxy!r})"
        )


@dataclass(frozen=True)
class Setting:
    """
    One setting: a name, an index (or C{None}), a value and a permission
    flag.

    @ivar perm: vendor-defined (the values a vendor's files understand are
        its L{snomprov.interfaces.ISettingsVendor.settingPerms}), kept and
        written back exactly; C{None}: none given.
    @ivar secret: an operator marked it secret (DESIGN §5): it is left out
        of every file served without the device's proof and masked to
        whoever may not see secrets, like a vendor's declared secret
        settings (L{snomprov.secretsettings}).
    """

    name: str
    value: str
    idx: int | None = None
    perm: str | None = None
    secret: bool = False

    @property
    def key(self) -> tuple[str, int | None]:
        return (self.name, self.idx)


class InvalidScope(ValueError):
    """
    A settings scope is not C{site}, C{vendor:V}, C{model:M} or
    C{device:MAC}.
    """


_SCOPE_ORDER = ("site", "vendor", "model", "device")


def parseScope(text: str) -> str:
    """
    Validate and normalise a settings scope; the MAC of a device scope is
    normalised.

    @raise InvalidScope: for anything else.
    """
    kind, sep, name = text.partition(":")
    if kind == "site" and not sep:
        return "site"
    if kind in ("vendor", "model") and sep and name.strip():
        return f"{kind}:{name.strip()}"
    if kind == "device" and sep:
        try:
            return f"device:{parseMAC(name)}"
        except InvalidMAC as e:
            raise InvalidScope(f"bad scope {text!r}: {e}") from None
    raise InvalidScope(
        f"bad scope {text!r}: expected site, vendor:NAME, model:NAME or device:MAC"
    )


def scopeRank(scope: str) -> int:
    """
    Where a scope stands in the layering: site < vendor < model < device.
    """
    return _SCOPE_ORDER.index(scope.partition(":")[0])


@dataclass(frozen=True)
class SettingsLayer:
    """
    The settings of one scope, plus the extra named documents its settings
    file may carry, kept whole.

    @ivar scope: see L{parseScope}.
    @ivar settings: the settings, in file order.
    @ivar documents: name to the document's bytes; the names and their
        meaning are vendor-defined (a vendor's
        L{snomprov.interfaces.ISettingsVendor.documentNames}).
    """

    scope: str
    settings: tuple[Setting, ...] = ()
    documents: Mapping[str, bytes] = field(default_factory=dict)


def mergeLayers(layers: Iterable[SettingsLayer]) -> dict[tuple[str, int | None], Setting]:
    """
    Merge layers, lowest first; a later layer's setting replaces an earlier
    one with the same name and index.
    """
    merged: dict[tuple[str, int | None], Setting] = {}
    for layer in sorted(layers, key=lambda l: scopeRank(l.scope)):
        for setting in layer.settings:
            merged[setting.key] = setting
    return merged


def mergeDocuments(layers: Iterable[SettingsLayer]) -> dict[str, bytes]:
    """
    The extra documents of the layers; the most specific layer wins.
    """
    merged: dict[str, bytes] = {}
    for layer in sorted(layers, key=lambda l: scopeRank(l.scope)):
        merged.update(layer.documents)
    return merged


def layerScopesFor(vendor: str | None, model: str | None, mac: str) -> list[str]:
    """
    The scopes that apply to a device, lowest first.
    """
    scopes = ["site"]
    if vendor:
        scopes.append(f"vendor:{vendor}")
    if model:
        scopes.append(f"model:{model}")
    scopes.append(f"device:{mac}")
    return scopes


@dataclass(frozen=True)
class Event:
    """
    Something that happened to a device.

    @ivar kind: C{subscribe}, C{notify-sent}, C{notify-acked},
        C{notify-timeout}, C{config-fetched}, C{tftp-fetched},
        C{resync-sent}, C{rejected}, ...
    @ivar mac: the device, or C{None} when it is not known (a rejected
        request without MAC).
    """

    time: float
    mac: str | None
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class EventPage:
    """
    Events read on from a position in a store's events, as a follower reads
    them (L{snomprov.interfaces.IDeviceStore.eventsAfter}).

    @ivar events: oldest first.
    @ivar cursor: where to read on from: pass it to the next C{eventsAfter}.
    """

    events: tuple[Event, ...]
    cursor: int


@dataclass(frozen=True)
class UserAgentInfo:
    """
    What a phone's HTTP User-Agent (or SIP User-Agent) says of it.

    @ivar mac: normalised MAC, only where the User-Agent really carries one.
    """

    vendor: str
    model: str | None = None
    firmware: str | None = None
    mac: str | None = None


@dataclass(frozen=True)
class ProfileRequest:
    """
    A ua-profile SUBSCRIBE, as a vendor sees it (RFC 6080 parameters).

    @ivar mac: normalised MAC from the Request-URI/From, or C{None}.
    @ivar ip: the source address of the packet.
    """

    mac: str | None
    vendor: str | None = None
    model: str | None = None
    version: str | None = None
    profileType: str | None = None
    userAgent: str | None = None
    ip: str | None = None


@dataclass(frozen=True)
class FileRequest:
    """
    A file a vendor recognised in a request path or TFTP name.

    @ivar vendor: the vendor's name.
    @ivar kind: vendor-defined (C{"container"}, C{"settings"},
        C{"firmware"}, C{"initial"}, C{"profile"}, ...).
    @ivar mac: the device the file is for, or C{None} for a file that is the
        same for every phone of a model (no secrets in it).
    @ivar model: the model named by the request, if any.
    @ivar name: the name as requested, without leading C{/}.
    """

    vendor: str
    kind: str
    name: str
    mac: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """
    Everything a vendor needs to render a file; the vendor does no I/O.

    @ivar device: the stored device, or C{None} if unknown.
    @ivar lines: the device's SIP identities.
    @ivar settings: merged settings layers (see L{mergeLayers}).
    @ivar documents: merged extra documents (see L{mergeDocuments}).
    @ivar options: the vendor's C{[vendors.<name>]} table.
    @ivar baseURL: how phones reach our HTTP service, no trailing C{/}.
    @ivar tftpServer: C{host[:port]} of our TFTP service as phones reach it.
    @ivar userAgent: the request's parsed User-Agent, if any.
    @ivar transport: C{"http"} or C{"tftp"}.
    """

    device: DeviceInfo | None
    lines: tuple[Line, ...]
    settings: Mapping[tuple[str, int | None], Setting]
    documents: Mapping[str, bytes]
    options: Mapping[str, object]
    baseURL: str
    tftpServer: str
    userAgent: UserAgentInfo | None = None
    transport: str = "http"


@dataclass(frozen=True)
class RenderedFile:
    """
    A rendered file.

    @ivar sensitive: it carries secrets (SIP passwords): never log its body,
        and serve it only to the device it names.
    @ivar path: for a large file the operator configured (a firmware
        image), its path; C{content} is then empty and the transports read
        the file themselves.  Never derived from a requested name.
    """

    content: bytes
    contentType: str
    sensitive: bool = False
    path: str | None = None


@dataclass(frozen=True)
class DHCPRule:
    """
    What a vendor wants a DHCP server to send its phones.

    @ivar name: a short identifier usable as a DHCP class/tag name.
    @ivar vendorClasses: prefixes of the vendor class identifier (option 60)
        the vendor's phones send.
    @ivar ouis: OUIs of the vendor's MACs.
    @ivar options: DHCP option code to value (text), e.g. C{{66: "192.0.2.10"}}.
    """

    name: str
    vendorClasses: tuple[str, ...]
    ouis: tuple[str, ...]
    options: Mapping[int, str]

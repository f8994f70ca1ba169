# -*- test-case-name: test_grandstream -*-
"""
Grandstream GXP and GRP desk phones, built only on L{snomprov.plugin}.

How a Grandstream phone is provisioned:

    1. Plug-and-play: at boot it multicasts a ua-profile SUBSCRIBE
       (C{sip:MAC%3A<MAC>@224.0.1.75}, C{Event: …;vendor="Grandstream"}),
       and resends it several times.  The NOTIFY must carry a folder, a
       URL ending in C{/}: the phone appends the file names itself.  We
       answer C{{base_url}/grandstream/}.
    2. From that folder it fetches C{cfg<mac>.xml} (lower-case MAC), and
       C{cfg.xml}, the file of every phone.

Both are C{<gs_provision version="1">} documents: the MAC, then
C{<config version="1">} with one element per P-value (C{<P47>pbx</P47>}).
C{cfg.xml} holds the layered settings of no device and the config server
(P237, P212), which keeps the phone coming back; C{cfg<mac>.xml} also
holds the device's layers, the firmware its model should run and the
P-values of its lines (sensitive: the passwords are in it).

Lines (accounts 1 to 4, as the GXP21xx/GRP26xx number them):

    ========  ======  ====  ======  ========  =======  =======  ========  =======
    account   active  name  server  outbound  user id  auth id  password  display
    ========  ======  ====  ======  ========  =======  =======  ========  =======
    1         P271    P270  P47     P48       P35      P36      P34       P3
    2         P401    P417  P402    P403      P404     P405     P406      P407
    3         P501    P517  P502    P503      P504     P505     P506      P507
    4         P601    P617  P602    P603      P604     P605     P606      P607
    ========  ======  ====  ======  ========  =======  =======  ========  =======

Lines beyond 4 are not written.  Settings layers name P-values as
Grandstream does (C{P64}, C{P30}); other names are left out, so a shared
C{site} layer does not leak into Grandstream files.

Firmware (C{[vendors.grandstream.firmware]}): model to C{{ version, url }},
C{url} the folder holding the image; written as P192 (the firmware
server path) and P212 (its protocol) only while the phone runs another
version.
"""

from __future__ import annotations

import re
from typing import Mapping
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from snomprov.plugin import (
    DHCPRule,
    FileRequest,
    IDHCPVendor,
    IFileListingVendor,
    IOptionsVendor,
    IResyncVendor,
    IUAProfileVendor,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    UserAgentInfo,
    implementer,
    parseMAC,
)

__all__ = ["GrandstreamVendor", "grandstreamVendor", "GRANDSTREAM_OUIS", "ACCOUNT_PVALUES", "writeProvision"]

GRANDSTREAM_OUIS = frozenset({"000B82", "C074AD"})
"""
OUIs registered to Grandstream Networks (IEEE registry).
"""

ACCOUNT_PVALUES: Mapping[int, Mapping[str, str]] = {
    1: {"active": "P271", "name": "P270", "server": "P47", "outbound": "P48",
        "user": "P35", "auth": "P36", "password": "P34", "display": "P3"},
    2: {"active": "P401", "name": "P417", "server": "P402", "outbound": "P403",
        "user": "P404", "auth": "P405", "password": "P406", "display": "P407"},
    3: {"active": "P501", "name": "P517", "server": "P502", "outbound": "P503",
        "user": "P504", "auth": "P505", "password": "P506", "display": "P507"},
    4: {"active": "P601", "name": "P617", "server": "P602", "outbound": "P603",
        "user": "P604", "auth": "P605", "password": "P606", "display": "P607"},
}
"""
The P-values of each account's fields.
"""

_SUBTREE = "grandstream/"
_DEVICE = re.compile(r"cfg(?P<mac>[0-9a-f]{12})\.xml", re.IGNORECASE)
_COMMON = "cfg.xml"
_PVALUE = re.compile(r"P[1-9][0-9]{0,4}")
# SIP:  "Grandstream GRP2612W 1.0.5.67"
# HTTP: "Grandstream Model HW GXP2170 SW 1.0.9.135 DevId 000b82aabbcc"
_SIP_UA = re.compile(r"Grandstream\s+(?P<model>(?:GXP|GRP|GXV|DP|HT|WP)[A-Za-z0-9]+)\s+(?P<firmware>\d+(?:\.\d+)+)")
_HTTP_UA = re.compile(
    r"Grandstream\s+Model\s+HW\s+(?P<model>[A-Za-z0-9]+)(?:\s+V[^\s]*)?\s+SW\s+(?P<firmware>\d+(?:\.\d+)+)"
    r"(?:.*?\bDevId\s+(?P<mac>[0-9A-Fa-f]{12}))?"
)
_PROTOCOLS = {"tftp": "0", "http": "1", "https": "2"}
_CONTENT_TYPE = "application/xml"


def writeProvision(mac: str | None, pvalues: Mapping[str, str]) -> bytes:
    """
    A C{<gs_provision version="1">} document: the MAC (lower case, when the
    file is a device's) and one element per P-value, in order.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<gs_provision version="1">']
    if mac:
        out.append(f"  <mac>{mac.lower()}</mac>")
    out.append('  <config version="1">')
    out += [f"    <{name}>{escape(value)}</{name}>" for name, value in pvalues.items()]
    out += ["  </config>", "</gs_provision>"]
    return ("\n".join(out) + "\n").encode("utf-8")


def _serverPath(url: str) -> tuple[str, str]:
    """
    A URL as Grandstream's server path P-values take it: the protocol's
    P212 value and the path without scheme (C{prov.example.net/grandstream}).
    """
    parts = urlsplit(url)
    path = (parts.netloc + parts.path).rstrip("/")
    return _PROTOCOLS.get(parts.scheme.lower(), "1"), path


def _linePValues(line: Line) -> list[tuple[str, str]]:
    """
    The P-values of one line; empty fields are left out, so a layer may
    supply them (a site-wide P47).
    """
    numbers = ACCOUNT_PVALUES.get(line.index)
    if numbers is None:
        return []
    values = [
        ("active", "1"),
        ("name", line.displayName or line.user),
        ("server", line.registrar),
        ("outbound", line.outboundProxy),
        ("user", line.user),
        ("auth", line.authUser or line.user),
        ("password", line.password),
        ("display", line.displayName),
    ]
    return [(numbers[field], value) for field, value in values if value]


@implementer(IUAProfileVendor, IFileListingVendor, IResyncVendor, IDHCPVendor, IOptionsVendor)
class GrandstreamVendor:
    """
    Grandstream phones: PnP folder URL, User-Agent, C{cfg<mac>.xml} and
    C{cfg.xml}, check-sync, DHCP.

    @ivar optionTypes: C{firmware}: model (C{GRP2612W}; any case) to
        C{{ version, url }}; C{folder}: accepted for configurations written
        for the generic vendor, must be C{true} (the URL is always a
        folder).
    """

    name = "grandstream"
    ouis = GRANDSTREAM_OUIS
    optionTypes: Mapping[str, type] = {"firmware": dict, "folder": bool}
    defaultOptions: Mapping[str, object] = {"firmware": {}}
    defaultURLTemplate = "{base_url}/grandstream/"
    phoneURLVariables: frozenset[str] = frozenset()
    resyncEvent = "check-sync"

    # -- identification

    def matchesProfileEvent(self, vendor: str | None, model: str | None) -> bool:
        return (vendor or "").strip().lower() == "grandstream"

    def parseUserAgent(self, userAgent: str) -> UserAgentInfo | None:
        text = userAgent.strip()
        match = _HTTP_UA.match(text) or _SIP_UA.match(text)
        if match is None:
            return None
        found = match.groupdict().get("mac")
        return UserAgentInfo(vendor=self.name, model=match["model"].upper(), firmware=match["firmware"],
                             mac=parseMAC(found) if found else None)

    # -- PnP, DHCP

    def provisioningURL(self, request: ProfileRequest, url: str) -> str:
        """
        The folder the phone fetches C{cfg<mac>.xml} from: the server's
        expansion of the template, always ending in C{/}.
        """
        return url if url.endswith("/") else url + "/"

    def dhcpRule(self, tftpServer: str, baseURL: str) -> DHCPRule:
        """
        Option 66 carries the config server path, a folder.
        """
        return DHCPRule(self.name, ("Grandstream",), tuple(sorted(self.ouis)),
                        {66: f"{baseURL.rstrip('/')}/{_SUBTREE}"})

    # -- files

    def deviceFileName(self, mac: str) -> str:
        return f"{_SUBTREE}cfg{mac.lower()}.xml"

    def deviceFileNames(self, mac: str, model: str | None) -> list[str]:
        return [self.deviceFileName(mac), f"{_SUBTREE}{_COMMON}"]

    def resolveFile(self, name: str, userAgent: UserAgentInfo | None) -> FileRequest | None:
        """
        C{cfg<12 hex>.xml} and C{cfg.xml}, under C{grandstream/} or at the
        root.
        """
        path = name.split("?", 1)[0].removeprefix("/")
        base = path[len(_SUBTREE):] if path.lower().startswith(_SUBTREE) else path
        model = userAgent.model if userAgent is not None and userAgent.vendor == self.name else None
        if base.lower() == _COMMON:
            return FileRequest(vendor=self.name, kind="common", name=path, model=model)
        match = _DEVICE.fullmatch(base)
        if match is not None:
            return FileRequest(vendor=self.name, kind="device", name=path, mac=parseMAC(match["mac"]),
                               model=model)
        return None

    def renderFile(self, request: FileRequest, context: RenderContext) -> RenderedFile | None:
        if request.vendor != self.name or request.kind not in ("common", "device"):
            return None
        options = {**self.defaultOptions, **context.options}
        protocol, path = _serverPath(f"{context.baseURL.rstrip('/')}/{_SUBTREE}")
        pvalues: dict[str, str] = {"P212": protocol, "P237": path}
        for setting in context.settings.values():
            if setting.idx is None and _PVALUE.fullmatch(setting.name) and "\n" not in setting.value:
                pvalues[setting.name] = setting.value
        if request.kind == "common":
            return RenderedFile(writeProvision(None, pvalues), _CONTENT_TYPE)
        firmware = self._firmwareURL(options, request, context)
        if firmware is not None:
            pvalues["P212"], pvalues["P192"] = _serverPath(firmware)
        for line in sorted(context.lines, key=lambda l: l.index):
            pvalues.update(_linePValues(line))
        return RenderedFile(writeProvision(request.mac, pvalues), _CONTENT_TYPE, sensitive=True)

    @staticmethod
    def _firmwareURL(options: Mapping[str, object], request: FileRequest, context: RenderContext) -> str | None:
        """
        The firmware folder, only while the phone runs another version
        than the wanted one; C{None} when either is unknown.
        """
        device, agent = context.device, context.userAgent
        model = request.model or (agent.model if agent else None) or (device.model if device else None)
        running = (agent.firmware if agent else None) or (device.firmware if device else None)
        if not model or not running:
            return None
        for name, wanted in dict(options.get("firmware") or {}).items():
            if name.lower() == model.lower() and isinstance(wanted, Mapping):
                if wanted.get("version") != running and isinstance(wanted.get("url"), str):
                    return wanted["url"]
        return None

    def checkOptions(self, options: Mapping[str, object]) -> list[str]:
        """
        C{folder} must be true; C{firmware} entries C{{ version, url }}.
        """
        problems = []
        if options.get("folder", True) is not True:
            problems.append("folder: Grandstream phones need a folder URL; leave it out or set it to true")
        for model, wanted in dict(options.get("firmware") or {}).items():
            if not (isinstance(wanted, Mapping) and set(wanted) == {"version", "url"}
                    and all(isinstance(v, str) and v for v in wanted.values())
                    and re.match(r"(https?|tftp)://", wanted["url"])):
                problems.append(f"firmware.{model}: must be {{ version = \"1.0.5.67\", "
                                f"url = \"http://…/grp2612w/\" }}")
        return problems


grandstreamVendor = GrandstreamVendor()

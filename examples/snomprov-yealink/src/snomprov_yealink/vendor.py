# -*- test-case-name: test_yealink -*-
"""
Yealink SIP desk phones (T2x, T4x, T5x), built only on L{snomprov.plugin}.

How a Yealink phone is provisioned:

    1. Plug-and-play: at boot it multicasts a ua-profile SUBSCRIBE whose
       Request-URI is C{sip:MAC<12 hex>@224.0.1.75} (no C{%3a}, unlike snom:
       the server does not read that MAC, L{YealinkVendor.claimSubscribe}
       does) and whose C{Event} says C{vendor="Yealink"}, to port 5060 and
       to 5059 (L{YealinkVendor.sipPorts}).  We answer with a provisioning
       server URL, a folder: C{{base_url}/yealink/}.
    2. From that folder it fetches the common file C{y000000000000.cfg}
       (older firmware: a per-family C{y0000000000<nn>.cfg}, answered the
       same), then its own C{<mac>.cfg} (lower-case MAC).

Both are Yealink's text format: a first line C{#!version:1.0.0.1}, then
C{key = value} lines.  The common file holds the layered settings of no
device (site, vendor, model) and C{static.auto_provision.server.url},
which keeps the phone coming back; the MAC file holds the device's layers,
the firmware its model should run, and one C{account.N.*} block per line
(it is sensitive: the passwords are in it).

Settings layers name Yealink keys as Yealink writes them: lower-case,
dotted (C{local_time.time_zone}, C{features.dnd.enable}).  A setting with
an index C{n} fills the C{N} part of its name (C{("linekey.N.type", 3)} is
C{linekey.3.type}).  Names of another shape (snom's C{language}, SPA's
C{Dial_Plan}) are left out, so a shared C{site} layer does not leak into
Yealink files, and so are values spanning lines.

Firmware (C{[vendors.yealink.firmware]}): model to C{{ version, url }};
the MAC file names C{static.firmware.url} only while the phone runs
another version (its User-Agent's, else the stored device's), so an
upgraded phone is not sent the image again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable, Mapping

from snomprov.plugin import (
    DHCPRule,
    FileRequest,
    DecodedMessage,
    IDHCPVendor,
    IFileListingVendor,
    InvalidMAC,
    IOptionsVendor,
    IResyncVendor,
    ISIPPortsVendor,
    ISubscribeReadingVendor,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    Setting,
    UserAgentInfo,
    implementer,
    parseMAC,
    userPart,
)

__all__ = ["YealinkVendor", "yealinkVendor", "YEALINK_OUIS", "writeConfigFile"]

YEALINK_OUIS = frozenset({"001565", "805EC0", "805E0C", "249AD8", "44DBD2"})
"""
OUIs registered to Yealink (IEEE registry).
"""

_SUBTREE = "yealink/"
_COMMON = re.compile(r"y0{10}[0-9a-f]{2}\.cfg", re.IGNORECASE)
_DEVICE = re.compile(r"(?P<mac>[0-9a-f]{12})\.cfg", re.IGNORECASE)
_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+|\.N)+")
# SIP:  "Yealink SIP-T21P 34.72.14.6"
# HTTP: "Yealink SIP-T46S 66.86.0.15 80:5e:c0:aa:bb:cc", "Yealink W60B 77.83.0.10 ..."
_USER_AGENT = re.compile(
    r"Yealink\s+(?:SIP[-_])?(?P<model>[A-Za-z0-9][A-Za-z0-9_+-]*)\s+(?P<firmware>\d+(?:\.\d+)+)"
    r"(?:\s+(?P<mac>(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{12}))?",
    re.IGNORECASE,
)
_VERSION_LINE = "#!version:1.0.0.1"
_CONTENT_TYPE = "text/plain"


def writeConfigFile(pairs: Iterable[tuple[str, str]]) -> bytes:
    """
    A Yealink C{.cfg} file: the version line, then one C{key = value} per
    pair, in order.
    """
    lines = [_VERSION_LINE, *(f"{key} = {value}" for key, value in pairs)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _settingKey(setting: Setting) -> str | None:
    """
    The Yealink key a layered setting writes, or C{None} if it is not one
    (or its value would break the file).
    """
    name = setting.name
    if not _KEY.fullmatch(name) or "\n" in setting.value or "\r" in setting.value:
        return None
    if ".N." in name or name.endswith(".N"):
        if setting.idx is None:
            return None
        return re.sub(r"\.N(?=\.|$)", f".{setting.idx}", name)
    if setting.idx is not None:
        return None
    return name


def _accountPairs(line: Line) -> list[tuple[str, str]]:
    """
    The C{account.N.*} keys of one line; empty fields are left out, so a
    layer may supply them (a site-wide C{sip_server.1.address}).
    """
    prefix = f"account.{line.index}."
    pairs = [
        ("enable", "1"),
        ("label", line.displayName or line.user),
        ("display_name", line.displayName),
        ("auth_name", line.authUser or line.user),
        ("user_name", line.user),
        ("password", line.password),
        ("sip_server.1.address", line.registrar),
    ]
    if line.outboundProxy:
        pairs += [("outbound_proxy_enable", "1"), ("outbound_proxy.1.address", line.outboundProxy)]
    return [(prefix + key, value) for key, value in pairs if value and "\n" not in value]


@implementer(ISubscribeReadingVendor, ISIPPortsVendor, IFileListingVendor, IResyncVendor, IDHCPVendor,
             IOptionsVendor)
class YealinkVendor:
    """
    Yealink phones: PnP URL (their SUBSCRIBE read, on 5060 and 5059),
    User-Agent, the common and per-MAC C{.cfg} files, check-sync, DHCP.

    @ivar optionTypes: C{firmware}: model (as the User-Agent names it,
        C{T21P}, C{T46S}; any case) to C{{ version, url }}.
    """

    name = "yealink"
    ouis = YEALINK_OUIS
    optionTypes: Mapping[str, type] = {"firmware": dict}
    defaultOptions: Mapping[str, object] = {"firmware": {}}
    defaultURLTemplate = "{base_url}/yealink/"
    phoneURLVariables: frozenset[str] = frozenset()
    sipPorts: frozenset[int] = frozenset({5059})
    resyncEvent = "check-sync;reboot=false"

    # -- identification

    def matchesProfileEvent(self, vendor: str | None, model: str | None) -> bool:
        return (vendor or "").strip().lower() == "yealink"

    def parseUserAgent(self, userAgent: str) -> UserAgentInfo | None:
        match = _USER_AGENT.match(userAgent.strip())
        if match is None:
            return None
        mac = parseMAC(match["mac"]) if match["mac"] else None
        return UserAgentInfo(vendor=self.name, model=match["model"].upper(), firmware=match["firmware"], mac=mac)

    # -- PnP, DHCP

    def claimSubscribe(self, request: ProfileRequest, subscribe: DecodedMessage) -> ProfileRequest | None:
        """
        A SUBSCRIBE whose C{Event} names Yealink, its MAC (when the server
        read none) from the first Request-URI, From or To user part
        C{MAC<12 hex>}.
        """
        if not self.matchesProfileEvent(request.vendor, request.model):
            return None
        if request.mac is not None:
            return request
        mac = _labelledMAC(subscribe)
        return request if mac is None else replace(request, mac=mac)

    def provisioningURL(self, request: ProfileRequest, url: str) -> str:
        """
        The folder (or the configured template) phones fetch their files
        from, as the server expanded it (C{{vendor}} is C{yealink}).
        """
        return url

    def dhcpRule(self, tftpServer: str, baseURL: str) -> DHCPRule:
        """
        Option 66 carries the provisioning folder: Yealink phones take an
        HTTP(S) URL there.
        """
        return DHCPRule(self.name, ("yealink",), tuple(sorted(self.ouis)),
                        {66: f"{baseURL.rstrip('/')}/{_SUBTREE}"})

    # -- files

    def deviceFileName(self, mac: str) -> str:
        return f"{_SUBTREE}{mac.lower()}.cfg"

    def deviceFileNames(self, mac: str, model: str | None) -> list[str]:
        return [self.deviceFileName(mac), f"{_SUBTREE}y000000000000.cfg"]

    def resolveFile(self, name: str, userAgent: UserAgentInfo | None) -> FileRequest | None:
        """
        C{y000000000000.cfg} (and C{y0000000000<nn>.cfg}) and
        C{<12 hex>.cfg}, under C{yealink/} or at the root.
        """
        path = name.split("?", 1)[0].removeprefix("/")
        base = path[len(_SUBTREE):] if path.lower().startswith(_SUBTREE) else path
        model = userAgent.model if userAgent is not None and userAgent.vendor == self.name else None
        if _COMMON.fullmatch(base):
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
        pairs: dict[str, str] = {}
        if request.kind == "common":
            pairs["static.auto_provision.server.url"] = f"{context.baseURL.rstrip('/')}/{_SUBTREE}"
        for setting in context.settings.values():
            key = _settingKey(setting)
            if key is not None:
                pairs[key] = setting.value
        if request.kind == "common":
            return RenderedFile(writeConfigFile(pairs.items()), _CONTENT_TYPE)
        firmware = self._firmwareURL(options, request, context)
        if firmware is not None:
            pairs["static.firmware.url"] = firmware
        for line in sorted(context.lines, key=lambda l: l.index):
            pairs.update(_accountPairs(line))
        return RenderedFile(writeConfigFile(pairs.items()), _CONTENT_TYPE, sensitive=True)

    @staticmethod
    def _firmwareURL(options: Mapping[str, object], request: FileRequest, context: RenderContext) -> str | None:
        """
        The image the phone should fetch, only while it runs another
        version than the wanted one; C{None} when either is unknown.
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
        C{firmware} entries must be C{{ version = "…", url = "http…" }}.
        """
        problems = []
        for model, wanted in dict(options.get("firmware") or {}).items():
            if not (isinstance(wanted, Mapping) and set(wanted) == {"version", "url"}
                    and all(isinstance(v, str) and v for v in wanted.values())
                    and re.match(r"(https?|tftp)://", wanted["url"])):
                problems.append(f"firmware.{model}: must be {{ version = \"66.86.0.15\", "
                                f"url = \"http://…/T46S-66.86.0.15.rom\" }}")
        return problems


def _labelledMAC(subscribe: DecodedMessage) -> str | None:
    """
    The MAC of the first of the Request-URI, From and To whose user part is
    C{MAC} and a MAC (Yealink writes no separator: C{MAC001565AABBCC}).
    """
    for uri in (subscribe.uri, _uriIn(subscribe.header("from")), _uriIn(subscribe.header("to"))):
        user = userPart(uri) if uri else ""
        if user[:3].upper() == "MAC":
            try:
                return parseMAC(user[3:].lstrip(":="))
            except InvalidMAC:
                continue
    return None


def _uriIn(nameAddr: str | None) -> str | None:
    """
    The URI of a From or To value: between C{<} and C{>}, else the value
    up to its parameters.
    """
    if not nameAddr:
        return None
    start = nameAddr.find("<")
    if start < 0:
        return nameAddr.partition(";")[0].strip()
    end = nameAddr.find(">", start)
    return nameAddr[start + 1 : end] if end > 0 else None


yealinkVendor = YealinkVendor()

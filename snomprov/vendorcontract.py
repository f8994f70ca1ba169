# -*- test-case-name: tests.test_vendor_contract -*-
"""
The behaviour every vendor must have, checked by calling it: what
L{snomprov.testing.checkVendorContract} runs for plugin authors, and what
the built-in vendors pass too.

Each check raises L{VendorContractError} naming the vendor and what it did
(never a bare C{assert}, which C{python -O} removes).  Pure: no I/O, no
Twisted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

from zope.interface.exceptions import Invalid
from zope.interface.verify import verifyObject

from .device import (
    DeviceInfo,
    DHCPRule,
    FileRequest,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    SettingsLayer,
    UserAgentInfo,
)
from .interfaces import (
    IDHCPVendor,
    IFileListingVendor,
    IFileVendor,
    IOptionsVendor,
    IResyncVendor,
    ISettingsVendor,
    ISIPPortsVendor,
    ISubscribeReadingVendor,
    IUAProfileVendor,
    IVendor,
)
from .registry import CAPABILITIES, VendorRegistry
from .sip.decoded import DecodedMessage
from .urltemplate import SERVER_VARIABLES, expandProfileURL

__all__ = ["VendorContractError", "VendorSamples", "checkVendorContract"]

_INTERFACES = CAPABILITIES
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_OUI = re.compile(r"[0-9A-F]{6}")
_MAC = re.compile(r"[0-9A-F]{12}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|credential", re.I)
_FOREIGN_USER_AGENTS = ("curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                        "")
_GARBAGE_SETTINGS = (b"", b"\x00\xff not a settings file \xfe\n", b"<settings><phone-settings>")
_MAX_PERM = 8
_HOSTILE_NAMES = ("", "/", "../../etc/passwd", "contract/../../etc/passwd", "%00", "\x00")


class VendorContractError(AssertionError):
    """
    A vendor does not behave as every vendor must.  An C{AssertionError}
    so that test runners show it as a failed check, but raised explicitly:
    C{python -O} keeps it.
    """


@dataclass(frozen=True)
class VendorSamples:
    """
    What L{checkVendorContract} calls a vendor with.  The defaults make a
    useful check of any vendor; a plugin author adds what only their
    vendor knows (User-Agents of its phones, models, the SUBSCRIBEs'
    requests).

    @ivar macs: MACs of the vendor's phones; default: one per OUI (at most
        three), or C{AABBCC000001} for a vendor without OUIs.
    @ivar models: models to ask a file vendor's file names for (C{None}:
        unknown).
    @ivar userAgents: User-Agents of the vendor's phones: each must be read
        as the vendor's.
    @ivar profileRequests: ua-profile requests of the vendor's phones: the
        vendor must be the one picked for each, and answer it with a URL
        free of secrets.
    @ivar lines: the device's lines; their passwords are the secrets
        looked for where none may be.
    @ivar options: the vendor's C{[vendors.<name>]} table for renders.
    """

    macs: tuple[str, ...] = ()
    models: tuple[str | None, ...] = (None,)
    userAgents: tuple[str, ...] = ()
    profileRequests: tuple[ProfileRequest, ...] = ()
    lines: tuple[Line, ...] = (
        Line(1, "contract-user-1", "Contract-S3cret-1", "Contract One", "pbx.example.net",
             "contract-auth-1", "proxy.example.net"),
        Line(2, "contract-user-2", "Contract-S3cret-2", "Contract Two", "pbx.example.net"),
    )
    options: Mapping[str, object] = field(default_factory=dict)
    baseURL: str = "http://192.0.2.10:8080"
    tftpServer: str = "192.0.2.10:6969"


def _fail(vendor, message: str) -> VendorContractError:
    name = getattr(vendor, "name", None)
    return VendorContractError(f"vendor {name!r} ({type(vendor).__name__}): {message}")


def checkVendorContract(vendor, samples: VendorSamples | None = None) -> None:
    """
    Check a vendor's declarations and behaviour:

        - it provides L{IVendor}, and C{verifyObject} passes for every
          vendor interface it claims;
        - its name is lower-case (C{[a-z][a-z0-9_]*}), its OUIs six
          upper-case hex digits, its option types types (C{url} is not
          one: every vendor has it);
        - it reads its phones' User-Agents as its own and leaves others'
          (C{curl}, a browser) alone; C{matchesProfileEvent} answers a
          C{bool} and refuses a vendor that does not exist;
        - plug-and-play: its C{phoneURLVariables} are a set of lower-case
          names, not the server's; its default URL template (and the
          sample C{url} option) is usable, and the URL it answers when
          handed the server's expansion of it (for each sample MAC, no
          MAC, and each sample request, for which it must be the vendor
          picked) is an absolute URL with no white space, no user name or
          password, no secret-looking query parameter and none of the
          lines' passwords;
        - a SUBSCRIBE reader leaves a SUBSCRIBE of another vendor alone and
          answers a C{ProfileRequest} or C{None}; its SIP ports are a
          C{frozenset} of port numbers;
        - options: C{defaultOptions} is a mapping, and C{checkOptions}
          answers a list of sentences, empty for the defaults;
        - files: every name it gives for a device (main file first)
          resolves back, through a registry, to this vendor and that MAC
          (or to no MAC, for a model-wide file); hostile names resolve to
          nothing; each renders to a L{RenderedFile} of C{bytes} (the main
          file must exist); the device's files carry every line's user; a
          file holding a password is sensitive and for that device;
        - push: a one-line C{resyncEvent}; DHCP: a L{DHCPRule} of option
          numbers to text;
        - settings files: C{settingPerms} a C{frozenset} of strings of at
          most 8 characters, C{documentNames} one of non-empty names; on
          garbage, C{parseSettings} raises a C{ValueError} with a C{line}
          (C{int} or C{None}) and a C{reason} (text), or answers a
          L{SettingsLayer} of the scope it was given using only its own
          perms and document names.

    @param samples: L{VendorSamples}; default the defaults.
    @raise VendorContractError: on the first thing wrong.
    """
    samples = samples or VendorSamples()
    _checkDeclarations(vendor)
    _checkIdentification(vendor, samples)
    macs = samples.macs or tuple(oui + "A1B2C3" for oui in sorted(vendor.ouis)[:3]) or ("AABBCC000001",)
    for mac in macs:
        if not isinstance(mac, str) or not _MAC.fullmatch(mac):
            raise _fail(vendor, f"sample MAC {mac!r} is not normalised (12 upper-case hex digits)")
    if IUAProfileVendor.providedBy(vendor):
        _checkProfileURLs(vendor, samples, macs)
    if ISubscribeReadingVendor.providedBy(vendor):
        _checkSubscribeReading(vendor)
    if ISIPPortsVendor.providedBy(vendor):
        _checkSIPPorts(vendor)
    if IOptionsVendor.providedBy(vendor):
        _checkOptions(vendor, samples)
    if IFileVendor.providedBy(vendor):
        _checkFiles(vendor, samples, macs)
    if IResyncVendor.providedBy(vendor):
        event = vendor.resyncEvent
        if not isinstance(event, str) or not event.strip() or any(c in event for c in "\r\n"):
            raise _fail(vendor, f"resyncEvent {event!r} is not a one-line Event header value")
    if IDHCPVendor.providedBy(vendor):
        _checkDHCP(vendor, samples)
    if ISettingsVendor.providedBy(vendor):
        _checkSettings(vendor)


def _checkDeclarations(vendor) -> None:
    if not IVendor.providedBy(vendor):
        raise _fail(vendor, "does not provide IVendor")
    for interface in _INTERFACES:
        if interface.providedBy(vendor):
            try:
                verifyObject(interface, vendor)
            except Invalid as e:
                raise _fail(vendor, f"fails verifyObject({interface.__name__}): {e}") from None
    name = vendor.name
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(vendor, f"name {name!r} is not lower-case letters, digits and _")
    if not isinstance(vendor.ouis, (frozenset, set)):
        raise _fail(vendor, f"ouis is a {type(vendor.ouis).__name__}, not a frozenset")
    for oui in vendor.ouis:
        if not isinstance(oui, str) or not _OUI.fullmatch(oui):
            raise _fail(vendor, f"OUI {oui!r} is not six upper-case hex digits")
    if not isinstance(vendor.optionTypes, Mapping):
        raise _fail(vendor, "optionTypes is not a mapping")
    for key, kind in vendor.optionTypes.items():
        if not isinstance(key, str) or not isinstance(kind, type):
            raise _fail(vendor, f"optionTypes entry {key!r}: {kind!r} is not a name and a type")
        if key == "url":
            raise _fail(vendor, "optionTypes names url, which every vendor takes already")


def _checkIdentification(vendor, samples: VendorSamples) -> None:
    for userAgent in _FOREIGN_USER_AGENTS:
        info = vendor.parseUserAgent(userAgent)
        if info is not None:
            raise _fail(vendor, f"parseUserAgent({userAgent!r}) claims a phone that is not its own: {info!r}")
    for userAgent in samples.userAgents:
        info = vendor.parseUserAgent(userAgent)
        if not isinstance(info, UserAgentInfo) or info.vendor != vendor.name:
            raise _fail(vendor, f"parseUserAgent({userAgent!r}) gave {info!r}, not its own UserAgentInfo")
        if info.mac is not None and not (isinstance(info.mac, str) and _MAC.fullmatch(info.mac)):
            raise _fail(vendor, f"parseUserAgent({userAgent!r}) gave MAC {info.mac!r}, not normalised")
    for args in ((None, None), ("no-such-vendor-anywhere", "X1")):
        answer = vendor.matchesProfileEvent(*args)
        if not isinstance(answer, bool):
            raise _fail(vendor, f"matchesProfileEvent{args!r} gave {answer!r}, not a bool")
    if vendor.matchesProfileEvent("no-such-vendor-anywhere", "X1"):
        raise _fail(vendor, "matchesProfileEvent claims vendor 'no-such-vendor-anywhere'")


def _secrets(samples: VendorSamples) -> list[str]:
    found = [line.password for line in samples.lines if line.password]
    found += [str(value) for key, value in samples.options.items()
              if _SECRET_KEY.search(key) and isinstance(value, str) and value]
    return found


def _checkPhoneURLVariables(vendor) -> frozenset[str]:
    variables = vendor.phoneURLVariables
    if not isinstance(variables, (frozenset, set)):
        raise _fail(vendor, f"phoneURLVariables is a {type(variables).__name__}, not a frozenset")
    for variable in variables:
        if not isinstance(variable, str) or not _NAME.fullmatch(variable):
            raise _fail(vendor, f"phoneURLVariables names {variable!r}, not a lower-case variable name")
        if variable in SERVER_VARIABLES:
            raise _fail(vendor, f"phoneURLVariables names {{{variable}}}, which the server expands")
    return frozenset(variables)


def _checkTemplate(vendor, what: str, template, phoneVariables: frozenset[str]) -> None:
    if not isinstance(template, str) or not (template.startswith("{base_url}") or _SCHEME.match(template)):
        raise _fail(vendor, f"{what} {template!r} starts with neither {{base_url}} nor a scheme")
    for variable in re.findall(r"\{([a-z][a-z0-9_]*)\}", template):
        if variable not in SERVER_VARIABLES and variable not in phoneVariables:
            raise _fail(vendor, f"{what} {template!r} uses unknown variable {{{variable}}}")


def _checkProfileURLs(vendor, samples: VendorSamples, macs: Iterable[str]) -> None:
    phoneVariables = _checkPhoneURLVariables(vendor)
    templates = [vendor.defaultURLTemplate]
    _checkTemplate(vendor, "defaultURLTemplate", templates[0], phoneVariables)
    configured = samples.options.get("url")
    if configured is not None:
        _checkTemplate(vendor, "the sample url option", configured, phoneVariables)
        templates.append(configured)
    requests = [ProfileRequest(mac=mac, vendor=vendor.name, version="1.0", ip="192.0.2.67") for mac in macs]
    requests.append(ProfileRequest(mac=None, ip="192.0.2.67"))
    registry = VendorRegistry([vendor])
    for request in samples.profileRequests:
        if registry.forProfileRequest(request) is not vendor:
            raise _fail(vendor, f"is not the vendor picked for its sample request {request!r}")
        requests.append(request)
    secrets = _secrets(samples)
    for template in templates:
        for request in requests:
            url = vendor.provisioningURL(request, expandProfileURL(template, request, vendor.name, samples.baseURL))
            _checkURL(vendor, request, url, secrets)


_FOREIGN_SUBSCRIBE = DecodedMessage(
    "SUBSCRIBE", "sip:MAC%3a0A0B0C0D0E0F@224.0.1.75", None,
    ["SIP/2.0/UDP 192.0.2.67:5060;branch=z9hG4bKcontract"],
    {"from": "<sip:MAC%3a0A0B0C0D0E0F@224.0.1.75>;tag=contract", "to": "<sip:MAC%3a0A0B0C0D0E0F@224.0.1.75>",
     "call-id": "contract@192.0.2.67", "cseq": "1 SUBSCRIBE", "contact": "<sip:192.0.2.67:5060>",
     "event": 'ua-profile;profile-type="device";vendor="no-such-vendor-anywhere";model="X1";version="1.0"',
     "user-agent": "no-such-vendor-anywhere/1.0"},
)
_FOREIGN_PROFILE_REQUEST = ProfileRequest(
    mac="0A0B0C0D0E0F", vendor="no-such-vendor-anywhere", model="X1", version="1.0", profileType="device",
    userAgent="no-such-vendor-anywhere/1.0", ip="192.0.2.67",
)


def _checkSubscribeReading(vendor) -> None:
    try:
        claimed = vendor.claimSubscribe(_FOREIGN_PROFILE_REQUEST, _FOREIGN_SUBSCRIBE)
    except Exception as e:
        raise _fail(vendor, f"claimSubscribe raised {type(e).__name__}: {e}") from None
    if claimed is not None:
        raise _fail(vendor, f"claimSubscribe claims a SUBSCRIBE of vendor 'no-such-vendor-anywhere': {claimed!r}")


def _checkSIPPorts(vendor) -> None:
    ports = vendor.sipPorts
    if not isinstance(ports, (frozenset, set)):
        raise _fail(vendor, f"sipPorts is a {type(ports).__name__}, not a frozenset")
    for port in ports:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise _fail(vendor, f"sipPorts holds {port!r}, not a UDP port number (1-65535)")


def _checkOptions(vendor, samples: VendorSamples) -> None:
    defaults = vendor.defaultOptions
    if not isinstance(defaults, Mapping):
        raise _fail(vendor, f"defaultOptions is a {type(defaults).__name__}, not a mapping")
    cases = [("its defaultOptions", dict(defaults))]
    if samples.options:
        cases.append(("the sample options", {**defaults, **samples.options}))
    for what, given in cases:
        problems = vendor.checkOptions(given)
        if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
            raise _fail(vendor, f"checkOptions of {what} gave {problems!r}, not a list of sentences")
        if problems:
            raise _fail(vendor, f"checkOptions refuses {what}: {problems[0]}")


def _checkURL(vendor, request: ProfileRequest, url, secrets: list[str]) -> None:
    where = f"provisioningURL for {request!r}"
    if not isinstance(url, str) or not _SCHEME.match(url):
        raise _fail(vendor, f"{where} gave {url!r}, not an absolute URL")
    if any(c.isspace() for c in url) or "\x00" in url:
        raise _fail(vendor, f"{where} gave {url!r}, with white space in it")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise _fail(vendor, f"{where} gave a URL with a user name or password: no secret goes into a NOTIFY")
    for key, _ in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_KEY.search(key):
            raise _fail(vendor, f"{where} gave a URL with query parameter {key!r}: no secret goes into a NOTIFY")
    for secret in secrets:
        if secret in url:
            raise _fail(vendor, f"{where} gave a URL carrying a line's password: no secret goes into a NOTIFY")


def _fileNames(vendor, mac: str, model: str | None) -> list[str]:
    main = vendor.deviceFileName(mac)
    if not isinstance(main, str) or not main:
        raise _fail(vendor, f"deviceFileName({mac!r}) gave {main!r}, not a name")
    if not IFileListingVendor.providedBy(vendor):
        return [main]
    names = vendor.deviceFileNames(mac, model)
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) for n in names):
        raise _fail(vendor, f"deviceFileNames({mac!r}, {model!r}) gave {names!r}, not a list of names")
    if names[0] != main:
        raise _fail(vendor, f"deviceFileNames({mac!r}, {model!r}) does not start with deviceFileName "
                            f"{main!r}: {list(names)!r}")
    return list(names)


def _checkFiles(vendor, samples: VendorSamples, macs: tuple[str, ...]) -> None:
    registry = VendorRegistry([vendor])
    hostile = [*_HOSTILE_NAMES, *(f"{vendor.name}/{name}" for name in _HOSTILE_NAMES)]
    for name in hostile:
        for found in (registry.resolveFile(name, None), vendor.resolveFile(name, None)):
            if found is not None:
                raise _fail(vendor, f"resolves the hostile name {name!r} to {found!r}")
    mains = {vendor.deviceFileName(mac) for mac in macs}
    if len(mains) != len(set(macs)):
        raise _fail(vendor, "deviceFileName gives one name to different MACs")
    secrets = [line.password for line in samples.lines if line.password]
    for mac in macs:
        for model in samples.models:
            names = _fileNames(vendor, mac, model)
            carried = b""
            for position, name in enumerate(names):
                if name.startswith("/"):
                    raise _fail(vendor, f"file name {name!r} starts with /: names are given without")
                found = registry.resolveFile(name, None)
                if found is None:
                    raise _fail(vendor, f"names {name!r} for {mac}, but does not resolve it")
                request = found[1]
                if not isinstance(request, FileRequest) or request.vendor != vendor.name:
                    raise _fail(vendor, f"resolves its own name {name!r} to {request!r}, not its FileRequest")
                if request.mac != mac and (position == 0 or request.mac is not None):
                    raise _fail(vendor, f"names {name!r} for {mac}, but it resolves to MAC {request.mac!r}")
                rendered = _render(vendor, request, mac, model, samples)
                if rendered is None:
                    if position == 0:
                        raise _fail(vendor, f"does not render the main file {name!r} of {mac}")
                    continue
                content = _checkRendered(vendor, name, rendered)
                for secret in secrets:
                    if secret.encode() in content:
                        if request.mac != mac:
                            raise _fail(vendor, f"{name!r} is not the device's own file, yet carries a password")
                        if not rendered.sensitive:
                            raise _fail(vendor, f"{name!r} carries a password but is not marked sensitive")
                if request.mac == mac:
                    carried += content
            for line in samples.lines:
                if line.user.encode() not in carried:
                    raise _fail(vendor, f"no file of {mac} ({', '.join(names)}) carries line {line.index}'s "
                                        f"user {line.user!r}")


def _render(vendor, request: FileRequest, mac: str, model: str | None, samples: VendorSamples):
    ownFile = request.mac == mac
    context = RenderContext(
        device=DeviceInfo(mac=mac, vendor=vendor.name, model=model, state="registered"),
        lines=samples.lines if ownFile else (),
        settings={},
        documents={},
        options=dict(samples.options),
        baseURL=samples.baseURL,
        tftpServer=samples.tftpServer,
    )
    return vendor.renderFile(request, context)


def _checkRendered(vendor, name: str, rendered) -> bytes:
    if not isinstance(rendered, RenderedFile):
        raise _fail(vendor, f"renders {name!r} as {type(rendered).__name__}, not a RenderedFile")
    if not isinstance(rendered.content, bytes):
        raise _fail(vendor, f"renders {name!r} with content of {type(rendered.content).__name__}, not bytes")
    if not isinstance(rendered.contentType, str) or "/" not in rendered.contentType:
        raise _fail(vendor, f"renders {name!r} with content type {rendered.contentType!r}")
    if rendered.path is None and not rendered.content:
        raise _fail(vendor, f"renders {name!r} empty")
    return rendered.content


def _checkDHCP(vendor, samples: VendorSamples) -> None:
    rule = vendor.dhcpRule("192.0.2.10", samples.baseURL)
    if not isinstance(rule, DHCPRule):
        raise _fail(vendor, f"dhcpRule gave {type(rule).__name__}, not a DHCPRule")
    for code, value in rule.options.items():
        if not isinstance(code, int) or not 1 <= code <= 254:
            raise _fail(vendor, f"dhcpRule option {code!r} is not a DHCP option number")
        values = value if isinstance(value, (tuple, list)) else (value,)
        if not all(isinstance(v, str) for v in values):
            raise _fail(vendor, f"dhcpRule option {code}: {value!r} is not text")


def _checkSettings(vendor) -> None:
    for attribute in ("settingPerms", "documentNames"):
        values = getattr(vendor, attribute)
        if not isinstance(values, frozenset):
            raise _fail(vendor, f"{attribute} is a {type(values).__name__}, not a frozenset")
        for value in values:
            if not isinstance(value, str):
                raise _fail(vendor, f"{attribute} holds {value!r}, not a string")
    for perm in vendor.settingPerms:
        if len(perm) > _MAX_PERM:
            raise _fail(vendor, f"settingPerms holds {perm!r}, longer than {_MAX_PERM} characters")
    for name in vendor.documentNames:
        if not name.strip() or any(c in name for c in "/~") or name != name.strip():
            raise _fail(vendor, f"documentNames holds {name!r}, not a name (no spaces around, no / or ~)")
    for data in _GARBAGE_SETTINGS:
        try:
            layer = vendor.parseSettings(data, "site")
        except ValueError as e:
            if not hasattr(e, "line") or not hasattr(e, "reason"):
                raise _fail(vendor, f"parseSettings refused {data!r} with a {type(e).__name__} that has no "
                                    "line and reason") from None
            line, reason = e.line, e.reason
            if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
                raise _fail(vendor, f"parseSettings refused {data!r} with line {line!r}, not an int or None")
            if not isinstance(reason, str) or not reason.strip():
                raise _fail(vendor, f"parseSettings refused {data!r} with reason {reason!r}, not text")
            continue
        except Exception as e:
            raise _fail(vendor, f"parseSettings raised {type(e).__name__} on {data!r}, not a ValueError") from None
        if not isinstance(layer, SettingsLayer) or layer.scope != "site":
            raise _fail(vendor, f"parseSettings gave {layer!r} for {data!r}, not a SettingsLayer of site")
        for setting in layer.settings:
            if setting.perm is not None and setting.perm not in vendor.settingPerms:
                raise _fail(vendor, f"parseSettings read perm {setting.perm!r}, not one of its settingPerms")
        unknown = set(layer.documents) - vendor.documentNames
        if unknown:
            raise _fail(vendor, f"parseSettings read documents {sorted(unknown)}, not in its documentNames")

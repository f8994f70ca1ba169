# -*- test-case-name: tests.test_vendor_snom -*-
"""
snom desk phones (and the snom DECT bases as far as identification goes).

Files under C{/snom/} and at the root (see L{SnomVendor.resolveFile}):

    - C{snom/<MAC>.xml}: the C{<setting-files>} container the PnP NOTIFY points
      at (the default URL template); it lists C{snom/<MAC>-settings.xml}.
    - C{snom/<MAC>-settings.xml}: the phone's complete C{<settings>}:
      C{<phone-settings>} (built-in defaults < settings layers < the device's
      lines) followed by C{<functionKeys>}, C{<tbook>}, C{<dialplan>} when set.
      The documents are inline rather than separate files listed in the
      container: one fetch fewer per boot, and the same file answers the
      DHCP path (C{snom<type>-<MAC>.htm}), which has no container.
    - C{snom/<MAC>-firmware.xml}: C{<firmware-settings>}, reached only through
      the C{firmware_status} setting and never listed in a container
      (formats §1.3, §1.11).
    - C{snom<type>.htm} (DHCP guess, no MAC): model-wide settings with no
      lines and no secrets; C{snom<type>-<MAC>.htm}: the device's settings.
    - C{snom/index.xml?mac=<MAC>}, C{snom/settings.xml?mac=<MAC>},
      C{snom/firmware.xml?mac=<MAC>}, C{snom<type>.htm?mac=<MAC>}: the same
      with the MAC in the query (for templates such as
      C{{base_url}/snom/index.xml?mac={mac}}).

Firmware: C{[vendors.snom] firmware} maps a model to C{{version, url}}.  The
settings name C{firmware_status} (and C{update_policy = auto_update}) only
when the wanted version differs from the one the phone runs, so an upgraded
phone is not sent the same image again (no reboot loop).  The running
version is the User-Agent's, else the stored device's; when neither is
known, no firmware is offered: the phone will tell on its next fetch.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping
from urllib.parse import parse_qs

from zope.interface import implementer

from snomprov.device import (
    DHCPRule,
    FileRequest,
    InvalidMAC,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    Setting,
    UserAgentInfo,
    parseMAC,
)
from snomprov.interfaces import (
    IDHCPVendor,
    IBuiltinSettingsVendor,
    IFileListingVendor,
    IOptionsVendor,
    IResyncVendor,
    ISecretSettingsVendor,
    ISettingsVendor,
    IUAProfileVendor,
)
from snomprov.urltemplate import TOKEN_MARK, compileURLTemplate, serverVariables
from snomprov.vendors import snomxml

__all__ = ["SnomVendor", "snomVendor"]

_XML_TYPE = "application/xml"

_MAC_IN_UA = re.compile(r"(?<![0-9A-Fa-f])000413[0-9A-Fa-f]{6}(?![0-9A-Fa-f])")
_FIRMWARE = r"v?(\d+(?:\.\d+)+)"
_UA_FORMS = (
    # HTTP, desk phones: "snomD785-SIP 10.1.33.33 ...", "snom320-SIP 6.5.20;"
    re.compile(r"\bsnom[ -]?(\w+)-SIP[ /]" + _FIRMWARE, re.I),
    # SIP User-Agent: "snom360/7.3.14", "snomM700/03.23.0005 (MAC=...)"
    re.compile(r"\bsnom[ -]?(\w+)/" + _FIRMWARE, re.I),
    # HTTP, DECT: "snom m9 9.1.43", "Snom M900 05.20.0001 000413b60680"
    re.compile(r"\bsnom[ -](m\w*) " + _FIRMWARE, re.I),
)
_SNOM_IN_UA = re.compile(r"\bsnom", re.I)

_SNOM_MODEL = re.compile(r"snom.*|D\d{3}\w*|M\d{1,3}\w*|[378]\d\d\w*|PA1|C[56]20", re.I)

_HTM = re.compile(r"(?:snom/)?(?P<model>snom[A-Za-z0-9_]+)(?:-(?P<mac>[^/]+))?\.htm", re.I)
_XML = re.compile(r"snom/(?P<stem>[^/]+)\.xml")
_SUFFIX_KINDS = ("settings", "firmware")
_CONTAINER_STEM = "index"

"""
Setting names left out of a model-wide file, which any phone may fetch.
"""


def _lineSettings(line: Line) -> list[tuple[str, str]]:
    """
    The C{<phone-settings>} names and values of one SIP identity; empty fields
    are left out so that a layer may supply them (a site-wide C{user_host}).
    """
    pairs = [
        ("user_active", "on"),
        ("user_name", line.user),
        ("user_host", line.registrar),
        ("user_pname", line.authUser),
        ("user_pass", line.password),
        ("user_realname", line.displayName),
        ("user_outbound", line.outboundProxy),
    ]
    return [(name, value) for name, value in pairs if value]


def _modelKey(model: str) -> str:
    """
    A model name for comparison: C{snomD785}, C{D785} and C{d785} are equal.
    """
    model = model.strip().lower()
    return model[4:] if model.startswith("snom") else model


@implementer(IUAProfileVendor, IFileListingVendor, IBuiltinSettingsVendor, IResyncVendor, IDHCPVendor,
             IOptionsVendor, ISettingsVendor, ISecretSettingsVendor)
class SnomVendor:
    """
    snom phones: PnP URL, User-Agent, settings files, check-sync, DHCP, and
    the snom settings XML operators upload as layers.

    @ivar phoneURLVariables: lower-case C{{name}} variables snom phones
        expand themselves, allowed in URL templates (formats §1.2).
    @ivar settingPerms: snom's C{perm} flags (L{snomxml.SNOM_PERMS}).
    @ivar documentNames: the sections kept whole (C{functionKeys},
        C{tbook}, C{dialplan}; L{snomxml.DOCUMENT_SECTIONS}).
    @ivar secretSettings: the snom settings whose values are secrets
        (formats §1.3 and snom's settings reference): the web interface's
        and the administrator mode's passwords, the identities' SIP
        passwords, and the passwords the phone presents to an LDAP
        directory, a provisioning server, an XML browser, a VPN and a
        TR-069 server.
    """

    name = "snom"
    ouis = frozenset({"000413"})
    optionTypes: Mapping[str, type] = {"firmware": dict}
    defaultOptions: Mapping[str, object] = {}
    defaultURLTemplate = "{base_url}/snom/{mac}.xml?token={token}"
    resyncEvent = "check-sync;reboot=false"
    phoneURLVariables = frozenset({"phone_type"})
    settingPerms = frozenset(snomxml.SNOM_PERMS)
    documentNames = frozenset(snomxml.DOCUMENT_SECTIONS.values())
    secretSettings = frozenset({
        "http_pass", "admin_mode_password", "admin_mode_password_confirm", "user_pass",
        "user_hash", "ldap_password", "pnp_config_auth_pass", "settings_server_password",
        "xml_password", "vpn_password", "openvpn_password", "tr69_password",
        "tr69_connection_request_password", "dkey_pin",
    })

    # -- settings files --------------------------------------------------

    def parseSettings(self, data: bytes, scope: str):
        """
        An uploaded snom settings XML file as the layer of C{scope}
        (L{snomxml.parseSettingsXML}).

        @raise snomxml.SettingsXMLError: with the line and reason.
        """
        return snomxml.parseSettingsXML(data, scope)

    # -- identification --------------------------------------------------

    def matchesProfileEvent(self, vendor: str | None, model: str | None) -> bool:
        """
        C{vendor="snom"} (any case); or no vendor, or C{"OEM"}, with a snom
        model (C{snomD785}, C{D785}, C{M700}, C{360}); or C{vendor="OEM"
        model="OEM"}, which snom firmware 7.1.19 sends (snom wiki PnP trace).
        """
        v = (vendor or "").strip().lower()
        if v == "snom":
            return True
        if v not in ("", "oem"):
            return False
        m = (model or "").strip()
        return bool(_SNOM_MODEL.fullmatch(m)) or (v == "oem" and m.upper() == "OEM")

    def parseUserAgent(self, userAgent: str) -> UserAgentInfo | None:
        """
        Read a snom HTTP or SIP User-Agent (formats §1.8).

        The model is C{snom} plus the type as written (C{snomD785},
        C{snom360}, C{snomM900}, C{snomm9}); the MAC is a 12-hex-digit token
        starting with snom's OUI anywhere in the text, never a field found by
        position.

        @return: L{UserAgentInfo}, or C{None} if C{userAgent} is not a snom's.
        """
        if not _SNOM_IN_UA.search(userAgent):
            return None
        model = firmware = None
        for form in _UA_FORMS:
            match = form.search(userAgent)
            if match:
                model, firmware = "snom" + match.group(1), match.group(2)
                break
        found = _MAC_IN_UA.search(userAgent)
        mac = parseMAC(found.group(0)) if found else None
        return UserAgentInfo(vendor=self.name, model=model, firmware=firmware, mac=mac)

    # -- PnP, resync, DHCP -------------------------------------------------

    def provisioningURL(self, request: ProfileRequest, url: str) -> str:
        """
        The server's expansion as it is (C{{mac}} stays for the phone when
        the SUBSCRIBE carried none; C{{phone_type}} is the phone's).
        """
        return url

    def dhcpRule(self, tftpServer: str, baseURL: str) -> DHCPRule:
        """
        Option 66 carries C{baseURL} itself: snom phones accept an HTTP URL
        there (formats §1.13) and, finding no file name, fetch
        C{snom<type>.htm} and C{snom<type>-<MAC>.htm} (formats §1.1), which
        L{resolveFile} answers.  No option 67: a file name would stop the
        guessing, and a per-type name cannot be written into one static
        option.  C{tftpServer} is not used: snom phones are served over HTTP.
        """
        return DHCPRule(
            name=self.name,
            vendorClasses=("snom",),
            ouis=tuple(sorted(self.ouis)),
            options={66: baseURL},
        )

    def checkOptions(self, options: Mapping[str, object]) -> list[str]:
        """
        Check the values of C{[vendors.snom]} beyond their types:
        C{firmware} maps model names to tables with text C{version} and
        C{url} (the server checks the C{url} template itself).

        @return: one sentence per problem.
        """
        problems: list[str] = []
        firmware = options.get("firmware", {})
        if not isinstance(firmware, Mapping):
            return problems + ["firmware: must be a table of model = {version, url}"]
        for model, wanted in firmware.items():
            if not (
                isinstance(wanted, Mapping)
                and isinstance(wanted.get("version"), str)
                and isinstance(wanted.get("url"), str)
                and set(wanted) == {"version", "url"}
            ):
                problems.append(
                    f"firmware.{model}: must be {{version = \"...\", url = \"...\"}}"
                )
        return problems

    # -- files ---------------------------------------------------------------

    def deviceFileName(self, mac: str) -> str:
        """
        The phone's complete settings document.
        """
        return f"snom/{mac}-settings.xml"

    def deviceFileNames(self, mac: str, model: str | None) -> list[str]:
        """
        The settings, the container, the firmware file and, for a known
        model, the DHCP path's C{.htm} name.
        """
        names = [self.deviceFileName(mac), f"snom/{mac}.xml", f"snom/{mac}-firmware.xml"]
        if model and _HTM.fullmatch(f"{model}-{mac}.htm"):
            names.append(f"{model}-{mac}.htm")
        return names

    def resolveFile(self, name: str, userAgent: UserAgentInfo | None) -> FileRequest | None:
        """
        Recognise one of the names listed in the module docstring.

        The MAC (path or C{?mac=}) is read by L{parseMAC}; a malformed one,
        a path and query that disagree, or a User-Agent that reports another
        MAC, gives C{None}.
        """
        path, _, query = name.partition("?")
        try:
            queryMAC = _queryMAC(query)
            htm = _HTM.fullmatch(path)
            if htm:
                model: str | None = "snom" + htm.group("model")[4:]
                pathMAC = parseMAC(htm.group("mac")) if htm.group("mac") else None
                mac = _oneMAC(pathMAC, queryMAC)
                kind = "settings" if mac else "model-settings"
            else:
                xml = _XML.fullmatch(path)
                if xml is None:
                    return None
                kind, macText = _splitStem(xml.group("stem"))
                mac = _oneMAC(parseMAC(macText) if macText else None, queryMAC)
                if mac is None:
                    return None
                model = userAgent.model if userAgent else None
        except InvalidMAC:
            return None
        if mac and userAgent and userAgent.mac and userAgent.mac != mac:
            return None
        return FileRequest(vendor=self.name, kind=kind, name=name, mac=mac, model=model)

    def renderFile(self, request: FileRequest, context: RenderContext) -> RenderedFile | None:
        """
        Render a file L{resolveFile} recognised.

        @return: L{RenderedFile}; per-device settings are C{sensitive}.
            C{None} for a kind this vendor does not know.
        """
        render = self._renderers.get(request.kind)
        if render is None:
            return None
        return render(self, request, context)

    def builtinSettings(self, request: FileRequest, context: RenderContext) -> list[Setting]:
        """
        The built-in defaults (L{_defaults}) of the device's settings file
        and of a model-wide one; none in the container or firmware file.
        """
        if request.kind not in ("settings", "model-settings"):
            return []
        return list(self._defaults(request, context, withFirmware=request.kind == "settings").values())

    def _renderContainer(self, request: FileRequest, context: RenderContext) -> RenderedFile:
        """
        The C{<setting-files>} container: the device's settings file.
        """
        url = f"{_base(context)}/snom/{request.mac}-settings.xml?token={TOKEN_MARK}"
        return RenderedFile(snomxml.renderContainer([url]), _XML_TYPE)

    def _renderSettings(self, request: FileRequest, context: RenderContext) -> RenderedFile:
        """
        The device's complete C{<settings>}.
        """
        merged = {s.key: s for s in self.builtinSettings(request, context)}
        merged.update(context.settings)
        for line in context.lines:
            for name, value in _lineSettings(line):
                old = merged.get((name, line.index))
                merged[(name, line.index)] = Setting(
                    name, value, line.index, old.perm if old else None
                )
        content = snomxml.renderSettings(merged.values(), context.documents)
        return RenderedFile(content, _XML_TYPE, sensitive=True)

    def _renderModelSettings(
        self, request: FileRequest, context: RenderContext
    ) -> RenderedFile:
        """
        Model-wide C{<phone-settings>}: defaults and layers, no lines, no
        secrets (any phone may fetch it), no documents and no firmware (the
        device's own file follows).
        """
        merged = {s.key: s for s in self.builtinSettings(request, context)}
        merged.update(context.settings)
        return RenderedFile(snomxml.renderSettings(merged.values()), _XML_TYPE)

    def _renderFirmware(self, request: FileRequest, context: RenderContext) -> RenderedFile:
        """
        C{<firmware-settings>} with the wanted image, or empty when the phone
        already runs the wanted version (or it is unknown).
        """
        wanted = self.wantedFirmware(request, context)
        return RenderedFile(
            snomxml.renderFirmware(wanted["url"] if wanted else None), _XML_TYPE
        )

    _renderers: Mapping[
        str, Callable[["SnomVendor", FileRequest, RenderContext], RenderedFile]
    ] = {
        "container": _renderContainer,
        "settings": _renderSettings,
        "model-settings": _renderModelSettings,
        "firmware": _renderFirmware,
    }

    def wantedFirmware(
        self, request: FileRequest, context: RenderContext
    ) -> Mapping[str, str] | None:
        """
        The C{{version, url}} to offer this phone, or C{None}: none wanted
        for its model, its running version unknown, or already running it.
        """
        model = request.model or _fromContext(context, "model")
        running = _fromContext(context, "firmware")
        table = context.options.get("firmware")
        if not (model and running and isinstance(table, Mapping)):
            return None
        for key, wanted in table.items():
            if (
                _modelKey(str(key)) == _modelKey(model)
                and isinstance(wanted, Mapping)
                and isinstance(wanted.get("version"), str)
                and isinstance(wanted.get("url"), str)
            ):
                return None if wanted["version"].strip() == running.strip() else wanted
        return None

    def _defaults(
        self, request: FileRequest, context: RenderContext, withFirmware: bool
    ) -> dict[tuple[str, int | None], Setting]:
        """
        The built-in defaults, below every layer:

            - C{setting_server}: the configured (or default) URL template with
              C{{mac}} left for the phone, so that the phone comes back to us
              at every boot instead of trying snom's redirection service first
              (formats §1.1);
            - C{firmware_status} (this phone's C{-firmware.xml}) and
              C{update_policy = auto_update}, only when L{wantedFirmware}
              offers an image.
        """
        template = context.options.get("url")
        if not isinstance(template, str):
            template = self.defaultURLTemplate
        server = compileURLTemplate(template)(serverVariables(
            context.baseURL,
            self.name,
            model=request.model or _fromContext(context, "model"),
            version=_fromContext(context, "firmware"),
            ip=context.device.ip if context.device else None,
        ))
        defaults = [Setting("setting_server", server)]
        if withFirmware and request.mac and self.wantedFirmware(request, context):
            defaults += [
                Setting(
                    "firmware_status", f"{_base(context)}/snom/{request.mac}-firmware.xml"
                ),
                Setting("update_policy", "auto_update"),
            ]
        return {s.key: s for s in defaults}


def _base(context: RenderContext) -> str:
    """
    The base URL without a trailing C{/}.
    """
    return context.baseURL.rstrip("/")


def _fromContext(context: RenderContext, field: str) -> str | None:
    """
    C{model} or C{firmware} as the User-Agent reports it, else as stored.
    """
    for source in (context.userAgent, context.device):
        value = getattr(source, field, None) if source is not None else None
        if value:
            return value
    return None


def _queryMAC(query: str) -> str | None:
    """
    The C{mac} parameter of a query string, normalised, or C{None}.

    @raise InvalidMAC: if it is there but not a MAC (or given twice).
    """
    values = parse_qs(query, keep_blank_values=True).get("mac")
    if values is None:
        return None
    if len(values) != 1:
        raise InvalidMAC("mac given more than once")
    return parseMAC(values[0])


def _oneMAC(pathMAC: str | None, queryMAC: str | None) -> str | None:
    """
    The MAC of the path or the query.

    @raise InvalidMAC: if both are there and differ.
    """
    if pathMAC and queryMAC and pathMAC != queryMAC:
        raise InvalidMAC("path and query name different MACs")
    return pathMAC or queryMAC


def _splitStem(stem: str) -> tuple[str, str | None]:
    """
    The kind and the MAC text of a C{snom/<stem>.xml} name.
    """
    for kind in _SUFFIX_KINDS:
        if stem == kind:
            return kind, None
        if stem.endswith("-" + kind):
            return kind, stem[: -len(kind) - 1]
    if stem == _CONTAINER_STEM:
        return "container", None
    return "container", stem


snomVendor = SnomVendor()
"""
The snom vendor, as the plugin module exposes it.
"""

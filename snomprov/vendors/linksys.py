# -*- test-case-name: tests.test_vendor_linksys -*-
"""
Linksys, Sipura and Cisco SPA phones (SPA9xx, SPA30x, SPA50xG, SPA525G and
the ATAs with the same provisioning engine).

The flow (CESNET tech. report 7/2008; Linksys SPA Provisioning Guide):

  1. DHCP option 66 names our TFTP server (L{LinksysVendor.dhcpRule}).
  2. The phone's factory C{Profile_Rule} is C{/spa$PSN.cfg}: it asks TFTP for
     C{spa942.cfg}.  We answer the I{initial} profile, the same for every
     phone of a model and without secrets, whose C{Profile_Rule} points at
     C{spa$MA.cfg} (C{$MA}: the phone's MAC, lower-case hex) over TFTP, or
     over HTTP with the option C{profile_rule = "http"}.
  3. The phone asks for C{spa000e08aabbcc.cfg} and gets its I{profile}: the
     merged settings layers and its SIP lines.  That file keeps the
     C{Profile_Rule} and C{Resync_Periodic}, so the phone keeps polling.

Both files are also served under the vendor's subtree (C{linksys/spa942.cfg},
C{linksys/spa000e08aabbcc.cfg}) over HTTP.

How settings layers name SPA parameters: a setting's name is the SPA XML
element name.  A setting with an index C{n} becomes C{Name_n_} (C{("Proxy",
2)} is C{Proxy_2_}); C{("Proxy_2_", None)} is the same parameter.  Only names
of the SPA shape (an upper-case letter, then letters, digits, C{_}) are
written, so snom settings in a shared C{site} layer stay out of SPA files.  A
setting's C{perm}, when it is C{na}, C{ro} or C{rw}, becomes the C{ua}
attribute; otherwise C{ua="na"}.  Parameters whose name contains C{Passw}
(C{Password_1_}, C{Admin_Passwd}) are always C{ua="na"}.

Precedence inside a profile: the built-in resync parameters < the settings
layers < the device's lines.  A line's empty fields and per-line defaults
give way to the layers (see L{LinksysVendor._lineParameters}).  Lines the
device does not have are not mentioned, which leaves them as they are on
the phone.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Container, Iterable, Mapping

from zope.interface import implementer

from snomprov.device import (
    DHCPRule,
    FileRequest,
    Line,
    RenderContext,
    RenderedFile,
    Setting,
    UserAgentInfo,
    parseMAC,
)
from snomprov.interfaces import (
    IBuiltinSettingsVendor,
    IDHCPVendor,
    IFileListingVendor,
    IOptionsVendor,
    IResyncVendor,
    ISecretSettingsVendor,
)
from snomprov.urltemplate import TOKEN_MARK
from snomprov.vendors.flatprofile import (
    UA_VALUES,
    FlatParameter,
    isParameterName,
    parameterName,
    writeFlatProfile,
)

__all__ = ["LinksysVendor", "linksysVendor", "SPA_OUIS"]


SPA_OUIS = frozenset(
    {
        # Sipura, now listed as Cisco-Linksys: SPA9xx phones and the ATAs.
        "000E08",
        # Cisco-Linksys (IEEE registry, Debian ieee-data 20220827).
        "000C41", "000F66", "001217", "001310", "0014BF", "0016B6", "001839",
        "0018F8", "001A70", "001C10", "001D7E", "001EE5", "002129", "00226B",
        "002369", "00259C", "20AA4B", "48F8B3", "586D8F", "687F74", "98FC11",
        "C0C1C0", "C8B373", "C8D719",
    }
)
"""
OUIs of SPA phones.  Cisco's SPA30x/50x also use Cisco Systems' general OUIs
(C{0002FD}, C{8843E1}, ...), which are left out on purpose: they are shared
with Cisco's other phones and network gear, which must not be sent to us.
Those phones are matched by their DHCP vendor class instead.
"""

_VENDORS = {"linksys", "cisco", "sipura"}

# The product series number ($PSN): "942", "504G", "525G2", "2102".
_PSN = r"(?P<psn>\d{3,4}[A-Za-z]{0,2}\d?)"

_MODEL = re.compile(r"SPA-?" + _PSN, re.IGNORECASE)

# HTTP:  Linksys/SPA-942-6.1.5(a) (88019FA42805)            (serial)
#        Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)    (MAC)(serial)
#        Cisco/SPA525G-7.4.7 (CBT141900G7)                   (serial)
# SIP:   Linksys/SPA942-6.1.5(a), Sipura/SPA-2000-3.1.15
_USER_AGENT = re.compile(
    r"(?P<vendor>Linksys|Cisco|Sipura)/SPA-?" + _PSN + r"(?=[-\s(]|$)"
    r"(?:-(?P<firmware>[^\s(]+(?:\([^\s)]*\))?))?"
    r"(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_BRACKETED = re.compile(r"\(([^()]*)\)")

_SUBTREE = "linksys/"
_PROFILE_FILE = re.compile(r"spa(?P<mac>[0-9a-f]{12})\.cfg", re.IGNORECASE)
_INITIAL_FILE = re.compile(r"spa" + _PSN + r"\.cfg", re.IGNORECASE)

_PROFILE_RULES = ("tftp", "http")
_IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_VERSION = re.compile(r"[A-Za-z0-9._()-]{1,32}")


def _modelOf(request: FileRequest, context: RenderContext) -> str | None:
    """
    The phone's model: the request's, the stored device's or its
    User-Agent's.
    """
    return request.model or (context.device.model if context.device else None) or (
        context.userAgent.model if context.userAgent else None)


def _firmwareFor(options: Mapping[str, object], model: str | None):
    """
    The C{{version, file}} wanted for a model (matched without regard to
    case), or C{None}.
    """
    if not model:
        return None
    for name, wanted in options["firmware"].items():
        if name.lower() == model.lower():
            return wanted
    return None


def _modelName(psn: str) -> str:
    """
    The model as the phone names itself in SIP: C{SPA} and the series
    number, upper case (C{SPA504G}).
    """
    return "SPA" + psn.upper()


def _yesNo(flag: bool) -> str:
    return "Yes" if flag else "No"


@implementer(IFileListingVendor, IBuiltinSettingsVendor, IResyncVendor, IDHCPVendor, IOptionsVendor,
             ISecretSettingsVendor)
class LinksysVendor:
    """
    The SPA vendor: recognises C{spa<model>.cfg} and C{spa<mac>.cfg},
    renders C{<flat-profile>} documents, and says what DHCP should send.

    @ivar name: C{"linksys"}.
    @ivar ouis: L{SPA_OUIS}.
    @ivar optionTypes: the keys of C{[vendors.linksys]}:
        C{profile_rule} (C{"tftp"}, the default, or C{"http"}: how the
        C{Profile_Rule} reaches C{spa$MA.cfg}; C{"http"} uses C{base_url},
        which may be C{https}), C{resync_periodic} (seconds between polls,
        default 3600), C{register_expires} (seconds, default 3600) and
        C{firmware} (model to C{{version, file}}: the image phones of that
        model are upgraded to, served as C{firmware/<file name>} and named
        by a conditional C{Upgrade_Rule}).
    @ivar resyncEvent: C{"resync"}; the phone needs C{Resync_From_SIP},
        which every profile we render turns on.
    @ivar secretSettings: the SPA parameters whose values are secrets
        (the SPA administration guide): the admin and user web passwords,
        the lines' C{Password_N_}, the profile's decryption key and the
        passwords of the HTTP server, XML services and mailbox access.
    """

    name = "linksys"
    ouis = SPA_OUIS
    secretSettings = frozenset({
        "Admin_Passwd", "User_Password", "Password", "Mailbox_Password", "XML_Password",
        "Profile_Key", "HTTP_Password", "Proxy_Password",
    })
    optionTypes: Mapping[str, type] = {
        "profile_rule": str,
        "resync_periodic": int,
        "register_expires": int,
        "firmware": dict,
    }
    resyncEvent = "resync"

    defaultOptions: Mapping[str, object] = {
        "profile_rule": "tftp",
        "resync_periodic": 3600,
        "register_expires": 3600,
        "firmware": {},
    }

    # -- IVendor

    def matchesProfileEvent(self, vendor: str | None, model: str | None) -> bool:
        """
        Whether a ua-profile C{Event} names an SPA phone: C{vendor} is
        C{Linksys}, C{Cisco} or C{Sipura} (any case) and C{model} an SPA
        model (C{SPA942}, C{SPA-942}, C{SPA504G}).
        """
        if vendor is None or model is None:
            return False
        return (
            vendor.strip().lower() in _VENDORS
            and _MODEL.fullmatch(model.strip()) is not None
        )

    def parseUserAgent(self, userAgent: str) -> UserAgentInfo | None:
        """
        Read an SPA phone's HTTP or SIP User-Agent.

        The model is normalised to the SIP spelling (C{SPA-942} becomes
        C{SPA942}).  A MAC is taken only from Cisco's two-bracket form
        C{Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)}, whose first
        bracket is the MAC; a single bracketed value (C{Linksys/SPA-942-6.1.5(a)
        (88019FA42805)}) is the serial number, even when it looks like hex.

        @return: L{UserAgentInfo} with vendor C{"linksys"}, or C{None}.
        """
        match = _USER_AGENT.fullmatch(userAgent.strip())
        if match is None:
            return None
        return UserAgentInfo(
            vendor=self.name,
            model=_modelName(match["psn"]),
            firmware=match["firmware"],
            mac=self._macFromBrackets(match["vendor"], match["rest"]),
        )

    @staticmethod
    def _macFromBrackets(vendor: str, rest: str) -> str | None:
        """
        The MAC in the bracketed values after the firmware: only Cisco's
        C{(MAC)(serial)} carries one.
        """
        values = _BRACKETED.findall(rest)
        if vendor.lower() != "cisco" or len(values) != 2:
            return None
        if re.fullmatch(r"[0-9A-Fa-f]{12}", values[0]) is None:
            return None
        return parseMAC(values[0])

    # -- IFileVendor

    def deviceFileName(self, mac: str) -> str:
        """
        The per-MAC flat profile, as C{Profile_Rule} names it (C{$MA} is
        the lower-case MAC).
        """
        return f"spa{mac.lower()}.cfg"

    def deviceFileNames(self, mac: str, model: str | None) -> list[str]:
        """
        The per-MAC profile and, for a known model, the model's initial
        profile (C{spa942.cfg}).
        """
        names = [self.deviceFileName(mac)]
        match = _MODEL.fullmatch(model or "")
        if match is not None:
            names.append(f"spa{match['psn'].lower()}.cfg")
        return names

    def resolveFile(self, name: str, userAgent: UserAgentInfo | None) -> FileRequest | None:
        """
        Recognise C{spa<model>.cfg} (kind C{"initial"}) and
        C{spa<12 hex>.cfg} (kind C{"profile"}), at the root or under
        C{linksys/}, in any case.  One leading C{/} (as in the phones' TFTP
        requests) and a query string are ignored.

        @param userAgent: the request's User-Agent, if any; its model is
            recorded on a profile request.
        """
        path = name.split("?", 1)[0].removeprefix("/")
        base = path[len(_SUBTREE):] if path.lower().startswith(_SUBTREE) else path
        if "/" in base.lower().removeprefix("firmware/"):
            return None
        if base.lower().startswith("firmware/"):
            image = base[len("firmware/"):]
            if _IMAGE_NAME.fullmatch(image) is None:
                return None
            return FileRequest(vendor=self.name, kind="firmware", name=path)
        # A MAC is 12 hex digits, a series number at most 7 characters: no
        # name matches both patterns.
        match = _PROFILE_FILE.fullmatch(base)
        if match is not None:
            model = None
            if userAgent is not None and userAgent.vendor == self.name:
                model = userAgent.model
            return FileRequest(
                vendor=self.name,
                kind="profile",
                name=path,
                mac=parseMAC(match["mac"]),
                model=model,
            )
        match = _INITIAL_FILE.fullmatch(base)
        if match is not None:
            return FileRequest(
                vendor=self.name,
                kind="initial",
                name=path,
                model=_modelName(match["psn"]),
            )
        return None

    def renderFile(self, request: FileRequest, context: RenderContext) -> RenderedFile | None:
        """
        Render an initial file (only the resync parameters; not sensitive)
        or a per-MAC profile (resync parameters, settings layers, lines;
        sensitive).  Both are C{text/xml}.

        For an unknown device the caller passes no lines: the profile then
        holds the resync parameters and the layers.

        @raise ValueError: if an option of C{[vendors.linksys]} has a value
            out of range.
        @return: L{RenderedFile}, or C{None} for a request that is not ours.
        """
        if request.vendor != self.name:
            return None
        options = self._options(context.options)
        if request.kind == "firmware":
            return self._firmwareImage(request, options)
        parameters = {p.name: p for p in self._resyncParameters(options, context, _modelOf(request, context), request.kind == "profile")}
        if request.kind == "initial":
            return RenderedFile(writeFlatProfile(parameters.values()), "text/xml")
        if request.kind != "profile":
            return None
        layered = {p.name: p for p in self._settingParameters(context.settings.values())}
        parameters.update(layered)
        for line in sorted(context.lines, key=lambda l: l.index):
            for parameter in self._lineParameters(line, options, layered):
                parameters[parameter.name] = parameter
        return RenderedFile(
            writeFlatProfile(parameters.values()), "text/xml", sensitive=True
        )

    def builtinSettings(self, request: FileRequest, context: RenderContext) -> list[Setting]:
        """
        The resync parameters (L{_resyncParameters}) of an initial or
        per-MAC profile, each as the setting of that name (its C{ua} the
        perm), below the settings layers.
        """
        if request.vendor != self.name or request.kind not in ("initial", "profile"):
            return []
        options = self._options(context.options)
        return [Setting(p.name, p.value, None, p.ua)
                for p in self._resyncParameters(options, context, _modelOf(request, context), request.kind == "profile")]

    def _options(self, given: Mapping[str, object]) -> dict[str, object]:
        """
        The options with defaults filled in, checked.
        """
        options = {**self.defaultOptions, **given}
        if options["profile_rule"] not in _PROFILE_RULES:
            raise ValueError(
                f"vendors.linksys.profile_rule: must be one of "
                f"{', '.join(_PROFILE_RULES)}, not {options['profile_rule']!r}"
            )
        for key in ("resync_periodic", "register_expires"):
            value = options[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"vendors.linksys.{key}: must be a whole number of seconds "
                    f">= 0, not {value!r}"
                )
        for model, wanted in options["firmware"].items():
            if not (isinstance(wanted, Mapping) and set(wanted) == {"version", "file"}
                    and isinstance(wanted["version"], str) and isinstance(wanted["file"], str)
                    and _VERSION.fullmatch(wanted["version"])
                    and os.path.isabs(wanted["file"])
                    and _IMAGE_NAME.fullmatch(os.path.basename(wanted["file"]))):
                raise ValueError(
                    f"vendors.linksys.firmware.{model}: must be {{ version = \"7.5.5\", "
                    f"file = \"/absolute/path/spa504g-7-5-5.bin\" }}"
                )
            if not os.access(wanted["file"], os.R_OK):
                raise ValueError(f"vendors.linksys.firmware.{model}: cannot read {wanted['file']!r}")
        return options

    @staticmethod
    def _profileRule(options: Mapping[str, object], context: RenderContext, perDevice: bool) -> str:
        """
        Where the phone finds its per-MAC profile; C{$MA} is expanded by the
        phone.  A phone's own profile adds its credential (L{TOKEN_MARK}),
        so that its re-syncs prove themselves; the initial one (any phone
        of a model may fetch it) has none.
        """
        proof = f"?token={TOKEN_MARK}" if perDevice else ""
        if options["profile_rule"] == "http":
            return f"{context.baseURL.rstrip('/')}/{_SUBTREE}spa$MA.cfg{proof}"
        return f"tftp://{context.tftpServer}/spa$MA.cfg{proof}"

    def _resyncParameters(
        self, options: Mapping[str, object], context: RenderContext, model: str | None = None,
        perDevice: bool = False,
    ) -> list[FlatParameter]:
        """
        What keeps the phone provisioned: resync at boot, every
        C{resync_periodic} seconds and on a SIP C{NOTIFY Event: resync},
        from C{Profile_Rule}; and, when C{firmware} names an image for the
        phone's model, an C{Upgrade_Rule} that fetches it only while the
        phone runs another version (C{$SWVER}), so it never loops.
        """
        values = [
            ("Provision_Enable", "Yes"),
            ("Resync_On_Reset", "Yes"),
            ("Resync_Periodic", str(options["resync_periodic"])),
            ("Resync_From_SIP", "Yes"),
            ("Profile_Rule", self._profileRule(options, context, perDevice)),
        ]
        wanted = _firmwareFor(options, model)
        if wanted is not None:
            # Under our own subtree, so the registry routes it to us.
            image = f"{_SUBTREE}firmware/{os.path.basename(wanted['file'])}"
            where = (f"{context.baseURL.rstrip('/')}/{image}" if options["profile_rule"] == "http"
                     else f"tftp://{context.tftpServer}/{image}")
            values += [("Upgrade_Enable", "Yes"),
                       ("Upgrade_Rule", f"($SWVER ne {wanted['version']})? {where}")]
        return [FlatParameter(name, value, "na") for name, value in values]

    @staticmethod
    def _firmwareImage(request: FileRequest, options: Mapping[str, object]) -> RenderedFile | None:
        """
        A configured firmware image (C{linksys/firmware/<file name>}), by
        its file name; anything else is not found.  The file is named by the configuration, never by the request.
        """
        image = request.name.rsplit("/", 1)[-1]
        for wanted in options["firmware"].values():
            if os.path.basename(wanted["file"]) == image:
                return RenderedFile(b"", "application/octet-stream", path=wanted["file"])
        return None

    def checkOptions(self, options: Mapping[str, object]) -> list[str]:
        """
        Check C{[vendors.linksys]} values beyond their types (run at start).

        @return: one sentence per problem.
        """
        try:
            options = self._options(options)
        except ValueError as e:
            return [str(e).removeprefix("vendors.linksys.")]
        return []

    @staticmethod
    def _settingParameters(settings: Iterable[Setting]) -> list[FlatParameter]:
        """
        The settings layers' SPA parameters (see the module docstring).
        """
        parameters = []
        for setting in settings:
            if not isParameterName(setting.name):
                continue
            name = parameterName(setting.name, setting.idx)
            ua = setting.perm if setting.perm in UA_VALUES else "na"
            if "passw" in name.lower():
                ua = "na"
            parameters.append(FlatParameter(name, setting.value, ua))
        return parameters

    @staticmethod
    def _lineParameters(
        line: Line, options: Mapping[str, object], layered: Container[str]
    ) -> list[FlatParameter]:
        """
        The parameters of one SIP identity, all C{ua="na"}.

        A field the line leaves empty, and the defaults (C{Line_Enable},
        C{Register}, C{Register_Expires}, C{Use_Outbound_Proxy} and
        C{Use_Auth_ID} set to C{No}), give way to a parameter of the
        settings layers, named in C{layered}: a registrar set for line 1 at
        site level is not blanked by a line without one.  A line without a
        password (none stored, or left out of a file served without the
        device's proof) writes no C{Password}: the phone keeps its own.
        """
        outbound, auth = bool(line.outboundProxy), bool(line.authUser)
        values = [
            # (name, value, whether the line's own data wins over a layer)
            ("Line_Enable", "Yes", False),
            ("Proxy", line.registrar, bool(line.registrar)),
            ("Outbound_Proxy", line.outboundProxy, outbound),
            ("Use_Outbound_Proxy", _yesNo(outbound), outbound),
            ("Register", "Yes", False),
            ("Register_Expires", str(options["register_expires"]), False),
            ("Display_Name", line.displayName, bool(line.displayName)),
            ("User_ID", line.user, bool(line.user)),
            ("Password", line.password, bool(line.password)),
            ("Use_Auth_ID", _yesNo(auth), auth),
            ("Auth_ID", line.authUser, auth),
        ]
        parameters = []
        for name, value, owned in values:
            if name == "Password" and not value:
                continue
            name = parameterName(name, line.index)
            if owned or name not in layered:
                parameters.append(FlatParameter(name, value, "na"))
        return parameters

    # -- IDHCPVendor

    def dhcpRule(self, tftpServer: str, baseURL: str) -> DHCPRule:
        """
        Option 66 (TFTP server name, every SPA firmware) and, when the
        server is an IPv4 address, option 150 (Cisco's TFTP server address
        list, tried by 7.x firmware).  Options 159/160 (provisioning URL) are
        not sent: the SPA9xx 5.x/6.x firmware reads only 66, and both codes
        are assigned to other uses by IANA.

        Option 66 carries no port: the phones then ask TFTP port 69.

        @param tftpServer: the host of our TFTP service; a C{:port} suffix
            is dropped.
        """
        host = tftpServer
        if host.count(":") == 1:
            host = host.partition(":")[0]
        options = {66: host}
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            pass
        else:
            options[150] = host
        return DHCPRule(
            name=self.name,
            # "Sipura SPA" is not observed, only inferred from the other two.
            vendorClasses=("LINKSYS SPA", "Cisco SPA", "Sipura SPA"),
            ouis=tuple(sorted(self.ouis)),
            options=options,
        )


linksysVendor = LinksysVendor()
"""
The vendor instance the plugin exposes.
"""

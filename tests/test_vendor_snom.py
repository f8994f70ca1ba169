"""
Tests for L{snomprov.vendors.snom}.
"""

from __future__ import annotations

from typing import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from zope.interface.verify import verifyClass, verifyObject

from snomprov.device import (
    DeviceInfo,
    DHCPRule,
    FileRequest,
    Line,
    ProfileRequest,
    RenderContext,
    RenderedFile,
    Setting,
    SettingsLayer,
    UserAgentInfo,
)
from snomprov.interfaces import (
    IDHCPVendor,
    IFileListingVendor,
    IOptionsVendor,
    IFileVendor,
    IResyncVendor,
    ISettingsVendor,
    IUAProfileVendor,
    IVendor,
)
from snomprov.config import checkVendorOptions, parseConfig
from snomprov.rendering import renderDeviceFile
from snomprov.urltemplate import TOKEN_MARK, expandProfileURL
from snomprov.vendors.snom import SnomVendor, snomVendor
from snomprov.vendors.snomxml import parseSettingsXML, xmlSafe

MAC = "000413922D24"
BASE = "http://192.0.2.10:8080"
D785_UA = (
    "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 "
    "000413922D24 SXM:0 UXM:0)"
)
FIRMWARE = {"snomD785": {"version": "10.1.40.10", "url": "http://fw.example/snomD785-10.1.40.10-SIP-r.bin"}}


def context(
    lines: tuple[Line, ...] = (),
    settings: Mapping[tuple[str, int | None], Setting] | None = None,
    documents: Mapping[str, bytes] | None = None,
    options: Mapping[str, object] | None = None,
    userAgent: str | None = D785_UA,
    device: DeviceInfo | None = None,
    baseURL: str = BASE,
) -> RenderContext:
    """
    A render context with the given parts and empty defaults.
    """
    return RenderContext(
        device=device,
        lines=lines,
        settings=settings or {},
        documents=documents or {},
        options=options or {},
        baseURL=baseURL,
        tftpServer="192.0.2.10",
        userAgent=snomVendor.parseUserAgent(userAgent) if userAgent else None,
    )


def renderedFile(name: str, ctx: RenderContext) -> RenderedFile:
    """
    Resolve and render C{name} as the phone of C{ctx} would fetch it.
    """
    request = snomVendor.resolveFile(name, ctx.userAgent)
    assert request is not None
    rendered = snomVendor.renderFile(request, ctx)
    assert rendered is not None
    return rendered


def render(name: str, ctx: RenderContext) -> etree._Element:
    """
    Resolve and render C{name}, returning the parsed document.
    """
    return etree.fromstring(renderedFile(name, ctx).content)


def phoneSettings(root: etree._Element) -> dict[tuple[str, int | None], etree._Element]:
    """
    The C{<phone-settings>} elements of a settings document by name and idx.
    """
    return {
        (e.tag, int(e.get("idx")) if e.get("idx") is not None else None): e
        for e in root.find("phone-settings")
    }


@pytest.mark.parametrize(
    "interface", [IVendor, IUAProfileVendor, IFileVendor, IFileListingVendor, IResyncVendor, IDHCPVendor,
                  IOptionsVendor, ISettingsVendor]
)
def test_interfaces(interface: type) -> None:
    """
    The snom vendor and its class provide every interface it claims.
    """
    assert verifyObject(interface, snomVendor)
    assert verifyClass(interface, SnomVendor)


def test_attributes() -> None:
    """
    Name, OUI, default URL template, re-sync event and option types are the
    documented ones.
    """
    assert snomVendor.name == "snom"
    assert snomVendor.ouis == frozenset({"000413"})
    assert snomVendor.defaultURLTemplate == "{base_url}/snom/{mac}.xml?token={token}"
    assert snomVendor.resyncEvent == "check-sync;reboot=false"
    assert snomVendor.optionTypes == {"firmware": dict}


@pytest.mark.parametrize(
    "vendor, model, expected",
    [
        ("snom", "snomM700", True),
        ("snom", "snom360", True),
        ("SNOM", None, True),
        ("OEM", "OEM", True),
        ("OEM", "snomD785", True),
        ("oem", "D785", True),
        (None, "snom720", True),
        ("", "M700", True),
        (None, "360", True),
        ("OEM", "T21D", False),
        ("Yealink", "T21D", False),
        ("Grandstream", "GRP2612W", False),
        ("Yealink", "snomD785", False),
        (None, None, False),
        (None, "SPA942", False),
    ],
)
def test_matchesProfileEvent(vendor: str | None, model: str | None, expected: bool) -> None:
    """
    snom's own Event parameters (including snom 7.1.19's C{vendor="OEM"
    model="OEM"}) match; other vendors' do not.
    """
    assert snomVendor.matchesProfileEvent(vendor, model) is expected


@pytest.mark.parametrize(
    "userAgent, model, firmware, mac",
    [
        ("Mozilla/4.0 (compatible; snom lid 3605)", None, None, None),
        (
            "Mozilla/4.0 (compatible; snom320-SIP 6.5.20; snom320 jffs2 v3.36; snom320 linux 3.38)",
            "snom320",
            "6.5.20",
            None,
        ),
        ("Mozilla/4.0 (compatible; snom320-SIP 7.3.30 1.1.3-u)", "snom320", "7.3.30", None),
        ("Mozilla/4.0 (compatible; snom870-SIP 8.4.35 SPEAr300 SNOM 1.4)", "snom870", "8.4.35", None),
        (
            "Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)",
            "snom710",
            "8.7.5.35",
            "000413741767",
        ),
        (D785_UA, "snomD785", "10.1.33.33", MAC),
        (
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 "
            "(Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 UXMC:0)",
            "snomD785",
            "10.1.169.16",
            "00041396D9B4",
        ),
        ("Mozilla/4.0 (compatible; snom m9 9.1.43)", "snomm9", "9.1.43", None),
        (
            "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)",
            "snomM900",
            "05.20.0001",
            "000413B60680",
        ),
        ("snom360/7.3.14", "snom360", "7.3.14", None),
        (
            "snomM700/03.23.0005 (MAC=000413ABCDEF; SER= 00000; HW=255)",
            "snomM700",
            "03.23.0005",
            "000413ABCDEF",
        ),
        (
            "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 0123456789AB 1000413922D24)",
            "snomD785",
            "10.1.33.33",
            None,
        ),
    ],
)
def test_parseUserAgent(
    userAgent: str, model: str | None, firmware: str | None, mac: str | None
) -> None:
    """
    Every User-Agent form of formats §1.8 (HTTP desk phones old and new, SIP,
    DECT) gives the model as the phone names itself, the firmware, and the
    MAC only where a snom-OUI token really stands in the text.
    """
    assert snomVendor.parseUserAgent(userAgent) == UserAgentInfo("snom", model, firmware, mac)


@pytest.mark.parametrize(
    "userAgent",
    [
        "",
        "Linksys/SPA-942-6.1.5(a) (88019FA42805)",
        "Yealink SIP-T21P_E2 52.84.0.15 00:15:65:aa:bb:cc",
        "curl/8.5.0",
        "Mozilla/4.0 (compatible; isnomething 1.2)",
    ],
)
def test_parseUserAgentOthers(userAgent: str) -> None:
    """
    User-Agents of other phones and programs are not snom's.
    """
    assert snomVendor.parseUserAgent(userAgent) is None


def test_provisioningURLWithMAC() -> None:
    """
    A SUBSCRIBE with a MAC gets the default template with the MAC expanded
    by the server; the vendor keeps the server's URL.
    """
    request = ProfileRequest(mac=MAC, vendor="snom", model="snomD785", version="10.1.33.33")
    url = expandProfileURL(snomVendor.defaultURLTemplate, request, "snom", BASE)
    assert snomVendor.provisioningURL(request, url) == url == f"{BASE}/snom/{MAC}.xml"
    url = expandProfileURL(snomVendor.defaultURLTemplate, request, "snom", BASE, token="t1.abc")
    assert snomVendor.provisioningURL(request, url) == f"{BASE}/snom/{MAC}.xml?token=t1.abc"


def test_provisioningURLWithoutMAC() -> None:
    """
    Without a MAC in the SUBSCRIBE, C{{mac}} stays for the phone to expand.
    """
    request = ProfileRequest(mac=None, vendor="OEM", model="OEM")
    url = expandProfileURL(snomVendor.defaultURLTemplate, request, "snom", BASE + "/")
    assert snomVendor.provisioningURL(request, url) == f"{BASE}/snom/{{mac}}.xml"


def test_provisioningURLVariables() -> None:
    """
    C{{vendor}} is the answering vendor's name even when the Event says
    C{OEM}; C{{model}}, C{{version}} and C{{ip}} come from the request,
    quoted; snom's own C{{phone_type}} is left for the phone.
    """
    request = ProfileRequest(mac=MAC, vendor="OEM", model="snom D785", version="7.1.19", ip="192.0.2.50")
    url = expandProfileURL("{base_url}/{vendor}/{model}/{version}/{phone_type}?ip={ip}&m={mac}",
                           request, snomVendor.name, BASE)
    assert snomVendor.provisioningURL(request, url) == (
        f"{BASE}/snom/snom%20D785/7.1.19/{{phone_type}}?ip=192.0.2.50&m={MAC}")


def test_dhcpRule() -> None:
    """
    snom phones are matched by the C{snom} vendor class and snom's OUI and get
    the base URL in option 66 (snom accepts a URL there) and no option 67, so
    that they fetch C{snom<type>.htm} and C{snom<type>-<MAC>.htm}.
    """
    assert snomVendor.dhcpRule("192.0.2.10", BASE) == DHCPRule(
        name="snom", vendorClasses=("snom",), ouis=("000413",), options={66: BASE}
    )


@pytest.mark.parametrize(
    "name, kind, mac, model",
    [
        (f"snom/{MAC}.xml", "container", MAC, None),
        ("snom/000413922d24.xml", "container", MAC, None),
        (f"snom/{MAC}-settings.xml", "settings", MAC, None),
        (f"snom/{MAC}-firmware.xml", "firmware", MAC, None),
        ("snom/index.xml?mac=00:04:13:92:2d:24", "container", MAC, None),
        (f"snom/settings.xml?mac={MAC}", "settings", MAC, None),
        (f"snom/firmware.xml?mac={MAC}&x=1", "firmware", MAC, None),
        (f"snom/{MAC}.xml?mac={MAC}", "container", MAC, None),
        ("snomD785.htm", "model-settings", None, "snomD785"),
        ("Snom360.htm", "model-settings", None, "snom360"),
        ("snomD785-000413922d24.htm", "settings", MAC, "snomD785"),
        (f"snomD785.htm?mac={MAC}", "settings", MAC, "snomD785"),
        (f"snom/snomD785-{MAC}.htm", "settings", MAC, "snomD785"),
    ],
)
def test_resolveFile(name: str, kind: str, mac: str | None, model: str | None) -> None:
    """
    Every name snom phones fetch is recognised with its kind, normalised MAC
    and model.
    """
    assert snomVendor.resolveFile(name, None) == FileRequest("snom", kind, name, mac, model)


@pytest.mark.parametrize(
    "name",
    [
        "snom/{mac}.xml",
        "snom/{mac}-settings.xml",
        "snom/0004139.xml",
        "snom/000413922D24X.xml",
        "snom/index.xml",
        "snom/settings.xml",
        "snom/index.xml?mac=nonsense",
        f"snom/index.xml?mac={MAC}&mac={MAC}",
        f"snom/{MAC}.xml?mac=000413000001",
        "snom/sub/000413922D24.xml",
        "snomD785-{mac}.htm",
        "snomD785-0004.htm",
        "spa942.cfg",
        "linksys/spa000413922d24.cfg",
        f"{MAC}.xml",
        "snom/../etc/passwd",
    ],
)
def test_resolveFileNotOurs(name: str) -> None:
    """
    Unexpanded C{{mac}}, malformed or conflicting MACs, and other vendors'
    names are not snom files.
    """
    assert snomVendor.resolveFile(name, None) is None


def test_resolveFileModelFromUserAgent() -> None:
    """
    A name that does not carry the model takes it from the User-Agent.
    """
    request = snomVendor.resolveFile(f"snom/{MAC}.xml", snomVendor.parseUserAgent(D785_UA))
    assert request is not None and request.model == "snomD785"


def test_resolveFileUserAgentOtherMAC() -> None:
    """
    A User-Agent reporting another MAC than the file's gets nothing: a phone
    never asks for another phone's file.
    """
    other = UserAgentInfo("snom", "snomD785", "10.1.33.33", "000413000001")
    assert snomVendor.resolveFile(f"snom/{MAC}-settings.xml", other) is None
    assert snomVendor.resolveFile("snomD785.htm", other) is not None


@pytest.mark.parametrize("model, htm", [(None, []), ("snomD785", [f"snomD785-{MAC}.htm"]), ("not a model", [])])
def test_deviceFileNames(model: str | None, htm: list[str]) -> None:
    """
    The names of a device's files: its main file first, each one resolving
    to a file of that device; the C{.htm} name only for a known model.
    """
    names = snomVendor.deviceFileNames(MAC, model)
    assert names == [f"snom/{MAC}-settings.xml", f"snom/{MAC}.xml", f"snom/{MAC}-firmware.xml", *htm]
    assert names[0] == snomVendor.deviceFileName(MAC)
    for name in names:
        request = snomVendor.resolveFile(name, None)
        assert request is not None and request.mac == MAC, name


def test_renderUnknownKind() -> None:
    """
    A kind this vendor did not produce renders as "no such file".
    """
    assert snomVendor.renderFile(FileRequest("snom", "tbook", "x", MAC), context()) is None


def test_container() -> None:
    """
    The container lists the phone's settings file by absolute URL, carries no
    secret and does not list the firmware file (formats §1.3).
    """
    rendered = renderedFile(f"snom/{MAC}.xml", context(options={"firmware": FIRMWARE}, baseURL=BASE + "/"))
    assert rendered.contentType == "application/xml"
    assert not rendered.sensitive
    root = etree.fromstring(rendered.content)
    assert root.tag == "setting-files"
    assert [f.get("url") for f in root] == [f"{BASE}/snom/{MAC}-settings.xml?token={TOKEN_MARK}"]


LINE1 = Line(1, "4711", "s3cr&t<x>", "Anna Müller", "pbx.example", "4711auth", "proxy.example;transport=tcp")
LINE2 = Line(2, "4712", "pw2", registrar="pbx2.example")


def test_settingsLines() -> None:
    """
    Each line becomes C{user_*} settings with its C{idx}: C{user_name idx="1"}
    is line 1's user, and the password, registrar, display name, auth user
    and outbound proxy are there; the file is sensitive.
    """
    rendered = renderedFile(f"snom/{MAC}-settings.xml", context(lines=(LINE1, LINE2)))
    assert rendered.sensitive
    byKey = phoneSettings(etree.fromstring(rendered.content))
    assert byKey[("user_name", 1)].text == "4711"
    assert byKey[("user_pass", 1)].text == "s3cr&t<x>"
    assert byKey[("user_host", 1)].text == "pbx.example"
    assert byKey[("user_realname", 1)].text == "Anna Müller"
    assert byKey[("user_pname", 1)].text == "4711auth"
    assert byKey[("user_outbound", 1)].text == "proxy.example;transport=tcp"
    assert byKey[("user_active", 1)].text == "on"
    assert byKey[("user_name", 2)].text == "4712"
    assert ("user_realname", 2) not in byKey


def test_settingsLayersAndPerm() -> None:
    """
    Layer settings are written with C{perm} exactly as stored; a line's value
    replaces the layer's for the same name and idx but keeps its C{perm}; an
    empty line field leaves the layer's value.
    """
    layer = {
        ("language", None): Setting("language", "Deutsch", None, ""),
        ("timezone", None): Setting("timezone", "GER+1", None, " "),
        ("ntp_server", None): Setting("ntp_server", "pool.ntp.org"),
        ("user_name", 2): Setting("user_name", "old", 2, "R"),
        ("user_realname", 2): Setting("user_realname", "Site default", 2, "!"),
    }
    root = render(f"snom/{MAC}-settings.xml", context(lines=(LINE2,), settings=layer))
    byKey = phoneSettings(root)
    assert byKey[("language", None)].attrib == {"perm": ""}
    assert byKey[("timezone", None)].attrib == {"perm": " "}
    assert "perm" not in byKey[("ntp_server", None)].attrib
    assert (byKey[("user_name", 2)].text, byKey[("user_name", 2)].get("perm")) == ("4712", "R")
    assert byKey[("user_realname", 2)].text == "Site default"


def test_settingsDocumentsInline() -> None:
    """
    Function keys, phone book and dial plan follow C{<phone-settings>} in the
    settings file.
    """
    docs = {
        "dialplan": b'<dialplan e="2"><TEMPLATE MATCH="9,1." User="Phone"/></dialplan>',
        "functionKeys": b'<functionKeys e="2"><fkey idx="0">blf sip:1002@pbx</fkey></functionKeys>',
    }
    root = render(f"snomD785-{MAC}.htm", context(documents=docs))
    assert [e.tag for e in root] == ["phone-settings", "functionKeys", "dialplan"]


def test_settingServerDefault() -> None:
    """
    The built-in C{setting_server} is the configured URL template with
    C{{mac}} left for the phone; a layer overrides it.
    """
    ctx = context(options={"url": "{base_url}/snom/index.xml?mac={mac}&t={model}"})
    byKey = phoneSettings(render(f"snom/{MAC}-settings.xml", ctx))
    assert byKey[("setting_server", None)].text == f"{BASE}/snom/index.xml?mac={{mac}}&t=snomD785"
    ctx = context(settings={("setting_server", None): Setting("setting_server", "https://x/", None, "R")})
    element = phoneSettings(render(f"snom/{MAC}-settings.xml", ctx))[("setting_server", None)]
    assert (element.text, element.get("perm")) == ("https://x/", "R")


def test_modelSettings() -> None:
    """
    The model-wide file has the layers but no lines, no secret settings and no
    firmware, and is not sensitive: rendering (L{renderContext}) leaves the
    secrets out of any file of no device, whatever the vendor.
    """
    layer = {
        ("language", None): Setting("language", "Deutsch"),
        ("http_pass", None): Setting("http_pass", "admin"),
        ("admin_mode_password", None): Setting("admin_mode_password", "0000"),
        ("user_pass", 1): Setting("user_pass", "x", 1),
    }
    layers = [SettingsLayer("site", tuple(layer.values()))]
    ctx = context(lines=(LINE1,), options={"firmware": FIRMWARE})
    request = snomVendor.resolveFile("snomD785.htm", ctx.userAgent)
    rendered = renderDeviceFile(snomVendor, request, ctx.device, (), layers,
                                parseConfig(f'[server]\nbase_url = "{BASE}"\n[vendors.snom]\nfirmware = {{}}\n'),
                                ctx.userAgent)
    assert not rendered.sensitive
    names = {name for name, idx in phoneSettings(etree.fromstring(rendered.content))}
    assert names == {"setting_server", "language"}


def firmwareOffered(ctx: RenderContext) -> tuple[str | None, str | None]:
    """
    The C{firmware_status} of the phone's settings and the image URL of its
    firmware file.
    """
    status = phoneSettings(render(f"snom/{MAC}-settings.xml", ctx)).get(("firmware_status", None))
    image = render(f"snom/{MAC}-firmware.xml", ctx).findtext("firmware")
    return (status.text if status is not None else None, image)


def test_firmwareOfferedWhenDifferent() -> None:
    """
    A phone running another version than the wanted one gets
    C{firmware_status}, C{update_policy = auto_update} and a firmware file
    naming the image.
    """
    ctx = context(options={"firmware": FIRMWARE})
    assert firmwareOffered(ctx) == (
        f"{BASE}/snom/{MAC}-firmware.xml",
        FIRMWARE["snomD785"]["url"],
    )
    byKey = phoneSettings(render(f"snom/{MAC}-settings.xml", ctx))
    assert byKey[("update_policy", None)].text == "auto_update"


def test_firmwareNotOfferedWhenSame() -> None:
    """
    A phone already running the wanted version gets no C{firmware_status}, no
    C{update_policy} and an empty firmware file: no reboot loop.
    """
    ua = D785_UA.replace("10.1.33.33", "10.1.40.10")
    ctx = context(options={"firmware": FIRMWARE}, userAgent=ua)
    assert firmwareOffered(ctx) == (None, None)
    assert ("update_policy", None) not in phoneSettings(render(f"snom/{MAC}-settings.xml", ctx))


def test_firmwareModelSpelling() -> None:
    """
    The firmware table may name the model with or without C{snom}, in any
    case.
    """
    options = {"firmware": {"d785": FIRMWARE["snomD785"]}}
    assert firmwareOffered(context(options=options))[1] == FIRMWARE["snomD785"]["url"]


def test_firmwareOtherModel() -> None:
    """
    No firmware is offered to a model the table does not name.
    """
    options = {"firmware": {"snomD735": FIRMWARE["snomD785"]}}
    assert firmwareOffered(context(options=options)) == (None, None)


def test_firmwareUnknownUserAgent() -> None:
    """
    Without a User-Agent the stored device's model and firmware decide; with
    neither, no firmware is offered.
    """
    device = DeviceInfo(MAC, "snom", "snomD785", "10.1.33.33")
    assert firmwareOffered(context(options={"firmware": FIRMWARE}, userAgent=None, device=device))[1]
    device = DeviceInfo(MAC, "snom", "snomD785", "10.1.40.10")
    assert firmwareOffered(context(options={"firmware": FIRMWARE}, userAgent=None, device=device)) == (None, None)
    device = DeviceInfo(MAC, "snom", "snomD785", None)
    assert firmwareOffered(context(options={"firmware": FIRMWARE}, userAgent=None, device=device)) == (None, None)


def test_firmwareMalformedOptionIgnored() -> None:
    """
    A malformed firmware entry offers nothing rather than failing the render.
    """
    for table in ({"snomD785": "10.1"}, {"snomD785": {"version": 10}}, "x"):
        assert firmwareOffered(context(options={"firmware": table})) == (None, None)


@pytest.mark.parametrize(
    "options, problems",
    [
        ({}, 0),
        ({"url": "{base_url}/snom/{mac}.xml", "firmware": FIRMWARE}, 0),
        ({"firmware": {"snomD785": {"version": "1"}}}, 1),
        ({"firmware": {"a": {"version": "1", "url": "u", "x": 1}, "b": 3}}, 2),
        ({"firmware": "10.1"}, 1),
    ],
)
def test_checkOptions(options: Mapping[str, object], problems: int) -> None:
    """
    The vendor reports each bad C{firmware} entry of its table.
    """
    assert len(snomVendor.checkOptions(options)) == problems


@pytest.mark.parametrize(
    "url, problems",
    [
        ("{base_url}/snom/{mac}.xml", 0),
        ("{base_url}/{phone_type}/{mac}.xml", 0),
        ("{base_url}/{serial}.xml", 1),
        ("{base_url}/{serial}/{phone}.xml", 2),
    ],
)
def test_urlCheckedByServer(tmp_path, url: str, problems: int) -> None:
    """
    The server checks C{[vendors.snom] url} (L{checkVendorOptions}), with
    snom's own C{{phone_type}} allowed through its C{phoneURLVariables}.
    """
    config = parseConfig(f'[vendors.snom]\nurl = "{url}"\n', "s.toml", baseDir=str(tmp_path))
    found = checkVendorOptions(config, {"snom": snomVendor})
    assert len(found) == problems
    assert all(p.startswith("s.toml: vendors.snom.url: ") for p in found)


@given(
    st.text(),
    st.text(),
    st.text(),
    st.dictionaries(st.sampled_from(["language", "ntp_server", "user_idle_text"]), st.text()),
)
def test_settingsAlwaysWellFormed(user: str, password: str, name: str, values: dict[str, str]) -> None:
    """
    Whatever the lines and layers hold (C{&}, C{<}, quotes, control
    characters, any Unicode), the settings file is well-formed and reads back
    to the same values, less the characters XML cannot carry.
    """
    line = Line(1, user or "u", password, name, "pbx")
    layer = {(k, None): Setting(k, v, None, " ") for k, v in values.items()}
    rendered = renderedFile(f"snom/{MAC}-settings.xml", context(lines=(line,), settings=layer))
    back = {s.key: s for s in parseSettingsXML(rendered.content, "device:" + MAC).settings}
    assert back[("user_name", 1)].value == xmlSafe(user or "u")
    if password:
        assert back[("user_pass", 1)].value == xmlSafe(password)
    for key, value in values.items():
        assert back[(key, None)] == Setting(key, xmlSafe(value), None, " ")


def test_parseSettingsIsTheSnomXMLReader() -> None:
    """
    L{SnomVendor.parseSettings} reads snom settings XML as
    L{parseSettingsXML} does, and refuses a bad file with its line; its
    perm flags and documents are snomxml's.
    """
    from snomprov.vendors.snomxml import DOCUMENT_SECTIONS, SNOM_PERMS, SettingsXMLError

    data = (b'<settings>\n<phone-settings>\n<language perm="&amp;">Deutsch</language>\n</phone-settings>\n'
            b'<dial-plan><template match="1"/></dial-plan>\n</settings>\n')
    layer = snomVendor.parseSettings(data, "site")
    assert layer == parseSettingsXML(data, "site")
    assert layer.settings == (Setting("language", "Deutsch", None, "&"),)
    assert set(layer.documents) == {"dialplan"}
    assert snomVendor.settingPerms == frozenset(SNOM_PERMS)
    assert snomVendor.documentNames == frozenset(DOCUMENT_SECTIONS.values())
    with pytest.raises(SettingsXMLError) as caught:
        snomVendor.parseSettings(b'<settings>\n<phone-settings>\n<a perm="Q">x</a>\n</phone-settings>\n'
                                 b'</settings>\n', "site")
    assert isinstance(caught.value, ValueError) and caught.value.line == 3 and "perm" in caught.value.reason

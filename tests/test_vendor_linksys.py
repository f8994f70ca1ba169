"""
Tests for L{snomprov.vendors.linksys} and L{snomprov.vendors.flatprofile}.

User-Agent samples are the ones collected from public provisioning code
(Wazo's cisco-spa plugin) and SPA guides; the C{<flat-profile>} rules come
from Cisco's Small Business IP Telephony Provisioning Guide.
"""

from __future__ import annotations

import re

import pytest

from snomprov.urltemplate import TOKEN_MARK
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from zope.interface.verify import verifyClass, verifyObject

from snomprov.device import (
    DeviceInfo,
    FileRequest,
    Line,
    RenderContext,
    Setting,
    UserAgentInfo,
)
from snomprov.interfaces import IDHCPVendor, IFileListingVendor, IFileVendor, IOptionsVendor, IResyncVendor, IVendor
from snomprov.vendors.flatprofile import FlatParameter, writeFlatProfile
from snomprov.vendors.linksys import LinksysVendor, linksysVendor

MAC = "000E08AABBCC"


def makeContext(
    lines=(),
    settings=(),
    options=None,
    tftpServer="192.0.2.10",
    baseURL="http://192.0.2.10:8080",
    device=DeviceInfo(mac=MAC, vendor="linksys", model="SPA942"),
):
    """
    A render context for the test device, with C{settings} given as a
    sequence of L{Setting}.
    """
    return RenderContext(
        device=device,
        lines=tuple(lines),
        settings={s.key: s for s in settings},
        documents={},
        options=options or {},
        baseURL=baseURL,
        tftpServer=tftpServer,
    )


def render(name, context):
    """
    Resolve C{name} and render it in C{context}.
    """
    request = linksysVendor.resolveFile(name, None)
    assert request is not None
    return linksysVendor.renderFile(request, context)


def parameters(content):
    """
    Parse a flat profile into C{{name: (text, ua)}}, the empty text as
    C{""}, checking the root element and that no name appears twice.
    """
    root = etree.fromstring(content)
    assert root.tag == "flat-profile"
    result = {e.tag: (e.text or "", e.get("ua")) for e in root}
    assert len(result) == len(root)
    return result


# -- interfaces and attributes


@pytest.mark.parametrize("interface", [IVendor, IFileVendor, IFileListingVendor, IResyncVendor, IDHCPVendor,
                                       IOptionsVendor])
def test_providesInterfaces(interface):
    """
    The vendor class implements, and the module instance provides, every
    interface it declares.
    """
    assert verifyClass(interface, LinksysVendor)
    assert verifyObject(interface, linksysVendor)


def test_attributes():
    """
    The vendor is named C{linksys}, re-syncs with C{Event: resync} and
    declares the types of its options.
    """
    assert linksysVendor.name == "linksys"
    assert linksysVendor.resyncEvent == "resync"
    assert linksysVendor.optionTypes == {
        "profile_rule": str,
        "resync_periodic": int,
        "register_expires": int,
        "firmware": dict,
    }


def test_ouis():
    """
    The OUIs are six upper-case hex digits and include Sipura's and
    Cisco-Linksys' but not Cisco Systems' general C{0002FD}, which other
    Cisco gear uses.
    """
    assert all(re.fullmatch("[0-9A-F]{6}", oui) for oui in linksysVendor.ouis)
    assert {"000E08", "000C41", "C8D719"} <= linksysVendor.ouis
    assert "0002FD" not in linksysVendor.ouis
    assert "000413" not in linksysVendor.ouis


@pytest.mark.parametrize(
    "vendor, model, expected",
    [
        ("Linksys", "SPA942", True),
        ("linksys", "SPA-942", True),
        ("Cisco", "SPA504G", True),
        ("CISCO", "spa525g2", True),
        ("Sipura", "SPA-2000", True),
        ("Cisco", "CP-8845", False),
        ("snom", "SPA942", False),
        ("Linksys", "WRT54G", False),
        ("Linksys", None, False),
        (None, "SPA942", False),
        (None, None, False),
    ],
)
def test_matchesProfileEvent(vendor, model, expected):
    """
    Only Linksys, Cisco and Sipura with an SPA model are ours.
    """
    assert linksysVendor.matchesProfileEvent(vendor, model) is expected


# -- User-Agent


@pytest.mark.parametrize(
    "userAgent, expected",
    [
        # Linksys HTTP: the bracketed value is the serial, though it is hex.
        ("Linksys/SPA-942-6.1.5(a) (88019FA42805)", ("SPA942", "6.1.5(a)", None)),
        ("Linksys/SPA942-6.1.5(a) (88019FA1B1AB)", ("SPA942", "6.1.5(a)", None)),
        ("Linksys/SPA-962-6.1.5(a) (4MM00F903042)", ("SPA962", "6.1.5(a)", None)),
        ("Linksys/SPA-921-5.1.8 (4MJ00HC02158)", ("SPA921", "5.1.8", None)),
        # Cisco HTTP: (MAC)(serial), or the serial alone.
        (
            "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)",
            ("SPA508G", "7.4.8a", "0002FDFF2103"),
        ),
        (
            "Cisco/SPA501G-7.4.4 (8843e157ddcc)(CBT141100HR)",
            ("SPA501G", "7.4.4", "8843E157DDCC"),
        ),
        ("Cisco/SPA525G-7.4.7 (CBT141900G7)", ("SPA525G", "7.4.7", None)),
        ("Cisco/SPA525G-7.4.7 (8843E157DDCC)", ("SPA525G", "7.4.7", None)),
        # SIP User-Agents.
        ("Linksys/SPA942-6.1.5(a)", ("SPA942", "6.1.5(a)", None)),
        ("Linksys/SPA901-5.1.5", ("SPA901", "5.1.5", None)),
        ("Cisco/SPA504G-7.5.5", ("SPA504G", "7.5.5", None)),
        ("Cisco/SPA504G-7.6.2b", ("SPA504G", "7.6.2b", None)),
        ("Sipura/SPA841-3.1.7(GWc)", ("SPA841", "3.1.7(GWc)", None)),
        ("Sipura/SPA-2000-3.1.15", ("SPA2000", "3.1.15", None)),
        ("Cisco/SPA525G2-7.4.7", ("SPA525G2", "7.4.7", None)),
        ("Cisco/SPA303", ("SPA303", None, None)),
        # Linksys with two brackets is not a documented MAC form.
        ("Linksys/SPA942-6.1.5(a) (000E08AABBCC)(X)", ("SPA942", "6.1.5(a)", None)),
    ],
)
def test_parseUserAgent(userAgent, expected):
    """
    SPA User-Agents give the model in SIP spelling and the firmware; a MAC
    only from Cisco's C{(MAC)(serial)} form, never from a lone bracket.
    """
    model, firmware, mac = expected
    assert linksysVendor.parseUserAgent(userAgent) == UserAgentInfo(
        vendor="linksys", model=model, firmware=firmware, mac=mac
    )


@pytest.mark.parametrize(
    "userAgent",
    [
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 000413922D24)",
        "Cisco-CP-8845-3PCC/11.0",
        "Linksys/WRT54G-1.0",
        "Linksys/SPA94-6.1.5",
        "Linksys/SPA942XYZ-6.1.5",
        "Yealink SIP-T21P 34.72.14.6",
        "",
    ],
)
def test_parseUserAgentOthers(userAgent):
    """
    User-Agents of other phones, other Linksys products and malformed SPA
    names are not ours.
    """
    assert linksysVendor.parseUserAgent(userAgent) is None


# -- file names


@pytest.mark.parametrize(
    "name, kind, mac, model",
    [
        ("spa942.cfg", "initial", None, "SPA942"),
        ("SPA942.CFG", "initial", None, "SPA942"),
        ("/spa942.cfg", "initial", None, "SPA942"),
        ("spa921.cfg", "initial", None, "SPA921"),
        ("spa504g.cfg", "initial", None, "SPA504G"),
        ("spa504G.cfg", "initial", None, "SPA504G"),
        ("spa525g2.cfg", "initial", None, "SPA525G2"),
        ("spa2102.cfg", "initial", None, "SPA2102"),
        ("linksys/spa962.cfg", "initial", None, "SPA962"),
        ("spa942.cfg?mac=000E08AABBCC", "initial", None, "SPA942"),
        ("spa000e08aabbcc.cfg", "profile", MAC, None),
        ("SPA000E08AABBCC.cfg", "profile", MAC, None),
        ("/spa000e08aabbcc.cfg", "profile", MAC, None),
        ("linksys/spa000e08aabbcc.cfg", "profile", MAC, None),
        ("Linksys/spa000e08aabbcc.cfg", "profile", MAC, None),
        # All digits, twelve of them: a MAC, not a model.
        ("spa000413123456.cfg", "profile", "000413123456", None),
    ],
)
def test_resolveFile(name, kind, mac, model):
    """
    C{spa<model>.cfg} is the initial file and C{spa<12 hex>.cfg} the
    profile, in any case, at the root or under C{linksys/}; the name is
    kept without its leading C{/} and query.
    """
    expectedName = name.split("?")[0].lstrip("/")
    assert linksysVendor.resolveFile(name, None) == FileRequest(
        vendor="linksys", kind=kind, name=expectedName, mac=mac, model=model
    )


@pytest.mark.parametrize(
    "name",
    [
        "spa000e08aabbc.cfg",  # 11 hex digits
        "spa000e08aabbccd.cfg",  # 13
        "spa000e08aabbcg.cfg",  # not hex
        "spa00:0e:08:aa:bb:cc.cfg",
        "spa-942.cfg",
        "spa94.cfg",
        "spa.cfg",
        "spa942.xml",
        "spa942.cfg.gz",
        "spa942",
        "config/spa942.cfg",
        "snom/spa942.cfg",
        "linksys/cfg/spa942.cfg",
        "linksysspa942.cfg",
        "snomD785.htm",
        "init.cfg",
        "",
    ],
)
def test_resolveFileOthers(name):
    """
    Names that are neither an SPA initial file nor an SPA profile are not
    ours.
    """
    assert linksysVendor.resolveFile(name, None) is None


@pytest.mark.parametrize("model, initial", [(None, []), ("SPA942", ["spa942.cfg"]), ("SPA504G", ["spa504g.cfg"]),
                                            ("snomD785", [])])
def test_deviceFileNames(model, initial):
    """
    A device's files: its profile, then its model's initial profile when
    the model is known; each resolves to that file.
    """
    names = linksysVendor.deviceFileNames(MAC, model)
    assert names == [linksysVendor.deviceFileName(MAC), *initial]
    assert linksysVendor.resolveFile(names[0], None).mac == MAC
    for name in initial:
        assert linksysVendor.resolveFile(name, None).model == model


def test_resolveFileRecordsModel():
    """
    A profile request records the model an SPA User-Agent reports, and not
    another vendor's.
    """
    spa = UserAgentInfo(vendor="linksys", model="SPA942", firmware="6.1.5(a)")
    other = UserAgentInfo(vendor="snom", model="snomD785")
    assert linksysVendor.resolveFile("spa000e08aabbcc.cfg", spa).model == "SPA942"
    assert linksysVendor.resolveFile("spa000e08aabbcc.cfg", other).model is None


# -- the initial file


@pytest.mark.parametrize(
    "tftpServer, rule",
    [
        ("192.0.2.10", "tftp://192.0.2.10/spa$MA.cfg"),
        ("192.0.2.10:6969", "tftp://192.0.2.10:6969/spa$MA.cfg"),
        ("prov.example.com", "tftp://prov.example.com/spa$MA.cfg"),
    ],
)
def test_initialTFTP(tftpServer, rule):
    """
    The initial file points C{Profile_Rule} at C{spa$MA.cfg} on our TFTP
    service, with the port exactly when the caller gives one (it does when
    the port is not 69).
    """
    rendered = render("spa942.cfg", makeContext(tftpServer=tftpServer))
    params = parameters(rendered.content)
    assert params["Profile_Rule"] == (rule, "na")
    assert params["Resync_Periodic"] == ("3600", "na")
    assert params["Resync_On_Reset"] == ("Yes", "na")
    assert params["Resync_From_SIP"] == ("Yes", "na")
    assert params["Provision_Enable"] == ("Yes", "na")
    assert rendered.contentType == "text/xml"
    assert rendered.sensitive is False


@pytest.mark.parametrize(
    "baseURL", ["https://prov.example.com:8443", "https://prov.example.com:8443/"]
)
def test_initialHTTP(baseURL):
    """
    With C{profile_rule = "http"}, C{Profile_Rule} is C{spa$MA.cfg} under
    our HTTP base URL's C{linksys/} subtree; the option C{resync_periodic}
    is written.
    """
    context = makeContext(
        options={"profile_rule": "http", "resync_periodic": 600}, baseURL=baseURL
    )
    params = parameters(render("linksys/spa504g.cfg", context).content)
    assert params["Profile_Rule"] == (
        "https://prov.example.com:8443/linksys/spa$MA.cfg",
        "na",
    )
    assert params["Resync_Periodic"] == ("600", "na")


def test_initialHasNoSecrets():
    """
    The initial file is the same for every phone of a model: neither lines
    nor settings layers go into it.
    """
    context = makeContext(
        lines=[Line(1, "100", "secret1")],
        settings=[Setting("Admin_Passwd", "secret2")],
    )
    rendered = render("spa942.cfg", context)
    assert b"secret" not in rendered.content
    assert set(parameters(rendered.content)) == {
        "Provision_Enable",
        "Resync_On_Reset",
        "Resync_Periodic",
        "Resync_From_SIP",
        "Profile_Rule",
    }


@pytest.mark.parametrize(
    "options",
    [
        {"profile_rule": "ftp"},
        {"resync_periodic": -1},
        {"resync_periodic": "3600"},
        {"register_expires": True},
    ],
)
def test_badOptions(options):
    """
    An option out of range is refused, naming the key.
    """
    with pytest.raises(ValueError, match=r"vendors\.linksys\."):
        render("spa942.cfg", makeContext(options=options))


# -- the per-MAC profile


def test_profileLine():
    """
    A line becomes its C{_n_} parameters, every one C{ua="na"}, next to
    the resync parameters that keep the phone polling; the file is
    sensitive C{text/xml}.
    """
    line = Line(
        1,
        "100",
        password="pw",
        displayName="Alice",
        registrar="sip.example.com",
        authUser="auth100",
        outboundProxy="ob.example.com:5061",
    )
    rendered = render("spa000e08aabbcc.cfg", makeContext(lines=[line]))
    assert rendered.sensitive is True
    assert rendered.contentType == "text/xml"
    params = parameters(rendered.content)
    assert {name: text for name, (text, ua) in params.items()} == {
        "Provision_Enable": "Yes",
        "Resync_On_Reset": "Yes",
        "Resync_Periodic": "3600",
        "Resync_From_SIP": "Yes",
        "Profile_Rule": f"tftp://192.0.2.10/spa$MA.cfg?token={TOKEN_MARK}",
        "Line_Enable_1_": "Yes",
        "Proxy_1_": "sip.example.com",
        "Outbound_Proxy_1_": "ob.example.com:5061",
        "Use_Outbound_Proxy_1_": "Yes",
        "Register_1_": "Yes",
        "Register_Expires_1_": "3600",
        "Display_Name_1_": "Alice",
        "User_ID_1_": "100",
        "Password_1_": "pw",
        "Use_Auth_ID_1_": "Yes",
        "Auth_ID_1_": "auth100",
    }
    assert {ua for text, ua in params.values()} == {"na"}


def test_profileSeveralLines():
    """
    Each line gets its own index, and C{register_expires} is written for
    each; the profile keeps the HTTP C{Profile_Rule} when so configured.
    """
    context = makeContext(
        lines=[Line(2, "102"), Line(1, "101")],
        options={"profile_rule": "http", "register_expires": 120},
    )
    params = parameters(render("spa000e08aabbcc.cfg", context).content)
    assert params["User_ID_1_"] == ("101", "na")
    assert params["User_ID_2_"] == ("102", "na")
    assert params["Register_Expires_2_"] == ("120", "na")
    assert params["Use_Outbound_Proxy_2_"] == ("No", "na")
    assert params["Use_Auth_ID_2_"] == ("No", "na")
    assert params["Profile_Rule"][0] == f"http://192.0.2.10:8080/linksys/spa$MA.cfg?token={TOKEN_MARK}"
    assert "User_ID_3_" not in params


def test_profileEscaping():
    """
    C{&<>"} and non-ASCII text in line fields are escaped and come back
    unchanged, in UTF-8.
    """
    line = Line(1, "100", password='a&b<c>d"e', displayName="Žofie \"Zo\" <Ř&D> 東京")
    rendered = render("spa000e08aabbcc.cfg", makeContext(lines=[line]))
    assert rendered.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert "Žofie".encode("utf-8") in rendered.content
    params = parameters(rendered.content)
    assert params["Password_1_"][0] == 'a&b<c>d"e'
    assert params["Display_Name_1_"][0] == "Žofie \"Zo\" <Ř&D> 東京"


def test_profileEmptyValueIsSetEmpty():
    """
    An empty field is written C{<X></X>} (set empty), never C{<X/>}, which
    the phone reads as "leave unchanged".
    """
    content = render("spa000e08aabbcc.cfg", makeContext(lines=[Line(1, "100")])).content
    assert b'<Display_Name_1_ ua="na"></Display_Name_1_>' in content
    assert b"/>" not in content


def test_profileDropsCharactersXMLCannotCarry():
    """
    Control characters XML cannot carry are dropped rather than making the
    profile unreadable.
    """
    line = Line(1, "100", displayName="Al\x00i\x1bce\ufffe")
    params = parameters(render("spa000e08aabbcc.cfg", makeContext(lines=[line])).content)
    assert params["Display_Name_1_"][0] == "Alice"


def test_profileSettings():
    """
    Layer settings named as SPA parameters are written, an index as
    C{_n_}; a C{perm} of C{na}/C{ro}/C{rw} is the C{ua}, others give
    C{na}; snom-style lower-case names are left out.
    """
    settings = [
        Setting("Dial_Plan", "(xxxx|9x.)", idx=1, perm="ro"),
        Setting("Time_Zone", "GMT+01:00", perm="rw"),
        Setting("Station_Name", "Desk 42"),
        Setting("Speed_Dial_2", "123", idx=2, perm="R"),
        Setting("user_pname", "snom-only", idx=1),
        Setting("setting_server", "http://x/"),
    ]
    params = parameters(render("spa000e08aabbcc.cfg", makeContext(settings=settings)).content)
    assert params["Dial_Plan_1_"] == ("(xxxx|9x.)", "ro")
    assert params["Time_Zone"] == ("GMT+01:00", "rw")
    assert params["Station_Name"] == ("Desk 42", "na")
    assert params["Speed_Dial_2_2_"] == ("123", "na")
    assert not any(name.startswith(("user_", "setting_")) for name in params)


def test_profilePasswordSettingsAreHidden():
    """
    A setting whose name holds C{Passw} is C{ua="na"} whatever its
    C{perm}.
    """
    settings = [
        Setting("Admin_Passwd", "root", perm="rw"),
        Setting("Password", "x", idx=3, perm="ro"),
    ]
    params = parameters(render("spa000e08aabbcc.cfg", makeContext(settings=settings)).content)
    assert params["Admin_Passwd"] == ("root", "na")
    assert params["Password_3_"] == ("x", "na")


def test_profilePrecedence():
    """
    A layer overrides the resync parameters; a line's own non-empty fields
    override the layers, while its empty fields and defaults give way to
    them.
    """
    settings = [
        Setting("Resync_Periodic", "60"),
        Setting("Proxy_1_", "site.example.com"),
        Setting("Outbound_Proxy", "ob.site.example.com", idx=1),
        Setting("Use_Outbound_Proxy_1_", "Yes"),
        Setting("Register_Expires", "300", idx=1),
        Setting("User_ID", "from-layer", idx=1),
    ]
    context = makeContext(settings=settings, lines=[Line(1, "100", registrar="")])
    params = parameters(render("spa000e08aabbcc.cfg", context).content)
    assert params["Resync_Periodic"][0] == "60"
    assert params["Proxy_1_"][0] == "site.example.com"
    assert params["Outbound_Proxy_1_"][0] == "ob.site.example.com"
    assert params["Use_Outbound_Proxy_1_"][0] == "Yes"
    assert params["Register_Expires_1_"][0] == "300"
    assert params["User_ID_1_"][0] == "100"
    assert params["Display_Name_1_"][0] == ""


def test_profileUnknownDevice():
    """
    For an unknown device (no device, no lines) the profile holds the
    resync parameters and the layers, and still counts as sensitive.
    """
    context = makeContext(device=None, settings=[Setting("Time_Zone", "GMT")])
    rendered = render("spa000e08aabbcc.cfg", context)
    params = parameters(rendered.content)
    assert params["Time_Zone"] == ("GMT", "na")
    assert "Profile_Rule" in params
    assert not any(name.endswith("_1_") for name in params)
    assert rendered.sensitive is True


def test_renderOthers():
    """
    A request of another vendor or of an unknown kind renders nothing.
    """
    context = makeContext()
    assert linksysVendor.renderFile(FileRequest("snom", "initial", "spa942.cfg"), context) is None
    assert linksysVendor.renderFile(FileRequest("linksys", "firmware", "x.bin"), context) is None


_xmlText = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cn"))
    | st.sampled_from("\t\n\r&<>\"'"),
    max_size=40,
)


@given(
    lines=st.lists(
        st.builds(
            Line,
            index=st.integers(min_value=1, max_value=12),
            user=_xmlText,
            password=_xmlText,
            displayName=_xmlText,
            registrar=_xmlText,
            authUser=_xmlText,
            outboundProxy=_xmlText,
        ),
        max_size=4,
        unique_by=lambda line: line.index,
    )
)
def test_profileRoundTrips(lines):
    """
    Whatever text XML can carry, the profile is well-formed and every line
    field reads back unchanged; a line without a password writes none (the
    phone keeps its own).
    """
    params = parameters(render("spa000e08aabbcc.cfg", makeContext(lines=lines)).content)
    for line in lines:
        n = line.index
        assert params[f"User_ID_{n}_"][0] == line.user
        assert params.get(f"Password_{n}_", ("",))[0] == line.password
        assert (f"Password_{n}_" in params) == bool(line.password)
        assert params[f"Display_Name_{n}_"][0] == line.displayName
        assert params[f"Proxy_{n}_"][0] == line.registrar
        assert params[f"Auth_ID_{n}_"][0] == line.authUser
        assert params[f"Outbound_Proxy_{n}_"][0] == line.outboundProxy


# -- the flat-profile writer


def test_writeFlatProfile():
    """
    The writer keeps order, writes C{None} as C{<X/>} (leave unchanged)
    and C{""} as C{<X></X>} (set empty), and omits C{ua} when not given.
    """
    content = writeFlatProfile(
        [
            FlatParameter("B", "2"),
            FlatParameter("A", None, "rw"),
            FlatParameter("C", ""),
        ]
    )
    assert content == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<flat-profile>\n"
        b"  <B>2</B>\n"
        b'  <A ua="rw"/>\n'
        b"  <C></C>\n"
        b"</flat-profile>\n"
    )


def test_writeEmptyFlatProfile():
    """
    No parameters give an empty, well-formed C{<flat-profile>}.
    """
    assert etree.fromstring(writeFlatProfile([])).tag == "flat-profile"


@pytest.mark.parametrize(
    "parameter",
    [
        FlatParameter("lower_case", "x"),
        FlatParameter("Has Space", "x"),
        FlatParameter("", "x"),
        FlatParameter("A", "x", "RW"),
    ],
)
def test_writeFlatProfileRefuses(parameter):
    """
    A name that is not an SPA parameter name, or a C{ua} other than
    C{na}/C{ro}/C{rw}, is refused.
    """
    with pytest.raises(ValueError):
        writeFlatProfile([parameter])


# -- DHCP


def test_dhcpRuleIPv4():
    """
    For an IPv4 TFTP server, option 66 names it and option 150 lists it;
    phones are matched by vendor class and OUI.
    """
    rule = linksysVendor.dhcpRule("192.0.2.10", "http://192.0.2.10:8080")
    assert rule.name == "linksys"
    assert rule.vendorClasses == ("LINKSYS SPA", "Cisco SPA", "Sipura SPA")
    assert rule.ouis == tuple(sorted(linksysVendor.ouis))
    assert dict(rule.options) == {66: "192.0.2.10", 150: "192.0.2.10"}


@pytest.mark.parametrize(
    "tftpServer, options",
    [
        ("prov.example.com", {66: "prov.example.com"}),
        ("192.0.2.10:6969", {66: "192.0.2.10", 150: "192.0.2.10"}),
        ("2001:db8::10", {66: "2001:db8::10"}),
    ],
)
def test_dhcpRuleOthers(tftpServer, options):
    """
    A host name or IPv6 address goes only into option 66 (option 150 is a
    list of IPv4 addresses), and a C{:port} is dropped: DHCP cannot carry it.
    """
    assert dict(linksysVendor.dhcpRule(tftpServer, "http://x").options) == options


def _firmwareContext(tmp_path, **kw):
    """
    A render context whose options name a firmware image for the SPA942.
    """
    image = tmp_path / "spa942-6-1-5a.bin"
    image.write_bytes(b"\x00firmware")
    options = {"firmware": {"SPA942": {"version": "6.1.5(a)", "file": str(image)}}, **kw}
    return image, RenderContext(device=None, lines=(), settings={}, documents={}, options=options,
                                baseURL="http://192.0.2.10:8080", tftpServer="192.0.2.10")


def test_upgradeRuleForConfiguredModel(tmp_path):
    """
    With firmware configured for the model, the profile carries a
    conditional C{Upgrade_Rule} naming our copy of the image; other models
    get none.
    """
    image, context = _firmwareContext(tmp_path)
    initial = linksysVendor.renderFile(linksysVendor.resolveFile("spa942.cfg", None), context)
    rule = etree.fromstring(initial.content).findtext("Upgrade_Rule")
    assert rule == "($SWVER ne 6.1.5(a))? tftp://192.0.2.10/linksys/firmware/spa942-6-1-5a.bin"
    other = linksysVendor.renderFile(linksysVendor.resolveFile("spa962.cfg", None), context)
    assert etree.fromstring(other.content).find("Upgrade_Rule") is None


def test_upgradeRuleOverHTTP(tmp_path):
    """
    With C{profile_rule = "http"} the image is fetched from C{base_url}.
    """
    image, context = _firmwareContext(tmp_path, profile_rule="http")
    initial = linksysVendor.renderFile(linksysVendor.resolveFile("spa942.cfg", None), context)
    assert etree.fromstring(initial.content).findtext("Upgrade_Rule").endswith(
        "http://192.0.2.10:8080/linksys/firmware/spa942-6-1-5a.bin")


def test_firmwareImageServedByConfiguredName(tmp_path):
    """
    C{firmware/<name>} is the configured file, by path, never read by the
    vendor; a name not configured, or with a path in it, is nothing.
    """
    image, context = _firmwareContext(tmp_path)
    for name in ("firmware/spa942-6-1-5a.bin", "/linksys/firmware/spa942-6-1-5a.bin"):
        rendered = linksysVendor.renderFile(linksysVendor.resolveFile(name, None), context)
        assert rendered.path == str(image) and rendered.content == b"" and not rendered.sensitive
    assert linksysVendor.renderFile(linksysVendor.resolveFile("firmware/other.bin", None), context) is None
    for name in ("firmware/../etc/passwd", "firmware/a/b.bin", "firmware/", "firmware/.hidden"):
        assert linksysVendor.resolveFile(name, None) is None


@pytest.mark.parametrize(
    "firmware,problem",
    [
        ({"SPA942": {"version": "6.1.5"}}, "firmware.SPA942: must be"),
        ({"SPA942": {"version": "6.1.5", "file": "relative.bin"}}, "firmware.SPA942: must be"),
        ({"SPA942": {"version": "6.1.5", "file": "/nonexistent/spa.bin"}}, "cannot read"),
    ],
)
def test_firmwareOptionChecked(firmware, problem):
    """
    Bad firmware tables are reported at start, naming the model.
    """
    [found] = linksysVendor.checkOptions({"firmware": firmware})
    assert problem in found

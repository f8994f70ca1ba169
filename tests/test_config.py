"""
Tests for L{snomprov.config}.
"""

import ipaddress
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from zope.interface import implementer
from zope.interface.verify import verifyObject

from snomprov.config import ConfigError, checkVendorOptions, formatConfig, loadConfig, parseConfig
from snomprov.interfaces import IOptionsVendor
from snomprov.testing import FakeVendor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_defaults(tmp_path):
    """
    No file at all gives the embedded defaults: SIP 5060, HTTP 8080, TFTP
    6969, SQLite in the data directory.
    """
    config = parseConfig("", baseDir=str(tmp_path))
    assert config.sip.port == 5060 and config.sip.group == "224.0.1.75"
    assert config.http.listen == ("tcp:8080",)
    assert (config.http.backlog, config.http.accessLog) == (1024, False)
    assert config.tftp.port == 6969
    assert (config.tftp.maxTransfers, config.tftp.maxWaiting) == (256, 1024)
    assert config.storeURL == "sqlite:" + str(tmp_path / "var" / "snomprov.sqlite")
    assert config.provisioning.unknownDevices == "defaults"


def test_exampleConfigLoads():
    """
    The commented example C{conf/snomprov.toml} is a valid configuration.
    """
    config = loadConfig(os.path.join(ROOT, "conf", "snomprov.toml"))
    assert config.server.baseURL.startswith("http")


def test_fullFile(tmp_path):
    """
    Every key of DESIGN.md §4.2 is read into its typed field; relative paths
    are resolved against the file's directory.
    """
    text = """
        [server]
        base_url = "http://192.0.2.10:8080/"
        data_dir = "state"
        [store]
        url = "sqlite:state/db.sqlite"
        [sip]
        enabled = false
        port = 5070
        group = "224.0.1.75"
        interfaces = ["192.0.2.10"]
        allowed_networks = ["192.0.2.0/24", "2001:db8::/32"]
        [http]
        listen = ["tcp:8080:interface=127.0.0.1"]
        [tftp]
        enabled = true
        port = 69
        [provisioning]
        unknown_devices = "reject"
        [vendors.snom]
        url = "{base_url}/snom/{mac}.xml"
    """
    config = parseConfig(text.replace("\n        ", "\n"), "x.toml", baseDir=str(tmp_path))
    assert config.server.baseURL == "http://192.0.2.10:8080"
    assert config.server.dataDir == str(tmp_path / "state")
    assert config.store.url == "sqlite:" + str(tmp_path / "state" / "db.sqlite")
    assert config.sip.enabled is False and config.sip.port == 5070
    assert config.sip.allowedNetworks == (ipaddress.ip_network("192.0.2.0/24"), ipaddress.ip_network("2001:db8::/32"))
    assert config.provisioning.unknownDevices == "reject"
    assert config.vendor("snom").url == "{base_url}/snom/{mac}.xml"
    assert config.tftpServer == "192.0.2.10"


@pytest.mark.parametrize("text,expected", [("", 0.002), ("poll_interval = 0", 0.0), ("poll_interval = 0.005", 0.005)])
def test_pollInterval(tmp_path, text, expected):
    """
    C{[sip] poll_interval} is read as seconds, a float; 0.002 by default,
    0 turns polling off.
    """
    config = parseConfig("[sip]\n" + text + "\n", baseDir=str(tmp_path))
    assert config.sip.pollInterval == expected and isinstance(config.sip.pollInterval, float)


def test_sharePort(tmp_path):
    """
    C{[sip] share_port} is false unless set: the SIP port is not shared.
    """
    assert parseConfig("", baseDir=str(tmp_path)).sip.sharePort is False
    assert parseConfig("[sip]\nshare_port = true\n", baseDir=str(tmp_path)).sip.sharePort is True


def test_vendorPorts(tmp_path):
    """
    C{[sip] vendor_ports} is true unless set: plug-and-play listens on the
    vendors' SIP ports too; it is a boolean.
    """
    assert parseConfig("", baseDir=str(tmp_path)).sip.vendorPorts is True
    assert parseConfig("[sip]\nvendor_ports = false\n", baseDir=str(tmp_path)).sip.vendorPorts is False
    with pytest.raises(ConfigError) as e:
        parseConfig("[sip]\nvendor_ports = 0\n", "v.toml", baseDir=str(tmp_path))
    assert e.value.problems == ["v.toml: sip.vendor_ports: expected a boolean, got an integer 0"]


def test_adminListen(tmp_path):
    """
    C{[admin] listen} is empty unless set (the operators' paths on C{[http]
    listen}); set, it is a list of checked endpoint descriptions, and one
    that C{[http] listen} has too is refused, naming the key.
    """
    assert parseConfig("", baseDir=str(tmp_path)).admin.listen == ()
    config = parseConfig('[admin]\nlisten = ["tcp:9090:interface=127.0.0.1", "tcp:9091"]\n',
                         baseDir=str(tmp_path))
    assert config.admin.listen == ("tcp:9090:interface=127.0.0.1", "tcp:9091")
    with pytest.raises(ConfigError) as e:
        parseConfig('[http]\nlisten = ["tcp:8080"]\n[admin]\nlisten = ["tcp:8080"]\n', "a.toml",
                    baseDir=str(tmp_path))
    assert e.value.problems == ["a.toml: admin.listen: 'tcp:8080' is also in [http] listen; leave [admin] "
                                "listen empty to serve operators on the phones' listeners"]


def test_sessionIdle(tmp_path):
    """
    C{[admin] session_idle} is an hour unless set; a number of seconds
    from a minute to a week, anything else refused naming the key.
    """
    assert parseConfig("", baseDir=str(tmp_path)).admin.sessionIdle == 3600.0
    assert parseConfig("[admin]\nsession_idle = 600\n", baseDir=str(tmp_path)).admin.sessionIdle == 600.0
    for bad in ("30", "700000", '"1h"'):
        with pytest.raises(ConfigError) as e:
            parseConfig(f"[admin]\nsession_idle = {bad}\n", "a.toml", baseDir=str(tmp_path))
        assert e.value.problems[0].startswith("a.toml: admin.session_idle: ")


def test_ldap(tmp_path):
    """
    C{[ldap]} is off unless C{url} is set; set, it needs C{base_dn}, a
    filter with C{{login}}, known fields naming attributes, a timeout up to
    30 s, and a readable bind password file with a bind DN (made absolute).
    """
    assert not parseConfig("", baseDir=str(tmp_path)).ldap.enabled
    (tmp_path / "ldap.pw").write_text("secret\n")
    config = parseConfig('[ldap]\nurl = "ldaps://dir.example.org:636"\nbase_dn = "ou=people,dc=example,dc=org"\n'
                         'bind_dn = "cn=reader,dc=example,dc=org"\nbind_password_file = "ldap.pw"\n'
                         'filter = "(&(objectClass=person)(uid={login}))"\nattributes = { email = "mail" }\n'
                         "timeout = 2\n", baseDir=str(tmp_path))
    ldap = config.ldap
    assert ldap.enabled and ldap.bindPasswordFile == str(tmp_path / "ldap.pw")
    assert ldap.attributes == {"email": "mail"} and ldap.timeout == 2.0
    assert "secret" not in repr(config) and "secret" not in formatConfig(config)
    assert parseConfig(formatConfig(config), baseDir=str(tmp_path)).ldap == ldap
    for text, problem in [
        ('url = "http://x"', 'ldap.url: \'http://x\' is not ldap://host[:port]'),
        ('url = "ldap://x"', "ldap.base_dn: required"),
        ('url = "ldap://x"\nbase_dn = "o=x"\nbind_dn = "cn=a"', "ldap.bind_password_file: required"),
        ('url = "ldap://x"\nbase_dn = "o=x"\nbind_dn = "cn=a"\nbind_password_file = "nope"',
         "ldap.bind_password_file: "),
        ('filter = "(uid=x)"', "ldap.filter: '(uid=x)' has no {login}"),
        ('filter = "(uid={login}"', "ldap.filter: '(uid={login}' is not an LDAP search filter"),
        ('attributes = { phone = "x" }', "ldap.attributes: unknown field 'phone'"),
        ('attributes = { email = "not an attribute" }', "ldap.attributes: email: "),
        ("timeout = 60", "ldap.timeout: 60 is not"),
        ("server = 1", "ldap.server: unknown key"),
    ]:
        with pytest.raises(ConfigError) as e:
            parseConfig("[ldap]\n" + text + "\n", "a.toml", baseDir=str(tmp_path))
        assert any(p.startswith("a.toml: " + problem) for p in e.value.problems), (text, e.value.problems)


def test_tftpServerWritesPortUnless69(tmp_path):
    """
    The TFTP address given to phones carries the port whenever it is not 69.
    """
    config = parseConfig('[server]\nbase_url = "http://192.0.2.10:8080"\n', baseDir=str(tmp_path))
    assert config.tftpServer == "192.0.2.10:6969"


def test_threeProblemsThreeLines(tmp_path):
    """
    An unknown key, a wrong type and a bad CIDR are all reported, one line
    each, naming file and key.
    """
    text = '[sip]\nbogus = 1\nport = "5060"\nallowed_networks = ["10.0.0.0/33"]\n'
    with pytest.raises(ConfigError) as e:
        parseConfig(text, "site.toml", baseDir=str(tmp_path))
    assert e.value.problems == [
        "site.toml: sip.bogus: unknown key (known: enabled, port, group, interfaces, allowed_networks, "
        "rate_per_source, rate_burst, max_transactions, poll_interval, share_port, vendor_ports)",
        "site.toml: sip.port: expected an integer, got a string '5060'",
        "site.toml: sip.allowed_networks: '10.0.0.0/33' is not a CIDR network (like 192.0.2.0/24)",
    ]


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("[nope]\n", "[nope]: unknown section"),
        ('[http]\nlisten = ["tcpx:80"]\n', "http.listen: 'tcpx:80' is not a server endpoint description"),
        ("[http]\nlisten = \"tcp:80\"\n", "http.listen: expected a list of a string"),
        ("[sip]\nport = 70000\n", "sip.port: 70000 is not a port number"),
        ("[sip]\nenabled = 1\n", "sip.enabled: expected a boolean"),
        ('[sip]\nshare_port = "yes"\n', "sip.share_port: expected a boolean, got a string 'yes'"),
        ("[tftp]\nport = true\n", "tftp.port: expected an integer, got a boolean"),
        ("[tftp]\nrate_per_client = 0\n", "tftp.rate_per_client: 0 must be greater than 0"),
        ("[tftp]\nmax_waiting = -1\n", "tftp.max_waiting: -1 must be 0 or more"),
        ("[http]\nbacklog = 0\n", "http.backlog: 0 is not a listen backlog (1-65535 connections)"),
        ('[http]\nbacklog = "1024"\n', "http.backlog: expected an integer, got a string"),
        ("[http]\naccess_log = 1\n", "http.access_log: expected a boolean, got an integer"),
        ('[sip]\ngroup = "192.0.2.1"\n', "sip.group: '192.0.2.1' is not a multicast group"),
        ('[sip]\ninterfaces = ["eth0"]\n', "sip.interfaces: 'eth0' is not an IPv4 address"),
        ("[sip]\npoll_interval = -0.001\n", "sip.poll_interval: -0.001 is not a number of seconds from 0 to 1"),
        ("[sip]\npoll_interval = 2\n", "sip.poll_interval: 2 is not a number of seconds from 0 to 1"),
        ("[sip]\npoll_interval = nan\n", "sip.poll_interval: nan is not a number of seconds"),
        ("[sip]\npoll_interval = inf\n", "sip.poll_interval: inf is not a number of seconds"),
        ('[sip]\npoll_interval = "2ms"\n', "sip.poll_interval: expected an integer or a number, got a string"),
        ('[server]\nbase_url = "ftp://x"\n', "server.base_url: 'ftp://x' is not an http"),
        ('[provisioning]\nunknown_devices = "maybe"\n', "provisioning.unknown_devices: 'maybe' is not one of"),
        ('[store]\nurl = "mysql://x"\n', "store.url: 'mysql://x'"),
        ("[store]\nkeep_events_days = -1\n", "store.keep_events_days: -1 is not a number of days from 0"),
        ("[store]\nkeep_events_days = 1.5\n", "store.keep_events_days: expected an integer, got a number"),
        ('[store]\nkeep_events_days = "90"\n', "store.keep_events_days: expected an integer, got a string"),
        ("[sip\n", "not valid TOML"),
        ('[vendors.snom]\nurl = "nourl"\n', "vendors.snom.url"),
        ('[admin]\nlisten = ["tcpx:9090"]\n', "admin.listen: 'tcpx:9090' is not a server endpoint description"),
        ('[admin]\nlisten = "tcp:9090"\n', "admin.listen: expected a list of a string"),
        ('[admin]\nsession = 1\n', "admin.session: unknown key (known: listen, max_body, session_idle)"),
    ],
)
def test_problemsNamed(tmp_path, text, fragment):
    """
    Each kind of problem is one line naming the file, key and reason.
    """
    with pytest.raises(ConfigError) as e:
        parseConfig(text, "f.toml", baseDir=str(tmp_path))
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith("f.toml: ") and fragment in e.value.problems[0]


def test_unreachableDataDir(tmp_path):
    """
    A data directory that is a file, or cannot be created, is refused.
    """
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError) as e:
        parseConfig('[server]\ndata_dir = "afile"\n', "f.toml", baseDir=str(tmp_path))
    assert "server.data_dir" in e.value.problems[0] and "not a directory" in e.value.problems[0]
    with pytest.raises(ConfigError) as e:
        parseConfig('[server]\ndata_dir = "afile/sub"\n', "f.toml", baseDir=str(tmp_path))
    assert "cannot be created" in e.value.problems[0]


def test_missingFile(tmp_path):
    """
    A config file that cannot be read is one clear line.
    """
    with pytest.raises(ConfigError) as e:
        loadConfig(str(tmp_path / "missing.toml"))
    assert e.value.problems == [f"{tmp_path / 'missing.toml'}: cannot read: No such file or directory"]


def test_vendorOptions(tmp_path):
    """
    A vendor table is checked against the vendor's option types; a table
    for no known vendor is a problem.
    """
    config = parseConfig(
        '[vendors.fake]\ngreeting = 3\nother = "x"\n[vendors.ghost]\nurl = "http://x/"\n',
        "f.toml", baseDir=str(tmp_path),
    )
    problems = checkVendorOptions(config, {"fake": FakeVendor()})
    assert problems == [
        "f.toml: vendors.fake.greeting: expected a string, got an integer 3",
        "f.toml: vendors.fake.other: unknown key (known: url, greeting)",
        "f.toml: vendors.ghost: no such vendor (known: fake)",
    ]


def test_twistdRefusesBadConfigWithStatus2(tmp_path):
    """
    C{twistd -n snomprov} with a bad config prints one line per problem and
    exits 2, starting nothing.
    """
    bad = tmp_path / "bad.toml"
    bad.write_text('[sip]\nbogus = 1\nport = "x"\nallowed_networks = ["300.0.0.0/8"]\n')
    twistd = [sys.executable, "-c", "import sys; from twisted.scripts.twistd import run; sys.argv[0]='twistd'; run()"]
    result = subprocess.run(
        [*twistd, "-n", "--pidfile=", "snomprov", "--config", str(bad)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.startswith(str(bad))]
    assert len(lines) == 3
    assert "sip.bogus" in lines[0] and "sip.port" in lines[1] and "sip.allowed_networks" in lines[2]


def test_clientCARelativeToConfigFile(tmp_path):
    """
    C{[http] client_ca} names a PEM bundle relative to the config file's
    directory and is kept as an absolute path.
    """
    from pki import makeCA

    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "phones.pem").write_bytes(makeCA().certPEM)
    config = parseConfig('[http]\nclient_ca = "pki/phones.pem"\n', "f.toml", baseDir=str(tmp_path))
    assert config.http.clientCA == str(tmp_path / "pki" / "phones.pem")
    assert parseConfig("", baseDir=str(tmp_path)).http.clientCA == ""


@pytest.mark.parametrize(
    "content,fragment",
    [(None, "cannot read"), (b"not a certificate\n", "not a PEM certificate bundle")],
)
def test_clientCAProblems(tmp_path, content, fragment):
    """
    A client CA bundle that is missing or holds no PEM certificate is one
    problem naming C{http.client_ca}.
    """
    if content is not None:
        (tmp_path / "ca.pem").write_bytes(content)
    with pytest.raises(ConfigError) as e:
        parseConfig('[http]\nclient_ca = "ca.pem"\n', "f.toml", baseDir=str(tmp_path))
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith("f.toml: http.client_ca: ") and fragment in e.value.problems[0]


ROUND_TRIP_VENDORS = r"""
[server]
base_url = "http://192.0.2.10:8080"
data_dir = "state"
[sip]
allowed_networks = ["192.0.2.0/24", "2001:db8::/32"]
interfaces = ["192.0.2.10"]
poll_interval = 0.005
rate_per_source = 5
share_port = true
vendor_ports = false
[http]
listen = ["tcp:8080:interface=127.0.0.1", "tcp:8081"]
[tftp]
port = 69
advertise = "tftp.example.com"
[provisioning]
unknown_devices = "reject"
[vendors.snom]
url = "{base_url}/snom/{mac}.xml"
firmware = { snomD785 = { version = "10.1.54.13", file = "D785.bin" } }
[vendors.linksys]
profile_rule = "http"
resync_periodic = 600
[vendors."odd name"]
url = "http://x/\"q\"\\\t{mac}.cfg"
ouis = ["00:15:65"]
"weird key" = [1, 2.5, true, "\u007f"]
"""


def test_keepEventsDays(tmp_path):
    """
    C{[store] keep_events_days}: 90 unless set, 0 (keep forever) allowed.
    """
    assert parseConfig("", "f.toml", baseDir=str(tmp_path)).store.keepEventsDays == 90
    for days in (0, 7):
        text = f"[store]\nkeep_events_days = {days}\n"
        assert parseConfig(text, "f.toml", baseDir=str(tmp_path)).store.keepEventsDays == days


@pytest.mark.parametrize("text", ["", "[store]\nurl = \"sqlite:db/x.sqlite\"\n", "[store]\nurl = \"memory:\"\n",
                                  ROUND_TRIP_VENDORS, '[admin]\nlisten = ["tcp:9090:interface=127.0.0.1"]\n'],
                         ids=["defaults", "sqlite", "memory", "vendors", "admin"])
def test_formatRoundTrip(tmp_path, text):
    """
    L{formatConfig} writes TOML that L{loadConfig} reads back into an equal
    configuration: TOML key names (C{poll_interval}), the store URL the
    configuration means, and the C{[vendors.<name>]} tables.
    """
    first = tmp_path / "first" / "snomprov.toml"
    first.parent.mkdir()
    first.write_text(text)
    config = loadConfig(str(first))
    printed = formatConfig(config)
    assert "poll_interval = " in printed and "pollInterval" not in printed
    assert f"share_port = {str(config.sip.sharePort).lower()}" in printed
    assert f"vendor_ports = {str(config.sip.vendorPorts).lower()}" in printed
    assert "[admin]\nlisten = " in printed
    assert 'url = ""' not in printed
    again = tmp_path / "elsewhere" / "printed.toml"
    again.parent.mkdir()
    again.write_text(printed)
    reloaded = loadConfig(str(again))
    assert reloaded == replace(config, source=str(again))
    assert reloaded.storeURL == config.storeURL


def test_formatRoundTripVendors(tmp_path):
    """
    The C{[vendors.<name>]} tables come back with their URL and options,
    nested tables and keys that need quoting included.
    """
    (tmp_path / "c.toml").write_text(ROUND_TRIP_VENDORS)
    config = loadConfig(str(tmp_path / "c.toml"))
    printed = formatConfig(config)
    assert "[vendors.snom]" in printed and '[vendors."odd name"]' in printed
    reloaded = parseConfig(printed, "p.toml")
    assert dict(reloaded.vendors) == dict(config.vendors)
    assert reloaded.vendor("snom").options["firmware"]["snomD785"]["file"] == "D785.bin"
    assert reloaded.vendor("odd name").url == 'http://x/"q"\\\t{mac}.cfg'


def test_formatVendorDefaultsCommented(tmp_path):
    """
    A vendor without a table is written as a commented-out table of its
    defaults, which reads back as no table.
    """
    config = parseConfig("", "c.toml", baseDir=str(tmp_path))
    printed = formatConfig(config, {"snom": {"url": "{base_url}/snom/{mac}.xml"}})
    assert '# [vendors.snom]' in printed and '# url = "{base_url}/snom/{mac}.xml"' in printed
    assert parseConfig(printed, "c.toml").vendors == {}


def test_withDataDirMovesDefaultStore(tmp_path):
    """
    C{--data-dir} moves the store when it was the default one in the data
    directory, and leaves a store the file names elsewhere.
    """
    default = parseConfig("", "c.toml", baseDir=str(tmp_path)).withDataDir("/srv/x")
    assert default.storeURL == "sqlite:/srv/x/snomprov.sqlite"
    named = parseConfig('[store]\nurl = "sqlite:db.sqlite"\n', "c.toml", baseDir=str(tmp_path))
    assert named.withDataDir("/srv/x").storeURL == "sqlite:" + str(tmp_path / "db.sqlite")


def test_vendorChecksFoundByInterface(tmp_path):
    """
    A vendor's own checks run when it provides L{IOptionsVendor}, not
    because it has a C{checkOptions} attribute; every ua-profile vendor's
    C{url} is checked by the server, with its C{phoneURLVariables} allowed.
    """
    calls = []

    class Undeclared(FakeVendor):
        def checkOptions(self, options):
            calls.append(options)
            return ["never"]

    @implementer(IOptionsVendor)
    class Declared(FakeVendor):
        defaultOptions = {}
        phoneURLVariables = frozenset({"serial"})

        def checkOptions(self, options):
            calls.append(dict(options))
            return ["greeting: too loud"] if options.get("greeting") == "HI" else []

    text = ('[vendors.a]\nurl = "{base_url}/{serial}"\n'
            '[vendors.b]\nurl = "{base_url}/{serial}"\ngreeting = "HI"\n')
    config = parseConfig(text, "f.toml", baseDir=str(tmp_path))
    verifyObject(IOptionsVendor, Declared("b"))
    problems = checkVendorOptions(config, {"a": Undeclared("a"), "b": Declared("b")})
    assert problems == [
        "f.toml: vendors.a.url: unknown variable {serial}; known: {base_url}, {ip}, {mac}, {model}, "
        "{token}, {vendor}, {version}",
        "f.toml: vendors.b.greeting: too loud",
    ]
    assert calls == [{"url": "{base_url}/{serial}", "greeting": "HI"}]


# -- [http] listen's ssl: details

def _tlsFiles(directory):
    from pki import makeCA, makeServer

    ca = makeCA("config CA")
    os.makedirs(directory / "tls", exist_ok=True)
    makeServer(ca).write(directory / "tls", "server")
    return ca.write(directory, "phones-ca")[0]


def test_tlsPathsRelativeToConfigFile(tmp_path, monkeypatch):
    """
    C{privateKey=}, C{certKey=} and C{extraCertChain=} of an C{ssl:}
    description are read relative to the config file's directory (not the
    working directory), in C{[http]} and C{[admin]} listen alike.
    """
    _tlsFiles(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = tmp_path / "snomprov.toml"
    path.write_text('[http]\nlisten = ["ssl:0:privateKey=tls/server.key:certKey=tls/server.crt:'
                    'extraCertChain=tls/server.crt"]\n'
                    '[admin]\nlisten = ["ssl:0:interface=127.0.0.1:privateKey=tls/server.key:certKey=tls/server.crt"]\n')
    config = loadConfig(str(path))
    tls = tmp_path / "tls"
    assert config.http.listen == (f"ssl:0:privateKey={tls}/server.key:certKey={tls}/server.crt:"
                                  f"extraCertChain={tls}/server.crt",)
    assert config.admin.listen == (f"ssl:0:interface=127.0.0.1:privateKey={tls}/server.key:"
                                   f"certKey={tls}/server.crt",)
    assert loadConfig(str(path)) == config


def test_tlsMissingFileNamesTheKey(tmp_path):
    """
    A key file that is not there (relative to the config file) is a
    problem of C{http.listen}.
    """
    path = tmp_path / "snomprov.toml"
    path.write_text('[http]\nlisten = ["ssl:0:privateKey=nope.key:certKey=nope.crt"]\n')
    with pytest.raises(ConfigError) as e:
        loadConfig(str(path))
    [problem] = e.value.problems
    assert problem.startswith(f"{path}: http.listen: ") and "nope" in problem


def test_sslmethodWithClientCA(tmp_path):
    """
    C{sslmethod=} on an C{ssl:} listener together with C{[http] client_ca}
    is refused by the configuration (naming the key), not a crash at
    start; without C{client_ca} it is accepted.
    """
    _tlsFiles(tmp_path)
    listen = 'listen = ["ssl:0:privateKey=tls/server.key:certKey=tls/server.crt:sslmethod=TLSv1_2_METHOD"]\n'
    path = tmp_path / "snomprov.toml"
    path.write_text("[http]\n" + listen)
    assert loadConfig(str(path)).http.listen[0].endswith("sslmethod=TLSv1_2_METHOD")
    path.write_text("[http]\n" + listen + 'client_ca = "phones-ca.crt"\n')
    with pytest.raises(ConfigError) as e:
        loadConfig(str(path))
    [problem] = e.value.problems
    assert problem.startswith(f"{path}: http.listen: ") and "sslmethod cannot be used with [http] client_ca" in problem

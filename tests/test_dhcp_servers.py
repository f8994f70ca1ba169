"""
The snippets of L{snomprov.dhcp} against the real DHCP servers: each
server's own configuration check accepts them (and refuses what our escaping
and our Kea option 159 omission avoid), and in a pair of network namespaces
dnsmasq running our snippet gives a DHCP client the options we configured;
that client then fetches its SPA profile over TFTP from snomprov's TFTP
server at the option-66 address.

No traffic leaves the namespaces; the documentation addresses in the
configuration-check tests are only text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from snomprov.device import DHCPRule
from snomprov.dhcp import Reservation, renderDnsmasq, renderISC, renderKea
from snomprov.vendors.linksys import linksysVendor
from tests.daemon import Daemon
from tests.netns import NetnsPair, netnsAvailable, netnsPair

pytestmark = pytest.mark.interop

_ODD = 'http://192.0.2.10/odd,"quoted"\\path#x'
SNOM = DHCPRule("snom", ("snom",), ("000413",), {66: "192.0.2.10", 67: "snom.htm"})
LINKSYS = DHCPRule(
    "linksys",
    ("LINKSYS SPA", "Cisco SPA"),
    ("000E08", "0018F8"),
    {66: "192.0.2.10", 150: "192.0.2.10, 192.0.2.11", 159: _ODD, 160: _ODD},
)
RESERVATIONS = (
    Reservation("00:04:13:aa:bb:cc", "desk42", SNOM, "192.0.2.42"),
    Reservation("00:0e:08:11:22:33", None, LINKSYS),
)
_SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
_REPO = Path(__file__).resolve().parents[1]


def _binary(name: str, package: str) -> str:
    """
    The path of a server's binary, or skip the test naming the package.
    """
    path = shutil.which(name, path=_SBIN)
    if path is None:
        pytest.skip(f"{name} not installed (apt-get install {package})")
    return path


class _Server(NamedTuple):
    """
    A DHCP server set up in a directory: how to check its configuration and
    how to run it in the foreground.
    """

    check: list[str]
    run: list[str]
    env: dict[str, str]


def _dnsmasq(directory: Path, snippet: str, net: str, interface: str | None) -> _Server:
    """
    A dnsmasq configuration (no DNS, a range in C{net}.0/24) including
    C{snippet} with C{conf-file=}.
    """
    dnsmasq = _binary("dnsmasq", "dnsmasq-base")
    (directory / "snomprov.conf").write_text(snippet)
    conf = directory / "dnsmasq.conf"
    conf.write_text(
        "port=0\n"
        f"conf-file={directory / 'snomprov.conf'}\n"
        f"dhcp-range={net}.100,{net}.150,255.255.255.0,1h\n"
        f"dhcp-leasefile={directory / 'leases'}\n"
        f"pid-file={directory / 'dnsmasq.pid'}\n"
        + (f"interface={interface}\nbind-interfaces\n" if interface else "")
    )
    return _Server(
        [dnsmasq, "--test", f"--conf-file={conf}"],
        [dnsmasq, "--no-daemon", "--log-dhcp", "--log-facility=-", f"--conf-file={conf}"],
        dict(os.environ),
    )


def _isc(directory: Path, snippet: str, net: str, interface: str | None) -> _Server:
    """
    An ISC C{dhcpd.conf} that includes C{snippet} and declares C{net}.0/24.
    """
    dhcpd = _binary("dhcpd", "isc-dhcp-server")
    (directory / "snomprov.conf").write_text(snippet)
    (directory / "dhcpd.leases").touch()
    conf = directory / "dhcpd.conf"
    conf.write_text(
        f'include "{directory / "snomprov.conf"}";\n'
        f"subnet {net}.0 netmask 255.255.255.0 {{ range {net}.100 {net}.150; }}\n"
    )
    return _Server(
        [dhcpd, "-t", "-cf", str(conf)],
        [dhcpd, "-4", "-f", "-cf", str(conf), "-lf", str(directory / "dhcpd.leases"),
         "-pf", str(directory / "dhcpd.pid"), *([interface] if interface else [])],
        dict(os.environ),
    )


def _kea(directory: Path, snippet: str, net: str, interface: str | None) -> _Server:
    """
    A Kea configuration whose C{Dhcp4} is a subnet C{net}.0/24 merged with
    the object C{snippet}; pid and lock files go to C{directory}.
    """
    kea = _binary("kea-dhcp4", "kea-dhcp4-server")
    dhcp4 = {
        "interfaces-config": {"interfaces": [interface] if interface else []},
        "lease-database": {"type": "memfile", "persist": False},
        "subnet4": [
            {"id": 1, "subnet": f"{net}.0/24", "pools": [{"pool": f"{net}.100 - {net}.150"}]}
        ],
        **json.loads(snippet),
    }
    conf = directory / "kea.json"
    conf.write_text(json.dumps({"Dhcp4": dhcp4}, indent=2))
    env = dict(os.environ, KEA_PIDFILE_DIR=str(directory), KEA_LOCKFILE_DIR=str(directory))
    return _Server([kea, "-t", str(conf)], [kea, "-c", str(conf)], env)


_SERVERS: dict[str, tuple[Callable[..., str], Callable[..., _Server]]] = {
    "dnsmasq": (renderDnsmasq, _dnsmasq),
    "isc": (renderISC, _isc),
    "kea": (renderKea, _kea),
}


def _check(server: str, directory: Path, snippet: str) -> subprocess.CompletedProcess[str]:
    """
    Run C{server}'s own configuration check on a configuration including
    C{snippet}.
    """
    setup = _SERVERS[server][1](directory, snippet, "192.0.2", None)
    return subprocess.run(setup.check, capture_output=True, text=True, timeout=30, env=setup.env)


@pytest.mark.parametrize("server", sorted(_SERVERS))
def test_serverAcceptsSample(server, tmp_path):
    """
    The server's own configuration check accepts our snippet for the sample
    snom and SPA rules (option 66, 67, 150, 159, 160 with a value full of
    quotes, commas, a backslash and a C{#}) and two reservations.
    """
    writer = _SERVERS[server][0]
    result = _check(server, tmp_path, writer([SNOM, LINKSYS], RESERVATIONS))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("server", sorted(_SERVERS))
def test_serverAcceptsVendorRule(server, tmp_path):
    """
    The server's check accepts the snippet of the real SPA vendor's rule
    (L{snomprov.vendors.linksys}) with a reservation using it.
    """
    rule = linksysVendor.dhcpRule("192.0.2.10", "http://192.0.2.10:8080")
    writer = _SERVERS[server][0]
    result = _check(server, tmp_path, writer([rule], [Reservation("000e08aabbcc", "spa1", rule)]))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("server", ["dnsmasq", "isc"])
def test_serverRefusesUnescapedQuotes(server, tmp_path):
    """
    Control for the two tests above: a snippet with a quote in a value
    passes the server's check, and fails it once the quote is left
    unescaped, so the check reads our values and the escaping matters.
    """
    snippet = _SERVERS[server][0]([DHCPRule("odd", ("odd",), (), {160: 'say "hi'})], ())
    assert '\\"hi' in snippet
    assert _check(server, tmp_path, snippet).returncode == 0
    result = _check(server, tmp_path, snippet.replace('\\"', '"'))
    assert result.returncode != 0


def test_keaRefusesText159(tmp_path):
    """
    Why the Kea snippet leaves option 159 out: Kea refuses to define code
    159 as text (this also shows C{kea-dhcp4 -t} checks option definitions).
    """
    snippet = json.loads(renderKea([LINKSYS], ()))
    snippet["option-def"].append({"name": "spa-opt159", "code": 159, "space": "dhcp4", "type": "string"})
    result = _check("kea", tmp_path, json.dumps(snippet))
    assert result.returncode != 0
    assert "159" in result.stdout + result.stderr


# -- end to end in network namespaces ----------------------------------------------

_DHCLIENT_SCRIPT = """\
#!/bin/sh
case "$reason" in
  BOUND|REBOOT) env > {out}.tmp && mv {out}.tmp {out} ;;
esac
exit 0
"""

def _waitFor(path: Path, seconds: float, *processes: subprocess.Popen) -> bool:
    """
    Wait until C{path} exists, giving up after C{seconds} or when one of
    C{processes} has exited.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        if any(p.poll() is not None for p in processes):
            return path.exists()
        time.sleep(0.1)
    return False


def _stop(*processes: subprocess.Popen) -> None:
    """
    Terminate processes this test started, reap them and close their pipes.
    """
    for process in processes:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _dhcpExchange(
    pair: NetnsPair,
    directory: Path,
    server: str,
    rules: list[DHCPRule],
    reservations: list[Reservation],
    vendorClass: str | None,
) -> dict[str, str]:
    """
    Run C{server} with our snippet for C{rules} and C{reservations} in
    C{pair.nsA}, and dhclient (sending C{vendorClass} as option 60, if any)
    in C{pair.nsB} until it is bound.  Logs are left in C{directory}.

    @return: the dhclient script's environment (C{new_*} variables, values
        unescaped), or C{{}} if no lease came.
    """
    dhclient = _binary("dhclient", "isc-dhcp-client")
    writer, configure = _SERVERS[server]
    setup = configure(directory, writer(rules, reservations), "10.99.0", pair.ifA)
    with open(directory / f"{server}.log", "w") as log:
        running = pair.runIn(pair.nsA, setup.run, env=setup.env, stdout=log, stderr=log)
    out = directory / "dhclient.env"
    script = directory / "dump.sh"
    script.write_text(_DHCLIENT_SCRIPT.format(out=out))
    script.chmod(0o755)
    send = f'send vendor-class-identifier "{vendorClass}";\n' if vendorClass else ""
    (directory / "dhclient.conf").write_text(
        send
        + "option opt150 code 150 = array of ip-address;\n"
        "option opt160 code 160 = text;\n"
        "request subnet-mask, host-name, tftp-server-name, bootfile-name;\n"
        "initial-interval 1;\n"
        "timeout 15;\n"
    )
    (directory / "dhclient.leases").touch()
    with open(directory / "dhclient.log", "w") as log:
        client = pair.runIn(
            pair.nsB,
            [
                dhclient, "-d", "-1", "-cf", str(directory / "dhclient.conf"),
                "-sf", str(script), "-lf", str(directory / "dhclient.leases"),
                "-pf", str(directory / "dhclient.pid"), pair.ifB,
            ],
            stdout=log, stderr=log,
        )
    try:
        bound = _waitFor(out, 20, client, running)
    finally:
        _stop(client, running)
    if not bound:
        return {}
    env = {}
    for line in out.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.startswith("new_"):
            # dhclient puts a backslash before " ' $ ` and \ in texts.
            env[name] = re.sub(r"\\(.)", r"\1", value)
    return env


def _pair(mac: str):
    """
    A namespace pair whose B side has hardware address C{mac}, or skip.
    """
    available, reason = netnsAvailable()
    if not available:
        pytest.skip(reason)
    return netnsPair("snp-dhcp", macB=mac)


def _rules(addrA: str) -> list[DHCPRule]:
    """
    The real SPA vendor's rule pointing at C{addrA}, and a snom-like rule
    whose option 66 is a URL and whose option 160 is an awkward text.
    """
    return [
        linksysVendor.dhcpRule(addrA, f"http://{addrA}:8080"),
        DHCPRule("snom", ("snom",), ("000413",),
                 {66: f"http://{addrA}:8080", 67: "snom.htm", 160: _ODD}),
    ]


_E2E = pytest.mark.parametrize("server", sorted(_SERVERS))
_FORCES = {"dnsmasq": True, "isc": False, "kea": True}
"""
Whether the server sends our options to a client that did not request them
(ISC dhcpd has no switch for it).
"""


@pytest.mark.netns
@_E2E
def test_spaGetsOption66AndFetchesProfile(server, tmp_path):
    """
    A client saying C{LINKSYS SPA-942} gets option 66 (and, where the server
    can force it, unrequested option 150) naming our server, then fetches
    C{/spa942.cfg} over TFTP from the snomprov daemon at that address, and
    follows its C{Profile_Rule} to its own profile.
    """
    tftp = _binary("tftp", "tftp-hpa")
    with _pair("02:00:00:00:00:01") as pair:
        env = _dhcpExchange(pair, tmp_path, server, _rules(pair.addrA), [], "LINKSYS SPA-942")
        assert env.get("new_tftp_server_name") == pair.addrA, env
        assert env.get("new_opt150") == (pair.addrA if _FORCES[server] else None)
        assert "new_bootfile_name" not in env

        # The real daemon in namespace A, TFTP on 69 (option 66 has no port),
        # with the client's MAC registered as an SPA942.
        (tmp_path / "daemon").mkdir()
        daemon = Daemon(tmp_path / "daemon", sip=False, host=pair.addrA, netns=pair.nsA, tftpPort=69)
        daemon.importCSV("mac,vendor,model,line,user,password,display_name,registrar\n"
                         "02:00:00:00:00:01,linksys,SPA942,1,300,pw300,Erin,pbx.example.com\n")
        with daemon.start():
            initial = _tftpGet(pair, tftp, env["new_tftp_server_name"], "/spa942.cfg", tmp_path)
            rule = _flatProfile(initial)["Profile_Rule"]
            assert rule == f"tftp://{pair.addrA}/spa$MA.cfg"
            name = "/" + rule.split("/", 3)[3].replace("$MA", "020000000001")
            profile = _flatProfile(_tftpGet(pair, tftp, env["new_tftp_server_name"], name, tmp_path))
        assert profile["User_ID_1_"] == "300" and profile["Password_1_"] == "pw300"


def _tftpGet(pair, tftp: str, server: str, name: str, tmp_path: Path) -> bytes:
    """
    Fetch C{name} with tftp-hpa from namespace B.
    """
    fetched = tmp_path / name.strip("/")
    result = pair.runIn(
        pair.nsB, [tftp, "-m", "binary", server, "-c", "get", name, str(fetched)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ).communicate(timeout=30)[0]
    assert fetched.exists(), result
    return fetched.read_bytes()


def _flatProfile(data: bytes) -> dict[str, str]:
    from lxml import etree

    return {element.tag: element.text or "" for element in etree.fromstring(data)}


@pytest.mark.netns
@_E2E
def test_snomByOUIGetsURL(server, tmp_path):
    """
    A client sending no vendor class but with a snom OUI gets the snom
    options: a URL in option 66, option 67, and (where forced) the awkward
    option 160 text intact (quotes, comma, backslash, C{#}).
    """
    with _pair("00:04:13:12:34:56") as pair:
        env = _dhcpExchange(pair, tmp_path, server, _rules(pair.addrA), [], None)
    assert env.get("new_tftp_server_name") == f"http://{pair.addrA}:8080", env
    assert env.get("new_bootfile_name") == "snom.htm"
    assert env.get("new_opt160") == (_ODD if _FORCES[server] else None)


@pytest.mark.netns
@_E2E
def test_reservationBeatsUnknownVendorClass(server, tmp_path):
    """
    A reserved MAC whose option 60 matches no rule still gets its rule's
    option 66, its fixed address and its host name.
    """
    with _pair("02:00:00:00:00:42") as pair:
        rules = _rules(pair.addrA)
        reservation = Reservation("020000000042", "desk42", rules[0], "10.99.0.42")
        env = _dhcpExchange(pair, tmp_path, server, rules, [reservation], "acme-phone")
    assert env.get("new_tftp_server_name") == pair.addrA, env
    assert env.get("new_ip_address") == "10.99.0.42"
    assert env.get("new_host_name") == "desk42"


@pytest.mark.netns
@_E2E
def test_unmatchedClientGetsNoOption66(server, tmp_path):
    """
    Control: a client with an unknown vendor class, OUI and MAC gets a lease
    but none of our options.
    """
    with _pair("02:00:00:00:00:99") as pair:
        env = _dhcpExchange(pair, tmp_path, server, _rules(pair.addrA), [], "acme-phone")
    assert env.get("new_ip_address", "").startswith("10.99.0."), env
    assert "new_tftp_server_name" not in env
    assert "new_opt150" not in env

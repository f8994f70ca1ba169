# -*- test-case-name: tests.test_config -*-
"""
The configuration: one TOML file into a frozen, typed L{Config}.

Defaults live here, so the daemon starts with no file at all.  Every problem
is reported as one line naming the file, the key and the reason; all
problems of a file are collected into one L{ConfigError}.  Which file is
read is L{snomprov.configpath}'s job; L{formatConfig} writes a L{Config}
back as TOML.

Keys (DESIGN.md §4.2)::

    [server]  base_url, data_dir, log_field_length
    [store]   url, keep_events_days
    [sip]     enabled, port, group, interfaces, allowed_networks,
              rate_per_source, rate_burst, max_transactions, poll_interval,
              share_port, vendor_ports
    [http]    listen, allowed_networks, client_ca, max_body, header_timeout,
              connections_per_address, backlog, access_log
    [tftp]    enabled, port, allowed_networks, interface, advertise,
              max_transfers, max_waiting, rate_per_client, transfers_per_client
    [provisioning] unknown_devices, proofs, without_proof, token_seconds,
              token_fetches, pnp_address_seconds, key_file, cache_entries,
              cache_bytes, new_devices_per_minute
    [admin]   listen, max_body, session_idle
    [ldap]    url, base_dn, bind_dn, bind_password_file, filter, attributes, timeout
    [vendors.<name>] url, plus the vendor's own keys (see
              L{snomprov.interfaces.IVendor.optionTypes})
    [[pbx]]   kind, name, and by kind: url, domain, passwords (kamailio);
              path, reload, domain (asterisk-pjsip)
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from .dburl import parseStoreURL
from .interfaces import IOptionsVendor, IUAProfileVendor
from .urltemplate import checkURLTemplate

__all__ = [
    "ConfigError",
    "Config",
    "loadConfig",
    "parseConfig",
    "formatConfig",
    "checkVendorOptions",
    "PBXConfig",
    "LDAPConfig",
    "LDAP_ATTRIBUTES",
    "maskURL",
]


class ConfigError(Exception):
    """
    The configuration is refused.

    @ivar problems: one line per problem, each naming file, key and reason.
    @ivar partial: the config with the refused keys at their defaults, so
        that later checks (vendors) can still report their problems; or
        C{None} when the file could not be read at all.
    """

    def __init__(self, problems: list[str], partial: "Config | None" = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.partial = partial


@dataclass(frozen=True)
class ServerConfig:
    """
    @ivar logFieldLength: the most characters of one traffic-derived field
        (a path, a User-Agent, a file name, an event's detail) that reach a
        log line; longer ones are cut and marked.
    """

    baseURL: str = "http://127.0.0.1:8080"
    dataDir: str = "var"
    logFieldLength: int = 256


@dataclass(frozen=True)
class StoreConfig:
    """
    @ivar url: C{sqlite:PATH} (relative to the config file's directory),
        C{memory:} or C{postgresql://…}; empty: C{snomprov.sqlite} in the
        data directory.
    @ivar keepEventsDays: events older than this many days are deleted in
        the background (L{snomprov.store.retention}); C{0}: kept forever.
    """

    url: str = ""
    keepEventsDays: int = 90


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SIPConfig:
    """
    @ivar sharePort: whether the SIP socket may share its UDP port with
        other sockets (C{SO_REUSEADDR} and C{SO_REUSEPORT}); C{False}: a port
        another process holds (a PBX on 5060) is refused at start, so that
        neither loses packets to the other.
    @ivar vendorPorts: whether plug-and-play also listens on the UDP ports
        the installed vendors ask for (L{snomprov.interfaces.ISIPPortsVendor}:
        Yealink's 5059); C{False}: only on C{port}.
    """

    enabled: bool = True
    port: int = 5060
    group: str = "224.0.1.75"
    interfaces: tuple[str, ...] = ()
    allowedNetworks: tuple[IPNetwork, ...] = ()
    ratePerSource: float = 20.0
    rateBurst: int = 40
    maxTransactions: int = 65536
    pollInterval: float = 0.002
    sharePort: bool = False
    vendorPorts: bool = True


@dataclass(frozen=True)
class HTTPConfig:
    """
    @ivar clientCA: absolute path of a PEM bundle of CA certificates, or
        C{""}.  When set, every C{ssl:} listener requires a client
        certificate signed by one of them, and per-device files are served
        only to a client certificate naming that device's MAC.
    @ivar maxBody: the largest request body (bytes) accepted on a
        phone-facing path; a larger one is answered 413 before it is stored.
    @ivar headerTimeout: seconds a connection has to complete its request
        headers (from its opening, or from the end of its previous
        request); then it is closed.
    @ivar connectionsPerAddress: connections one client address may hold
        open at once on C{[http] listen}; more are closed at once.
    @ivar backlog: connections the kernel keeps waiting to be accepted, per
        listener (C{backlog=} of the descriptions that take one and set
        none; L{snomprov.web.backlog}).  Linux caps it at
        C{net.core.somaxconn}.
    @ivar accessLog: whether every request is a line of the log (Twisted's
        combined log format); each fetch is an event in the store anyway.
    @ivar allowedNetworks: sources whose requests count as the C{network}
        proof (DESIGN §5): a per-device file asked from inside them carries
        its secrets.
    """

    listen: tuple[str, ...] = ("tcp:8080",)
    allowedNetworks: tuple[IPNetwork, ...] = ()
    clientCA: str = ""
    maxBody: int = 16 * 1024
    headerTimeout: float = 10.0
    connectionsPerAddress: int = 256
    backlog: int = 1024
    accessLog: bool = False


@dataclass(frozen=True)
class TFTPConfig:
    """
    @ivar allowedNetworks: when set, the only sources TFTP answers, and
        those whose requests count as the C{network} proof (DESIGN §5).
    """

    enabled: bool = True
    port: int = 6969
    allowedNetworks: tuple[IPNetwork, ...] = ()
    interface: str = ""
    advertise: str = ""
    maxTransfers: int = 256
    maxWaiting: int = 1024
    ratePerClient: float = 10.0
    transfersPerClient: int = 4


PROOFS = ("certificate", "token", "network", "pnp-address")
"""
The proofs that a request comes from a device (DESIGN §5), in the order
they are tried.
"""


@dataclass(frozen=True)
class ProvisioningConfig:
    """
    @ivar cacheEntries: the most renderings the provisioner keeps cached.
    @ivar cacheBytes: the most bytes of rendered content it keeps cached.
    @ivar newDevicesPerMinute: the most devices that requests of MACs not
        seen before may add (as C{seen}) in one minute; beyond, no row is
        added and one C{flood} event tells so for the minute.
    @ivar proofs: which proofs that a request comes from the device unlock
        its secrets (DESIGN §5; L{PROOFS}).
    @ivar withoutProof: what a request for a per-device file without a
        proof gets: C{"strip"}, the file without its secrets, or
        C{"reject"}, nothing (404, a TFTP error).
    @ivar tokenSeconds: how long a PnP NOTIFY's token is valid.
    @ivar tokenFetches: how many fetches one token proves (per daemon).
    @ivar pnpAddressSeconds: how long after its NOTIFY was acknowledged
        the address a phone used for PnP proves its requests.
    @ivar keyFile: the file holding the key tokens and credentials are
        made with (absolute once parsed; C{""}: C{provisioning.key} in
        C{data_dir}); created C{0600} with a random key when missing.
        Daemons sharing a store share it.
    """

    unknownDevices: str = "defaults"
    proofs: tuple[str, ...] = ("certificate", "token", "network", "pnp-address")
    withoutProof: str = "strip"
    tokenSeconds: float = 900.0
    tokenFetches: int = 20
    pnpAddressSeconds: float = 900.0
    keyFile: str = ""
    cacheEntries: int = 65536
    cacheBytes: int = 256 * 1024 * 1024
    newDevicesPerMinute: int = 20000


@dataclass(frozen=True)
class AdminConfig:
    """
    @ivar listen: Twisted endpoint descriptions the operators' paths
        (C{/api}, C{/metrics}, the pages) are served on, and only there;
        empty: on C{[http] listen}, beside the phone-facing paths.
    @ivar maxBody: the largest request body (bytes) accepted on an
        operators' path (C{/api}); the API's own per-endpoint limits apply
        below it.
    @ivar sessionIdle: seconds an operator's page session lives unused.
    """

    listen: tuple[str, ...] = ()
    maxBody: int = 17 * 1024 * 1024
    sessionIdle: float = 3600.0


LDAP_ATTRIBUTES = ("display_name", "extension", "email")
"""
The fields an C{[ldap]} look-up fills, each from the attribute
C{[ldap] attributes} names.
"""


@dataclass(frozen=True)
class LDAPConfig:
    """
    The C{[ldap]} table: the directory operators look users up in to
    pre-fill a registration; not used while C{url} is empty.

    @ivar url: C{ldap://host[:port]} or C{ldaps://host[:port]}.
    @ivar bindDN: empty: an anonymous search.
    @ivar bindPasswordFile: the file holding the bind password (absolute
        once parsed); the password itself is never in the configuration.
    @ivar filter: a search filter with C{{login}}, replaced by the login
        name escaped (RFC 4515).
    @ivar attributes: each of L{LDAP_ATTRIBUTES} to the attribute read.
    @ivar timeout: seconds a look-up may take before the form says the
        directory does not answer.
    """

    url: str = ""
    baseDN: str = ""
    bindDN: str = ""
    bindPasswordFile: str = ""
    filter: str = "(uid={login})"
    attributes: Mapping[str, str] = field(default_factory=lambda: {
        "display_name": "cn", "extension": "telephoneNumber", "email": "mail"})
    timeout: float = 3.0

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class VendorConfig:
    """
    A C{[vendors.<name>]} table.

    @ivar url: the ua-profile URL template, or C{None} for the vendor's default.
    @ivar options: the vendor's own keys, checked by L{checkVendorOptions}.
    """

    url: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PBXConfig:
    """
    One C{[[pbx]]} table: an account sink (DESIGN §8).

    @ivar kind: C{kamailio} or C{asterisk-pjsip}.
    @ivar name: unique among the tables (default: the kind, then
        C{<kind>-2}, ...).
    @ivar url: kamailio: the database, C{postgresql://...} or C{mysql://...}.
    @ivar domain: the realm (kamailio: C{subscriber.domain}, required;
        asterisk-pjsip: optional, default the line's registrar).
    @ivar passwords: kamailio: C{ha1} (hashes only) or C{plain}.
    @ivar path: asterisk-pjsip: the include file written.
    @ivar reload: asterisk-pjsip: the command (argument list) run after a
        change, or C{()}.
    """

    kind: str
    name: str = ""
    url: str = ""
    domain: str = ""
    passwords: str = "ha1"
    path: str = ""
    reload: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"PBXConfig(kind={self.kind!r}, name={self.name!r}, url={maskURL(self.url)!r}, "
                f"domain={self.domain!r}, passwords={self.passwords!r}, path={self.path!r}, "
                f"reload={self.reload!r})")


def maskURL(url: str) -> str:
    """
    A URL with the password of its user part (C{user:secret@}) replaced by
    C{***}, for logs and C{check}.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:***@{host}{slash}{path}"


def _defaultStoreURL(dataDir: str) -> str:
    return "sqlite:" + os.path.join(dataDir, "snomprov.sqlite")


@dataclass(frozen=True)
class Config:
    """
    The whole configuration.

    @ivar source: the file it came from, or C{"<defaults>"}.
    """

    server: ServerConfig = ServerConfig()
    store: StoreConfig = StoreConfig()
    sip: SIPConfig = SIPConfig()
    http: HTTPConfig = HTTPConfig()
    tftp: TFTPConfig = TFTPConfig()
    provisioning: ProvisioningConfig = ProvisioningConfig()
    admin: AdminConfig = AdminConfig()
    ldap: LDAPConfig = LDAPConfig()
    vendors: Mapping[str, VendorConfig] = field(default_factory=dict)
    source: str = "<defaults>"
    pbx: tuple[PBXConfig, ...] = ()

    def vendor(self, name: str) -> VendorConfig:
        return self.vendors.get(name, VendorConfig())

    def replaceIn(self, section: str, **changes: Any) -> "Config":
        """
        A copy with some keys of one section changed (command-line overrides).
        """
        return replace(self, **{section: replace(getattr(self, section), **changes)})

    @property
    def storeURL(self) -> str:
        """
        The store to open: C{[store] url}, or SQLite in the data directory.
        """
        return self.store.url or _defaultStoreURL(self.server.dataDir)

    def withDataDir(self, dataDir: str) -> "Config":
        """
        A copy with another data directory (C{--data-dir}); a store that was
        the default one in the old data directory moves with it.
        """
        config = self.replaceIn("server", dataDir=dataDir)
        if self.store.url == _defaultStoreURL(self.server.dataDir):
            config = config.replaceIn("store", url=_defaultStoreURL(dataDir))
        return config

    @property
    def keyPath(self) -> str:
        """
        The file of the key provisioning tokens and credentials are made
        with (C{[provisioning] key_file}, else in C{data_dir}).
        """
        return self.provisioning.keyFile or os.path.join(self.server.dataDir, "provisioning.key")

    @property
    def tftpServer(self) -> str:
        """
        C{host[:port]} of our TFTP service as phones reach it: the port is
        written whenever it is not 69.
        """
        host = self.tftp.advertise or urlsplit(self.server.baseURL).hostname or "127.0.0.1"
        return host if self.tftp.port == 69 else f"{host}:{self.tftp.port}"

    @property
    def tftpHost(self) -> str:
        return self.tftp.advertise or urlsplit(self.server.baseURL).hostname or "127.0.0.1"


# -- validators: each returns the converted value or raises ValueError(reason)


def _port(value: int) -> int:
    if not 0 <= value <= 65535:
        raise ValueError(f"{value} is not a port number (0-65535)")
    return value


def _positive(value: int | float) -> int | float:
    if value <= 0:
        raise ValueError(f"{value} must be greater than 0")
    return value


def _days(value: int) -> int:
    if not 0 <= value <= 36500:
        raise ValueError(f"{value} is not a number of days from 0 to 36500 (0: keep forever)")
    return value


def _atLeast(least: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value < least:
            raise ValueError(f"{value} must be at least {least}")
        return value

    return check


def _backlog(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a listen backlog (1-65535 connections)")
    return value


def _nonNegative(value: int) -> int:
    if value < 0:
        raise ValueError(f"{value} must be 0 or more")
    return value


def _sessionIdle(value: int | float) -> float:
    if not 60 <= value <= 7 * 86400:
        raise ValueError(f"{value} is not a number of seconds from 60 to 604800 (a week)")
    return float(value)


def _ldapURL(value: str) -> str:
    if value == "":
        return value
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("ldap", "ldaps") or not parts.hostname or port == -1 \
            or parts.path not in ("", "/") or parts.query or parts.username:
        raise ValueError(f"{value!r} is not ldap://host[:port] or ldaps://host[:port]")
    return value


def _ldapFilter(value: str) -> str:
    if "{login}" not in value:
        raise ValueError(f"{value!r} has no {{login}} (where the login name goes)")
    from ldaptor.ldapfilter import InvalidLDAPFilter, parseFilter

    try:
        parseFilter(value.replace("{login}", "x"))
    except (InvalidLDAPFilter, Exception) as e:
        raise ValueError(f"{value!r} is not an LDAP search filter: {e}") from None
    return value


_LDAP_ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,63}$")


def _ldapAttributes(value: dict) -> dict:
    unknown = sorted(set(value) - set(LDAP_ATTRIBUTES))
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (fields: {', '.join(LDAP_ATTRIBUTES)})")
    for name, attribute in value.items():
        if not isinstance(attribute, str) or not _LDAP_ATTRIBUTE.match(attribute):
            raise ValueError(f"{name}: {attribute!r} is not an attribute name")
    return dict(value)


def _ldapTimeout(value: int | float) -> float:
    if not 0 < value <= 30:
        raise ValueError(f"{value} is not a number of seconds above 0 and at most 30")
    return float(value)


def _pollInterval(value: int | float) -> float:
    if not 0 <= value <= 1:
        raise ValueError(f"{value} is not a number of seconds from 0 to 1 (like 0.002; 0: no polling)")
    return float(value)


def _baseURL(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL with a host")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not have a query or fragment")
    return value.rstrip("/")


def _ipv4(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 address") from None
    return value


def _ipv4OrEmpty(value: str) -> str:
    return _ipv4(value) if value else value


def _multicastGroup(value: str) -> str:
    if not ipaddress.IPv4Address(_ipv4(value)).is_multicast:
        raise ValueError(f"{value!r} is not a multicast group")
    return value


def _cidr(value: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR network (like 192.0.2.0/24)") from None


def _endpoint(value: str) -> str:
    from twisted.internet.endpoints import serverFromString

    try:
        # The reactor is not touched until listen(); this checks the
        # description's syntax, plugin and arguments (and TLS files).
        serverFromString(_NoReactor(), value)
    except Exception as e:
        raise ValueError(f"{value!r} is not a server endpoint description: {e}") from None
    return value


class _NoReactor:
    """
    Stands for the reactor while an endpoint description is checked.
    """


def _oneOf(*allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    return check


def _storeURL(value: str) -> str:
    try:
        parseStoreURL(value, "/")
    except ValueError as e:
        raise ValueError(f"{maskURL(value)!r} {e}") from None
    return value


def _urlTemplate(value: str) -> str:
    if "://" not in value and not value.startswith("{base_url}"):
        raise ValueError(f"{value!r} is not a URL template (no scheme)")
    return value


class _Key:
    """
    One known key: its TOML type, the attribute it fills and a validator.
    """

    def __init__(
        self,
        attr: str,
        kind: type | tuple[type, ...],
        check: Callable[[Any], Any] | None = None,
        listOf: bool = False,
    ) -> None:
        self.attr = attr
        self.kind = kind
        self.check = check
        self.listOf = listOf

    def convert(self, value: Any) -> Any:
        if self.listOf:
            if not isinstance(value, list):
                raise TypeError(f"expected a list of {_typeName(self.kind)}, got {_typeName(type(value))}")
            return tuple(self._one(item) for item in value)
        return self._one(value)

    def _one(self, value: Any) -> Any:
        if not _isInstance(value, self.kind):
            raise TypeError(f"expected {_typeName(self.kind)}, got {_typeName(type(value))} {value!r}")
        return self.check(value) if self.check else value


def _isInstance(value: Any, kind: type | tuple[type, ...]) -> bool:
    # TOML booleans are not integers here.
    if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        return False
    return isinstance(value, kind)


def _typeName(kind: Any) -> str:
    names = {str: "a string", int: "an integer", bool: "a boolean", float: "a number",
             list: "a list", dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, getattr(kind, "__name__", str(kind)))


_SECTIONS: dict[str, tuple[type, dict[str, _Key]]] = {
    "server": (ServerConfig, {
        "base_url": _Key("baseURL", str, _baseURL),
        "data_dir": _Key("dataDir", str),
        "log_field_length": _Key("logFieldLength", int, _atLeast(16)),
    }),
    "store": (StoreConfig, {
        "url": _Key("url", str, _storeURL),
        "keep_events_days": _Key("keepEventsDays", int, _days),
    }),
    "sip": (SIPConfig, {
        "enabled": _Key("enabled", bool),
        "port": _Key("port", int, _port),
        "group": _Key("group", str, _multicastGroup),
        "interfaces": _Key("interfaces", str, _ipv4, listOf=True),
        "allowed_networks": _Key("allowedNetworks", str, _cidr, listOf=True),
        "rate_per_source": _Key("ratePerSource", (int, float), _positive),
        "rate_burst": _Key("rateBurst", int, _positive),
        "max_transactions": _Key("maxTransactions", int, _positive),
        "poll_interval": _Key("pollInterval", (int, float), _pollInterval),
        "share_port": _Key("sharePort", bool),
        "vendor_ports": _Key("vendorPorts", bool),
    }),
    "http": (HTTPConfig, {
        # Endpoints are checked once their file paths are resolved
        # (L{_listenProblems}).
        "listen": _Key("listen", str, listOf=True),
        "allowed_networks": _Key("allowedNetworks", str, _cidr, listOf=True),
        "client_ca": _Key("clientCA", str),
        "max_body": _Key("maxBody", int, _atLeast(0)),
        "header_timeout": _Key("headerTimeout", (int, float), _positive),
        "connections_per_address": _Key("connectionsPerAddress", int, _positive),
        "backlog": _Key("backlog", int, _backlog),
        "access_log": _Key("accessLog", bool),
    }),
    "tftp": (TFTPConfig, {
        "enabled": _Key("enabled", bool),
        "port": _Key("port", int, _port),
        "allowed_networks": _Key("allowedNetworks", str, _cidr, listOf=True),
        "interface": _Key("interface", str, _ipv4OrEmpty),
        "advertise": _Key("advertise", str),
        "max_transfers": _Key("maxTransfers", int, _positive),
        "max_waiting": _Key("maxWaiting", int, _nonNegative),
        "rate_per_client": _Key("ratePerClient", (int, float), _positive),
        "transfers_per_client": _Key("transfersPerClient", int, _positive),
    }),
    "provisioning": (ProvisioningConfig, {
        "unknown_devices": _Key("unknownDevices", str, _oneOf("defaults", "reject")),
        "proofs": _Key("proofs", str, _oneOf(*PROOFS), listOf=True),
        "without_proof": _Key("withoutProof", str, _oneOf("strip", "reject")),
        "token_seconds": _Key("tokenSeconds", (int, float), _positive),
        "token_fetches": _Key("tokenFetches", int, _positive),
        "pnp_address_seconds": _Key("pnpAddressSeconds", (int, float), _positive),
        "key_file": _Key("keyFile", str),
        "cache_entries": _Key("cacheEntries", int, _positive),
        "cache_bytes": _Key("cacheBytes", int, _atLeast(4096)),
        "new_devices_per_minute": _Key("newDevicesPerMinute", int, _positive),
    }),
    "admin": (AdminConfig, {
        "listen": _Key("listen", str, listOf=True),
        "max_body": _Key("maxBody", int, _atLeast(0)),
        "session_idle": _Key("sessionIdle", (int, float), _sessionIdle),
    }),
    "ldap": (LDAPConfig, {
        "url": _Key("url", str, _ldapURL),
        "base_dn": _Key("baseDN", str),
        "bind_dn": _Key("bindDN", str),
        "bind_password_file": _Key("bindPasswordFile", str),
        "filter": _Key("filter", str, _ldapFilter),
        "attributes": _Key("attributes", dict, _ldapAttributes),
        "timeout": _Key("timeout", (int, float), _ldapTimeout),
    }),
}


def parseConfig(
    text: str, source: str = "<string>", baseDir: str | None = None, dataDir: str | None = None
) -> Config:
    """
    Parse the text of a configuration file.

    C{data_dir}, C{client_ca} and a C{sqlite:} store path come out absolute;
    an unset C{[store] url} comes out as C{snomprov.sqlite} in the data
    directory, so that the result names the store it means.

    @param source: the file name used in error lines.
    @param baseDir: the directory relative paths are resolved against
        (the config file's directory); C{None}: the current directory.
    @param dataDir: the data directory when the text sets no
        C{server.data_dir}; C{None}: C{var} under C{baseDir}.
    @raise ConfigError: with every problem found.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{source}: not valid TOML: {e}"]) from None
    problems: list[str] = []
    sections: dict[str, Any] = {}
    vendors: dict[str, VendorConfig] = {}
    pbx: tuple[PBXConfig, ...] = ()
    for name, table in raw.items():
        if name == "vendors":
            vendors = _parseVendors(table, source, problems)
            continue
        if name == "pbx":
            pbx = _parsePBX(table, source, problems, baseDir or os.getcwd())
            continue
        if name not in _SECTIONS:
            known = ", ".join([*_SECTIONS, "vendors", "pbx"])
            problems.append(f"{source}: [{name}]: unknown section (known: {known})")
            continue
        if not isinstance(table, dict):
            problems.append(f"{source}: {name}: expected a table, got {_typeName(type(table))}")
            continue
        cls, keys = _SECTIONS[name]
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in keys:
                problems.append(f"{source}: {name}.{key}: unknown key (known: {', '.join(keys)})")
                continue
            try:
                values[keys[key].attr] = keys[key].convert(value)
            except (TypeError, ValueError) as e:
                problems.append(f"{source}: {name}.{key}: {e}")
        sections[name] = cls(**values)
    config = Config(**sections, vendors=vendors, source=source, pbx=pbx)
    if dataDir is not None and not _setsDataDir(raw):
        config = config.replaceIn("server", dataDir=dataDir)
    absoluteDataDir = os.path.join(baseDir or os.getcwd(), config.server.dataDir)
    config = config.replaceIn("server", dataDir=os.path.normpath(absoluteDataDir))
    config = config.replaceIn("store", url=_absoluteStoreURL(config, baseDir or os.getcwd()))
    problems.extend(f"{source}: server.data_dir: {p}" for p in _dataDirProblems(config.server.dataDir))
    if config.provisioning.keyFile:
        keyFile = os.path.normpath(os.path.join(baseDir or os.getcwd(), config.provisioning.keyFile))
        config = config.replaceIn("provisioning", keyFile=keyFile)
    if config.http.clientCA:
        clientCA = os.path.normpath(os.path.join(baseDir or os.getcwd(), config.http.clientCA))
        config = config.replaceIn("http", clientCA=clientCA)
        problems.extend(f"{source}: http.client_ca: {p}" for p in _clientCAProblems(clientCA))
    for section in ("http", "admin"):
        listen = tuple(_resolveTLSPaths(d, baseDir or os.getcwd()) for d in getattr(config, section).listen)
        config = config.replaceIn(section, listen=listen)
        problems.extend(f"{source}: {section}.listen: {p}" for p in _listenProblems(config, section))
    problems.extend(f"{source}: admin.listen: {p}" for p in _adminListenProblems(config))
    if config.ldap.bindPasswordFile:
        path = os.path.normpath(os.path.join(baseDir or os.getcwd(), config.ldap.bindPasswordFile))
        config = config.replaceIn("ldap", bindPasswordFile=path)
    problems.extend(f"{source}: ldap.{p}" for p in _ldapProblems(config.ldap))
    if problems:
        raise ConfigError(problems, config)
    return config


_TLS_FILE_ARGUMENTS = ("privateKey", "certKey", "extraCertChain", "dhParameters", "caCertsDir")


def _resolveTLSPaths(description: str, baseDir: str) -> str:
    """
    An C{ssl:} description with its relative file arguments
    (C{privateKey=}, C{certKey=}, C{extraCertChain=}, C{dhParameters=},
    C{caCertsDir=}) made absolute against C{baseDir} (the config file's
    directory); any other description unchanged.
    """
    from .web.tls import isTLSDescription

    if not isTLSDescription(description):
        return description
    parts = re.split(r"(?<!\\):", description)
    for index, part in enumerate(parts[1:], 1):
        name, equals, value = part.partition("=")
        if equals and name in _TLS_FILE_ARGUMENTS and value:
            path = value.replace("\\:", ":")
            if not os.path.isabs(path):
                path = os.path.normpath(os.path.join(baseDir, path))
                parts[index] = f"{name}=" + path.replace(":", "\\:")
    return ":".join(parts)


def _listenProblems(config: Config, section: str) -> list[str]:
    """
    Each description of C{[section] listen} must be a server endpoint
    (its TLS files readable); with C{[http] client_ca}, an C{ssl:} one of
    C{[http] listen} must not set C{sslmethod} (the client CA's TLS
    options cannot take one).
    """
    from .web.tls import isTLSDescription, mutualTLSProblem

    problems = []
    for description in getattr(config, section).listen:
        try:
            _endpoint(description)
        except ValueError as e:
            problems.append(str(e))
            continue
        if section == "http" and config.http.clientCA and isTLSDescription(description):
            problem = mutualTLSProblem(description)
            if problem is not None:
                problems.append(problem)
    return problems


def _adminListenProblems(config: Config) -> list[str]:
    """
    An C{[admin] listen} description that C{[http] listen} has too would
    bind the same port twice.
    """
    return [
        f"{description!r} is also in [http] listen; leave [admin] listen empty to serve "
        f"operators on the phones' listeners"
        for description in config.admin.listen
        if description in config.http.listen
    ]


def _setsDataDir(raw: Mapping[str, Any]) -> bool:
    server = raw.get("server")
    return isinstance(server, dict) and "data_dir" in server


def _absoluteStoreURL(config: Config, baseDir: str) -> str:
    url = config.store.url
    if not url:
        return _defaultStoreURL(config.server.dataDir)
    if url.startswith("sqlite:") and url != "sqlite::memory:":
        return "sqlite:" + os.path.normpath(os.path.join(baseDir, url[len("sqlite:"):]))
    return url


def _parseVendors(table: Any, source: str, problems: list[str]) -> dict[str, VendorConfig]:
    if not isinstance(table, dict):
        problems.append(f"{source}: vendors: expected a table of [vendors.<name>] tables")
        return {}
    vendors = {}
    for name, options in table.items():
        if not isinstance(options, dict):
            problems.append(f"{source}: vendors.{name}: expected a table, got {_typeName(type(options))}")
            continue
        options = dict(options)
        url = options.pop("url", None)
        if url is not None:
            try:
                url = _Key("url", str, _urlTemplate).convert(url)
            except (TypeError, ValueError) as e:
                problems.append(f"{source}: vendors.{name}.url: {e}")
        vendors[name] = VendorConfig(url=url, options=options)
    return vendors


def _pbxURL(value: str) -> str:
    scheme = value.partition("://")[0]
    if scheme not in ("postgresql", "postgres", "mysql") or "://" not in value:
        raise ValueError(f"{maskURL(value)!r}: expected postgresql://… or mysql://…")
    return value


def _nonEmpty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


_PBX_KEYS: dict[str, dict[str, _Key]] = {
    "kamailio": {
        "kind": _Key("kind", str),
        "name": _Key("name", str, _nonEmpty),
        "url": _Key("url", str, _pbxURL),
        "domain": _Key("domain", str, _nonEmpty),
        "passwords": _Key("passwords", str, _oneOf("ha1", "plain")),
    },
    "asterisk-pjsip": {
        "kind": _Key("kind", str),
        "name": _Key("name", str, _nonEmpty),
        "path": _Key("path", str, _nonEmpty),
        "reload": _Key("reload", str, listOf=True),
        "domain": _Key("domain", str),
    },
}
_PBX_REQUIRED = {"kamailio": ("url", "domain"), "asterisk-pjsip": ("path",)}


def _parsePBX(tables: Any, source: str, problems: list[str], baseDir: str) -> tuple[PBXConfig, ...]:
    """
    The C{[[pbx]]} array of tables; problems name the table by its place
    (from 1) and the key: C{[[pbx]] 2: unknown key 'urll'}.
    """
    if not isinstance(tables, list):
        problems.append(f"{source}: pbx: expected an array of tables ([[pbx]]), got {_typeName(type(tables))}")
        return ()
    found: list[PBXConfig] = []
    names: set[str] = set()
    for number, table in enumerate(tables, 1):
        where = f"{source}: [[pbx]] {number}"
        if not isinstance(table, dict):
            problems.append(f"{where}: expected a table, got {_typeName(type(table))}")
            continue
        kind = table.get("kind")
        if kind not in _PBX_KEYS:
            problems.append(f"{where}: kind: expected one of {', '.join(_PBX_KEYS)}, got {kind!r}")
            continue
        keys = _PBX_KEYS[kind]
        values: dict[str, Any] = {}
        bad = False
        for key, value in table.items():
            if key not in keys:
                problems.append(f"{where}: unknown key {key!r} for kind {kind!r} (known: {', '.join(keys)})")
                bad = True
                continue
            try:
                values[keys[key].attr] = keys[key].convert(value)
            except (TypeError, ValueError) as e:
                problems.append(f"{where}: {key}: {e}")
                bad = True
        for key in _PBX_REQUIRED[kind]:
            if key not in table:
                problems.append(f"{where}: {key}: required for kind {kind!r}")
                bad = True
        if bad:
            continue
        if "path" in values:
            values["path"] = os.path.normpath(os.path.join(baseDir, values["path"]))
        name = values.get("name")
        if name is None:
            name, n = kind, 1
            while name in names:
                n += 1
                name = f"{kind}-{n}"
            values["name"] = name
        elif name in names:
            problems.append(f"{where}: name: {name!r} is the name of another [[pbx]] table")
            continue
        names.add(name)
        found.append(PBXConfig(**values))
    return tuple(found)


def _dataDirProblems(path: str) -> list[str]:
    """
    The data directory must be a writable directory, or creatable.
    """
    if os.path.isdir(path):
        return [] if os.access(path, os.W_OK | os.X_OK) else [f"{path!r} is not writable"]
    if os.path.exists(path):
        return [f"{path!r} exists and is not a directory"]
    parent = os.path.dirname(path.rstrip(os.sep)) or "."
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        return [f"{path!r} does not exist and cannot be created under {parent!r}"]
    return []


def _ldapProblems(ldap: LDAPConfig) -> list[str]:
    """
    A directory to use needs its base; a bind DN needs a readable password
    file (read again when the directory is opened; never shown).
    """
    if not ldap.enabled:
        return []
    problems = []
    if not ldap.baseDN.strip():
        problems.append("base_dn: required with [ldap] url (where users are searched)")
    if ldap.bindDN and not ldap.bindPasswordFile:
        problems.append("bind_password_file: required with [ldap] bind_dn")
    elif ldap.bindPasswordFile and not os.access(ldap.bindPasswordFile, os.R_OK):
        problems.append(f"bind_password_file: {ldap.bindPasswordFile!r} cannot be read")
    return problems


def _clientCAProblems(path: str) -> list[str]:
    """
    The client CA bundle must be a readable PEM file with a certificate.
    """
    from .web.tls import loadCertificateAuthorities

    try:
        loadCertificateAuthorities(path)
    except OSError as e:
        return [f"{path!r}: cannot read: {e.strerror or e}"]
    except ValueError as e:
        return [str(e)]
    return []


def loadConfig(path: str | None, defaultDataDir: str | None = None) -> Config:
    """
    Read a configuration file; C{None} gives the defaults.

    @param defaultDataDir: with no file, the data directory (absolute); see
        L{snomprov.configpath.defaultDataDir}.  C{None}: C{var} in the
        current directory.
    @raise ConfigError: if the file cannot be read or is refused.
    """
    if path is None:
        return parseConfig("", source="<defaults>", dataDir=defaultDataDir)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    except UnicodeDecodeError as e:
        raise ConfigError([f"{path}: not UTF-8 text: {e}"]) from None
    return parseConfig(text, source=path, baseDir=os.path.dirname(os.path.abspath(path)))


def formatConfig(config: Config, vendorDefaults: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """
    A configuration as TOML that L{parseConfig} reads back into an equal
    L{Config} (but for C{source}): every key of every section, with the
    TOML key names, the resolved store URL, and the C{[vendors.<name>]}
    tables.

    @param vendorDefaults: vendor name to its default keys (C{url} and its
        options); a vendor without a table in C{config} is written as a
        commented-out table of these, which shows them and changes nothing.
    """
    lines = []
    for section, (_, keys) in _SECTIONS.items():
        value = getattr(config, section)
        if section == "ldap" and not value.enabled:
            lines.extend(["# [ldap] is not set: no directory look-up", ""])
            continue
        lines.append(f"[{section}]")
        for key, spec in keys.items():
            item = getattr(value, spec.attr)
            if section == "store" and key == "url":
                item = config.storeURL
            lines.append(f"{key} = {_tomlValue(item)}")
        lines.append("")
    for name, vendor in sorted(config.vendors.items()):
        lines.append(f"[vendors.{_tomlKey(name)}]")
        if vendor.url is not None:
            lines.append(f"url = {_tomlValue(vendor.url)}")
        for key, item in vendor.options.items():
            lines.append(f"{_tomlKey(key)} = {_tomlValue(item)}")
        lines.append("")
    for table in config.pbx:
        lines.append("[[pbx]]")
        for key, spec in _PBX_KEYS[table.kind].items():
            item = getattr(table, spec.attr)
            if key == "url":
                item = maskURL(item)
            lines.append(f"{key} = {_tomlValue(item)}")
        lines.append("")
    for name, defaults in sorted((vendorDefaults or {}).items()):
        if name not in config.vendors:
            lines.append(f"# [vendors.{_tomlKey(name)}]  (no table: these are its defaults)")
            lines.extend(f"# {_tomlKey(key)} = {_tomlValue(item)}" for key, item in defaults.items())
            lines.append("")
    return "\n".join(lines)


def _tomlKey(key: str) -> str:
    if key and all(c.isascii() and (c.isalnum() or c in "-_") for c in key):
        return key
    return _tomlString(key)


def _tomlString(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    out = []
    for c in text:
        if c in escapes:
            out.append(escapes[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _tomlValue(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_tomlValue(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_tomlKey(k)} = {_tomlValue(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return _tomlString(str(value))
    if isinstance(value, str):
        return _tomlString(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def checkVendorOptions(config: Config, vendors: Mapping[str, Any]) -> list[str]:
    """
    Check each C{[vendors.<name>]} table against the vendor's
    C{optionTypes}; a table naming no known vendor is a problem too (the
    generic vendors a config defines must be among C{vendors}).

    @param vendors: vendor name to L{snomprov.interfaces.IVendor} provider.
    @return: one line per problem.
    """
    problems = []
    for name, vendorConfig in config.vendors.items():
        vendor = vendors.get(name)
        if vendor is None:
            problems.append(
                f"{config.source}: vendors.{name}: no such vendor (known: {', '.join(sorted(vendors))})"
            )
            continue
        for key, value in vendorConfig.options.items():
            kind = vendor.optionTypes.get(key)
            if kind is None:
                known = ", ".join(["url", *sorted(vendor.optionTypes)])
                problems.append(f"{config.source}: vendors.{name}.{key}: unknown key (known: {known})")
            elif not _isInstance(value, kind):
                problems.append(
                    f"{config.source}: vendors.{name}.{key}: expected {_typeName(kind)}, "
                    f"got {_typeName(type(value))} {value!r}"
                )
        # The server checks every ua-profile vendor's URL template; a vendor
        # may check its own values further (firmware tables, ...).
        if vendorConfig.url is not None and IUAProfileVendor.providedBy(vendor):
            problems.extend(f"{config.source}: vendors.{name}.url: {problem}"
                            for problem in checkURLTemplate(vendorConfig.url, vendor.phoneURLVariables))
        if IOptionsVendor.providedBy(vendor) and not any(
                p.startswith(f"{config.source}: vendors.{name}.") for p in problems):
            options = dict(vendorConfig.options)
            if vendorConfig.url is not None:
                options["url"] = vendorConfig.url
            problems.extend(f"{config.source}: vendors.{name}.{problem}"
                            for problem in vendor.checkOptions(options))
    return problems

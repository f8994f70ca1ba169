# -*- test-case-name: tests.test_dhcp,tests.test_dhcp_servers -*-
"""
DHCP snippets for ISC dhcpd, ISC Kea and dnsmasq.

The site's DHCP server, not snomprov, answers DHCP.  These writers turn the
vendors' L{DHCPRule}s (see L{snomprov.interfaces.IDHCPVendor}) and per-MAC
L{Reservation}s into text that an operator includes in that server's
configuration, so that phones get options 66 (TFTP server name), 67 (boot
file name), 150 (Cisco TFTP server addresses) and 159/160 (provisioning URL)
pointing at snomprov.

Each rule becomes one class (ISC, Kea) or tag (dnsmasq) named
C{snomprov-<rule name>}, matched by a prefix of option 60 (vendor class
identifier) I{or} by the OUI of the client's hardware address.  Each
reservation becomes a host entry named C{snomprov-<mac>} carrying its rule's
options, so that a registered phone gets them whatever its option 60 says.

Options are always sent, even when the client did not ask for them (its
parameter request list): Kea C{"always-send": true}, dnsmasq
C{dhcp-option-force}.  ISC dhcpd has no such switch: it sends what the
phone requests.

Everything here is pure: values in, text out.  A value that cannot be written
safely in a syntax (control characters, non-ASCII, an option too long, an
address that is not one) is refused with L{InvalidDHCPValue}, never written;
quotes and backslashes are escaped.

Known limits, each checked against the real servers (see the interop tests):
  - dnsmasq matches vendor classes as substrings, not prefixes.
  - Kea 2.2 cannot send a text option 159 (IANA assigned the code to RFC 7618
    and Kea refuses to redefine it), so the Kea snippet leaves 159 out and
    says so in a C{comment}.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from snomprov.device import DHCPRule, formatMAC, parseMAC

__all__ = [
    "FORMATS",
    "InvalidDHCPValue",
    "Reservation",
    "SUPPORTED_OPTIONS",
    "render",
    "renderDnsmasq",
    "renderISC",
    "renderKea",
]


class InvalidDHCPValue(ValueError):
    """
    A rule or reservation holds a value that cannot be written safely into a
    DHCP server's configuration.
    """


@dataclass(frozen=True)
class Reservation:
    """
    A host reservation for one registered device: its vendor's options go to
    this MAC even if the phone's option 60 is unusual.

    @ivar mac: the device's MAC, in any form L{parseMAC} accepts.
    @ivar hostname: a host name (one DNS label) to give it, or C{None}.
    @ivar rule: the rule of the device's vendor whose options it gets, or
        C{None} for a bare reservation (address and name only).
    @ivar ip: a fixed IPv4 address, or C{None} to let the server pick one.
    """

    mac: str
    hostname: str | None
    rule: DHCPRule | None
    ip: str | None = None


@dataclass(frozen=True)
class _OptionSpec:
    """
    How one DHCP option is written by each server.

    @ivar kind: C{"text"} or C{"addresses"} (a list of IPv4 addresses).
    @ivar isc: the ISC dhcpd option name.
    @ivar iscType: the ISC type for an C{option NAME code N = TYPE;}
        definition, or C{None} when dhcpd knows the option.
    @ivar kea: the Kea option name, or C{None} if Kea cannot send it.
    @ivar keaDefinition: the Kea C{option-def} entry, or C{None} when Kea
        knows the option.
    """

    code: int
    kind: str
    isc: str
    iscType: str | None
    kea: str | None
    keaDefinition: Mapping[str, object] | None


_OPTIONS: dict[int, _OptionSpec] = {
    spec.code: spec
    for spec in [
        _OptionSpec(66, "text", "tftp-server-name", None, "tftp-server-name", None),
        _OptionSpec(67, "text", "bootfile-name", None, "boot-file-name", None),
        _OptionSpec(
            150,
            "addresses",
            "snomprov-tftp-servers",
            "array of ip-address",
            "snomprov-tftp-servers",
            {"type": "ipv4-address", "array": True},
        ),
        _OptionSpec(159, "text", "snomprov-opt159", "text", None, None),
        _OptionSpec(
            160, "text", "snomprov-opt160", "text", "snomprov-opt160", {"type": "string"}
        ),
    ]
}

SUPPORTED_OPTIONS = tuple(sorted(_OPTIONS))
"""
The DHCP option codes a L{DHCPRule} may carry.
"""


# -- validation --------------------------------------------------------------

_PRINTABLE = re.compile(r"[\x20-\x7e]+")
_HOSTNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_OUI = re.compile(r"[0-9A-F]{6}")


def _text(value: object, what: str) -> str:
    """
    Check a text value: 1 to 255 printable ASCII characters (a DHCP option
    holds at most 255 bytes; control characters and newlines could break a
    configuration line).

    @raise InvalidDHCPValue: otherwise.
    """
    if not isinstance(value, str) or not _PRINTABLE.fullmatch(value):
        raise InvalidDHCPValue(
            f"{what}: {value!r} is not 1 to 255 printable ASCII characters"
        )
    if len(value) > 255:
        raise InvalidDHCPValue(f"{what}: {len(value)} characters, at most 255 fit an option")
    return value


def _addresses(value: object, what: str) -> tuple[str, ...]:
    """
    Parse a list of IPv4 addresses separated by commas and/or blanks.

    @raise InvalidDHCPValue: if it is empty or any item is not an address.
    """
    items = [item for item in re.split(r"[,\s]+", str(value)) if item]
    if not isinstance(value, str) or not items:
        raise InvalidDHCPValue(f"{what}: {value!r} is not a list of IPv4 addresses")
    return tuple(_ipv4(item, what) for item in items)


def _ipv4(value: object, what: str) -> str:
    """
    Check one IPv4 address in dotted-quad form.

    @raise InvalidDHCPValue: otherwise.
    """
    try:
        return str(ipaddress.IPv4Address(value))
    except (ipaddress.AddressValueError, ValueError):
        raise InvalidDHCPValue(f"{what}: {value!r} is not an IPv4 address") from None


def _oui(value: str, what: str) -> str:
    """
    Normalise an OUI to six upper-case hex digits (C{00:04:13}, C{00-04-13}
    and C{000413} are accepted).

    @raise InvalidDHCPValue: otherwise.
    """
    compact = re.sub(r"[:.\-]", "", str(value)).upper()
    if not _OUI.fullmatch(compact):
        raise InvalidDHCPValue(f"{what}: {value!r} is not an OUI")
    return compact


def _tag(name: object, what: str) -> str:
    """
    The class/tag name for a rule: C{snomprov-} and the name in lower case
    with every run of other characters than letters and digits made one
    C{-}.

    @raise InvalidDHCPValue: if nothing of the name is left.
    """
    core = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")
    if not core:
        raise InvalidDHCPValue(f"{what}: name {name!r} has no letter or digit")
    return f"snomprov-{core}"


# -- the checked model every writer renders ------------------------------------


@dataclass(frozen=True)
class _Option:
    spec: _OptionSpec
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class _Class:
    tag: str
    vendorClasses: tuple[str, ...]
    ouis: tuple[str, ...]
    options: tuple[_Option, ...]


@dataclass(frozen=True)
class _Host:
    tag: str
    mac: str
    hostname: str | None
    ip: str | None
    options: tuple[_Option, ...]


def _options(rule: DHCPRule, what: str) -> tuple[_Option, ...]:
    """
    Check a rule's options, ordered by code.

    @raise InvalidDHCPValue: for an unsupported code or a bad value.
    """
    checked = []
    for code in sorted(rule.options):
        spec = _OPTIONS.get(code)
        if spec is None:
            supported = ", ".join(map(str, SUPPORTED_OPTIONS))
            raise InvalidDHCPValue(
                f"{what}: option {code} is not supported (supported: {supported})"
            )
        value = rule.options[code]
        where = f"{what} option {code}"
        checked.append(
            _Option(
                spec,
                _addresses(value, where) if spec.kind == "addresses" else _text(value, where),
            )
        )
    return tuple(checked)


def _prepare(
    rules: Sequence[DHCPRule], reservations: Sequence[Reservation]
) -> tuple[list[_Class], list[_Host]]:
    """
    Check and normalise everything once, for all writers.

    Rules that match nothing (no vendor class, no OUI) give no class; their
    options still reach the reservations that name them.

    @raise InvalidDHCPValue: for any bad value, for two rules whose names
        give the same class name, or for a MAC reserved twice.
    """
    classes: list[_Class] = []
    seen: dict[str, str] = {}
    for rule in rules:
        what = f"DHCP rule {rule.name!r}"
        tag = _tag(rule.name, what)
        if tag in seen:
            raise InvalidDHCPValue(
                f"{what}: its class name {tag} is also that of rule {seen[tag]!r}"
            )
        seen[tag] = rule.name
        vendorClasses = tuple(
            _text(prefix, f"{what} vendor class") for prefix in rule.vendorClasses
        )
        ouis = tuple(_oui(oui, f"{what} OUI") for oui in rule.ouis)
        options = _options(rule, what)
        if vendorClasses or ouis:
            classes.append(_Class(tag, vendorClasses, ouis, options))
    hosts: list[_Host] = []
    macs: set[str] = set()
    for reservation in reservations:
        try:
            mac = parseMAC(reservation.mac)
        except ValueError as e:
            raise InvalidDHCPValue(f"reservation: {e}") from None
        what = f"reservation {mac}"
        if mac in macs:
            raise InvalidDHCPValue(f"{what}: MAC reserved twice")
        macs.add(mac)
        hostname = reservation.hostname
        if hostname is not None and not _HOSTNAME.fullmatch(hostname):
            raise InvalidDHCPValue(
                f"{what}: host name {hostname!r} is not one DNS label "
                "(letters, digits, '-', at most 63)"
            )
        ip = None if reservation.ip is None else _ipv4(reservation.ip, what)
        options = () if reservation.rule is None else _options(reservation.rule, what)
        hosts.append(_Host(f"snomprov-{mac.lower()}", mac, hostname, ip, options))
    return classes, hosts


# -- ISC dhcpd -----------------------------------------------------------------


def _iscString(text: str) -> str:
    """
    A checked text as an ISC dhcpd string literal.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _iscOption(option: _Option) -> str:
    """
    One C{option NAME VALUE;} statement.
    """
    if isinstance(option.value, tuple):
        value = ", ".join(option.value)
    else:
        value = _iscString(option.value)
    return f"option {option.spec.isc} {value};"


def _usedSpecs(classes: list[_Class], hosts: list[_Host]) -> list[_OptionSpec]:
    """
    The specs of all options used anywhere, ordered by code.
    """
    specs = {o.spec.code: o.spec for entry in [*classes, *hosts] for o in entry.options}
    return [specs[code] for code in sorted(specs)]


def renderISC(rules: Sequence[DHCPRule], reservations: Sequence[Reservation] = ()) -> str:
    """
    Write a snippet for ISC dhcpd's C{dhcpd.conf}, to include at global
    scope (outside any C{subnet}).

    It defines the options dhcpd does not know (150, 159, 160) under
    C{snomprov-} names, declares one C{class} per rule matched by option 60
    prefix or hardware OUI, and one C{host} per reservation.

    @raise InvalidDHCPValue: for a value that cannot be written safely.
    """
    classes, hosts = _prepare(rules, reservations)
    out = [
        "# DHCP options for snomprov, for ISC dhcpd.",
        '# Include at global scope of dhcpd.conf: include "/etc/dhcp/snomprov.conf";',
    ]
    for spec in _usedSpecs(classes, hosts):
        if spec.iscType is not None:
            out.append(f"option {spec.isc} code {spec.code} = {spec.iscType};")
    for klass in classes:
        tests = [
            f"substring(option vendor-class-identifier, 0, {len(prefix)}) = "
            f"{_iscString(prefix)}"
            for prefix in klass.vendorClasses
        ] + [
            f"substring(hardware, 1, 3) = {formatMAC(oui + '000000', lower=True)[:8]}"
            for oui in klass.ouis
        ]
        out.append("")
        out.append(f'class "{klass.tag}" {{')
        out.append("  match if " + "\n        or ".join(f"({test})" for test in tests) + ";")
        out.extend(f"  {_iscOption(option)}" for option in klass.options)
        out.append("}")
    for host in hosts:
        out.append("")
        out.append(f"host {host.tag} {{")
        out.append(f"  hardware ethernet {formatMAC(host.mac, lower=True)};")
        if host.ip is not None:
            out.append(f"  fixed-address {host.ip};")
        if host.hostname is not None:
            out.append(f"  option host-name {_iscString(host.hostname)};")
        out.extend(f"  {_iscOption(option)}" for option in host.options)
        out.append("}")
    return "\n".join(out) + "\n"


# -- Kea -----------------------------------------------------------------------

_KEA_PLAIN = re.compile(r"[A-Za-z0-9 ._:/+-]*")


def _keaLiteral(text: str) -> str:
    """
    A checked text as a Kea expression literal: C{'text'} when that is
    unambiguous, else hex (Kea's quoted strings have no escapes).
    """
    if _KEA_PLAIN.fullmatch(text):
        return f"'{text}'"
    return "0x" + text.encode("ascii").hex()


def _keaData(option: _Option) -> str:
    """
    An option's C{data} in Kea's comma-separated form: in a text, C{\\} and
    C{,} are escaped with C{\\} (Kea splits C{data} at commas).
    """
    if isinstance(option.value, tuple):
        return ", ".join(option.value)
    return option.value.replace("\\", "\\\\").replace(",", "\\,")


def _keaOptionData(options: tuple[_Option, ...]) -> tuple[list[dict[str, object]], list[int]]:
    """
    Kea C{option-data} entries, and the codes Kea cannot send.
    """
    data: list[dict[str, object]] = []
    dropped: list[int] = []
    for option in options:
        if option.spec.kea is None:
            dropped.append(option.spec.code)
            continue
        data.append(
            {
                "name": option.spec.kea,
                "code": option.spec.code,
                "data": _keaData(option),
                "always-send": True,
            }
        )
    return data, dropped


def _keaEntry(entry: dict[str, object], options: tuple[_Option, ...]) -> dict[str, object]:
    """
    Add C{option-data} (and a C{comment} for what had to be left out) to a
    Kea class or reservation.
    """
    data, dropped = _keaOptionData(options)
    if data:
        entry["option-data"] = data
    if dropped:
        codes = ", ".join(map(str, dropped))
        entry["comment"] = (
            f"snomprov: option {codes} left out: Kea cannot send it as text "
            "(code 159 is RFC 7618's and cannot be redefined)"
        )
    return entry


def renderKea(rules: Sequence[DHCPRule], reservations: Sequence[Reservation] = ()) -> str:
    """
    Write a JSON object to merge into Kea's C{Dhcp4}: C{client-classes} (one
    per rule), C{reservations} (global host reservations, with
    C{reservations-global} on) and C{option-def} for the options Kea does
    not know (150, 160).  Keys with nothing to say are left out.

    @raise InvalidDHCPValue: for a value that cannot be written safely.
    """
    classes, hosts = _prepare(rules, reservations)
    result: dict[str, object] = {}
    definitions = [
        {"name": spec.kea, "code": spec.code, "space": "dhcp4", **spec.keaDefinition}
        for spec in _usedSpecs(classes, hosts)
        if spec.kea is not None and spec.keaDefinition is not None
    ]
    if definitions:
        result["option-def"] = definitions
    result["client-classes"] = [
        _keaEntry(
            {
                "name": klass.tag,
                "test": " or ".join(
                    [
                        f"(substring(option[60].hex,0,{len(prefix)}) == {_keaLiteral(prefix)})"
                        for prefix in klass.vendorClasses
                    ]
                    + [f"(substring(pkt4.mac,0,3) == 0x{oui})" for oui in klass.ouis]
                ),
            },
            klass.options,
        )
        for klass in classes
    ]
    if hosts:
        result["reservations-global"] = True
        result["reservations"] = [
            _keaEntry(
                {
                    "hw-address": formatMAC(host.mac, lower=True),
                    **({"hostname": host.hostname} if host.hostname is not None else {}),
                    **({"ip-address": host.ip} if host.ip is not None else {}),
                },
                host.options,
            )
            for host in hosts
        ]
    return json.dumps(result, indent=2) + "\n"


# -- dnsmasq -------------------------------------------------------------------


def _dnsmasqString(text: str) -> str:
    """
    A checked text quoted for a dnsmasq configuration file: inside quotes
    C{,:.#} lose their meaning and C{\\} and C{"} are escaped.
    """
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dnsmasqOptions(tag: str, options: tuple[_Option, ...]) -> list[str]:
    """
    C{dhcp-option-force} lines for a tag.  Texts are quoted, which also makes
    dnsmasq send an address-like text (C{"192.0.2.10"} in option 66) as text.
    """
    lines = []
    for option in options:
        if isinstance(option.value, tuple):
            value = ",".join(option.value)
        else:
            value = _dnsmasqString(option.value)
        lines.append(f"dhcp-option-force=tag:{tag},{option.spec.code},{value}")
    return lines


def renderDnsmasq(
    rules: Sequence[DHCPRule], reservations: Sequence[Reservation] = ()
) -> str:
    """
    Write a dnsmasq configuration snippet (for C{conf-file=} or
    C{/etc/dnsmasq.d/}): one tag per rule set by C{dhcp-vendorclass} and
    C{dhcp-mac}, one tag per reservation set by C{dhcp-host}, and
    C{dhcp-option-force} lines for each tag.

    @raise InvalidDHCPValue: for a value that cannot be written safely.
    """
    classes, hosts = _prepare(rules, reservations)
    out = [
        "# DHCP options for snomprov, for dnsmasq (conf-file= or /etc/dnsmasq.d/).",
        "# dnsmasq matches vendor classes as substrings.",
    ]
    for klass in classes:
        out.append("")
        out.extend(
            f"dhcp-vendorclass=set:{klass.tag},{_dnsmasqString(prefix)}"
            for prefix in klass.vendorClasses
        )
        out.extend(
            f"dhcp-mac=set:{klass.tag},{formatMAC(oui + '000000', lower=True)[:8]}:*:*:*"
            for oui in klass.ouis
        )
        out.extend(_dnsmasqOptions(klass.tag, klass.options))
    for host in hosts:
        fields = [formatMAC(host.mac, lower=True), f"set:{host.tag}"]
        if host.ip is not None:
            fields.append(host.ip)
        if host.hostname is not None:
            fields.append(host.hostname)
        out.append("")
        out.append("dhcp-host=" + ",".join(fields))
        out.extend(_dnsmasqOptions(host.tag, host.options))
    return "\n".join(out) + "\n"


# -- dispatch ------------------------------------------------------------------

_WRITERS: dict[str, Callable[[Sequence[DHCPRule], Sequence[Reservation]], str]] = {
    "isc": renderISC,
    "kea": renderKea,
    "dnsmasq": renderDnsmasq,
}

FORMATS = tuple(_WRITERS)
"""
The snippet formats L{render} knows: C{"isc"}, C{"kea"}, C{"dnsmasq"}.
"""


def render(
    format: str, rules: Sequence[DHCPRule], reservations: Sequence[Reservation] = ()
) -> str:
    """
    Write the snippet for one DHCP server.

    @param format: one of L{FORMATS}.
    @raise ValueError: for another format (the message names the allowed
        ones), or L{InvalidDHCPValue} for a value that cannot be written.
    """
    writer = _WRITERS.get(format)
    if writer is None:
        raise ValueError(
            f"unknown DHCP snippet format {format!r}: use one of {', '.join(FORMATS)}"
        )
    return writer(rules, reservations)

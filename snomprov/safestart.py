# -*- test-case-name: tests.test_safestart -*-
"""
What an administrator must read when the daemon starts, as text: whether
C{[server] base_url} is one phones can reach, the DHCP option values that
point phones at us, each listener as bound, and a listener that could not
bind as one line naming the key to change.

Nothing here binds, logs or prints: L{snomprov.listeners} and the
commands do.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from urllib.parse import urlsplit

from .config import Config, ServerConfig
from .interfaces import IDHCPVendor, IUAProfileVendor

__all__ = [
    "baseURLWarning",
    "cannotListenLine",
    "dhcpRules",
    "dhcpValueLines",
    "listenerKey",
    "phoneURLLines",
]


def _isLoopback(host: str) -> bool:
    """
    Whether C{host} names this machine only: C{localhost}, a loopback or
    the unspecified address.
    """
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def baseURLWarning(config: Config) -> str | None:
    """
    A warning when C{[server] base_url} is unset or names a loopback
    address: phones would be told to fetch their settings from themselves.

    @return: one line naming what phones will be told and the key to set,
        or C{None} when C{base_url} is not a loopback one.
    """
    url = config.server.baseURL
    if not _isLoopback(urlsplit(url).hostname or ""):
        return None
    unset = " (the default)" if url == ServerConfig.baseURL else ""
    return (
        f"WARNING: [server] base_url is {url}{unset}, a loopback address: phones will be told "
        f"to fetch their settings from {url} (in PnP NOTIFYs, setting_server, Profile_Rule and "
        f"DHCP option 66), which no phone reaches; set [server] base_url to an address of this "
        f"host that the phones can reach"
    )


def dhcpRules(config: Config, registry) -> dict:
    """
    The DHCP rule of every vendor that has one, as C{snomprov dhcp} writes
    them.

    @param registry: a L{snomprov.registry.VendorRegistry}.
    @return: vendor name to its L{snomprov.device.DHCPRule}.
    """
    return {
        vendor.name: vendor.dhcpRule(config.tftpHost, config.server.baseURL)
        for vendor in registry.vendors
        if IDHCPVendor.providedBy(vendor)
    }


def dhcpValueLines(config: Config, registry) -> list[str]:
    """
    One line per vendor with a DHCP rule: the options and their values to
    set in the site's DHCP server (C{snomprov dhcp} writes them as
    snippets).
    """
    lines = []
    for name, rule in dhcpRules(config, registry).items():
        values = ", ".join(
            f"option {code} = {_dhcpValue(rule.options[code])}" for code in sorted(rule.options)
        )
        lines.append(f"DHCP for {name} phones: {values or 'no options'} "
                     f"(snomprov dhcp --format isc|kea|dnsmasq writes the snippet)")
    return lines


def _dhcpValue(value) -> str:
    if isinstance(value, (tuple, list)):
        return ", ".join(value)
    return str(value)


def phoneURLLines(config: Config, registry) -> list[str]:
    """
    What phones are told: C{base_url}, and each plug-and-play vendor's URL
    template with C{{base_url}} filled in (as L{snomprov.pnp} expands it,
    the phone's own variables left as they are).
    """
    lines = [f"Phones are told base_url {config.server.baseURL}"]
    for vendor in registry.vendors:
        if not IUAProfileVendor.providedBy(vendor):
            continue
        template = config.vendor(vendor.name).url or vendor.defaultURLTemplate
        if template:
            lines.append(f"PnP URL for {vendor.name} phones: "
                         f"{template.replace('{base_url}', config.server.baseURL)}")
    return lines


def listenerKey(serviceName: str) -> str:
    """
    The configuration key that sets where the service named C{serviceName}
    (a child of L{snomprov.tap.makeService}'s service) listens.
    """
    if serviceName.startswith("http"):
        return "[http] listen"
    if serviceName.startswith("admin"):
        return "[admin] listen"
    if serviceName == "sip":
        return "[sip] port"
    if serviceName.startswith("sip-"):
        return "[sip] vendor_ports to false (listen on [sip] port alone), or what holds the port"
    if serviceName == "tftp":
        return "[tftp] port"
    return serviceName


def cannotListenLine(serviceName: str, what: str, error: Exception) -> str:
    """
    The one line a daemon that cannot bind a listener exits with.

    @param what: the listener as the configuration gives it (C{"HTTP
        tcp:8080"}, C{"SIP UDP 5060"}).
    @param error: the L{twisted.internet.error.CannotListenError}.
    """
    reason = getattr(error, "socketError", None) or error
    code = getattr(reason, "errno", None)
    if code is None and getattr(reason, "args", None) and isinstance(reason.args[0], int):
        code = reason.args[0]
    if code is not None:
        reason = os.strerror(code).lower()
    hint = ""
    if code == errno.EADDRINUSE:
        hint = " (another process holds it)"
        if serviceName == "sip" or serviceName.startswith("sip-"):
            hint = " (another process holds it; set [sip] share_port = true only to share it on purpose)"
    elif code == errno.EACCES:
        hint = " (a port below 1024 needs privileges)"
    return f"snomprov: cannot listen for {what}: {reason}{hint}; change {listenerKey(serviceName)}"

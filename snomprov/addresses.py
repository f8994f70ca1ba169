# -*- test-case-name: tests.test_addresses -*-
"""
Whether a phone's new address is a plausible move from its recorded one
(issue 15, DESIGN §5): a phone that renews its lease stays in its network;
one that turns up in another network or address family is suspicious
(someone else may be answering for its MAC).
"""

from __future__ import annotations

import ipaddress

__all__ = ["IPV4_PREFIX", "IPV6_PREFIX", "sameNetwork"]

IPV4_PREFIX = 24
"""
The IPv4 network a phone's address may move within: its C{/24}.
"""

IPV6_PREFIX = 64
"""
The IPv6 network a phone's address may move within: its C{/64}.
"""


def _parsed(host: str):
    """
    C{host} as an address (an IPv4-mapped IPv6 address as the IPv4 one,
    an IPv6 scope dropped), or C{None} when it is not one.
    """
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def sameNetwork(old: str, new: str) -> bool:
    """
    Whether the address C{new} is in the network of C{old}: the same
    address family and, for IPv4, the same L{IPV4_PREFIX}, for IPv6 the
    same L{IPV6_PREFIX}.  A host that is not an address is in the same
    network only as itself.
    """
    if old == new:
        return True
    a, b = _parsed(old), _parsed(new)
    if a is None or b is None or a.version != b.version:
        return False
    shift = (32 - IPV4_PREFIX) if a.version == 4 else (128 - IPV6_PREFIX)
    return int(a) >> shift == int(b) >> shift

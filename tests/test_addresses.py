"""
Tests for L{snomprov.addresses}.
"""

import pytest

from snomprov.addresses import sameNetwork


@pytest.mark.parametrize("old, new, same", [
    ("192.0.2.5", "192.0.2.5", True),
    ("192.0.2.5", "192.0.2.254", True),
    ("192.0.2.5", "192.0.3.5", False),
    ("10.0.0.1", "11.0.0.1", False),
    ("192.0.2.5", "::ffff:192.0.2.9", True),
    ("::ffff:192.0.2.9", "192.0.3.9", False),
    ("2001:db8:1:2::1", "2001:db8:1:2:abcd::1", True),
    ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
    ("fe80::1%eth0", "fe80::2%eth1", True),
    ("192.0.2.5", "2001:db8::5", False),
    ("2001:db8::5", "192.0.2.5", False),
    ("phone.example", "phone.example", True),
    ("phone.example", "192.0.2.5", False),
    ("192.0.2.5", "phone.example", False),
])
def test_sameNetwork(old, new, same):
    """
    The same network: the same family and /24 (IPv4, an IPv4-mapped IPv6
    address counting as its IPv4 one) or /64 (IPv6); a host that is not
    an address only as itself.
    """
    assert sameNetwork(old, new) is same

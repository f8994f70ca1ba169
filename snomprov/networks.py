# -*- test-case-name: tests.test_proofcheck -*-
"""
Whether an address is inside a list of networks (C{allowed_networks}),
remembered per address in a bounded table: phones ask again and again
from the same few thousand addresses.
"""

from __future__ import annotations

import ipaddress

__all__ = ["NetworkSet"]


class NetworkSet:
    """
    A set of networks an address is tested against.

    @param networks: C{ipaddress} networks; none: no address is inside
        (L{isEmpty} tells the callers for which none means "any").
    """

    def __init__(self, networks, maxAddresses: int = 100_000) -> None:
        self.networks = tuple(networks)
        self._maxAddresses = maxAddresses
        self._verdicts: dict[str, bool] = {}

    @property
    def isEmpty(self) -> bool:
        return not self.networks

    def __contains__(self, host: str) -> bool:
        verdict = self._verdicts.get(host)
        if verdict is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                verdict = False
            else:
                verdict = any(address in network for network in self.networks)
            if len(self._verdicts) >= self._maxAddresses:
                self._verdicts.clear()
            self._verdicts[host] = verdict
        return verdict

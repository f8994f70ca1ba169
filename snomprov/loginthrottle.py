# -*- test-case-name: tests.test_loginthrottle -*-
"""
Failed logins, limited per client address and per operator name, so that
nobody guesses passwords faster than a person types them, and a flood of
guesses does not keep the thread pool busy with scrypt.

Each failure takes a token from the address's bucket and from the name's;
while either bucket is empty every attempt from that address or for that
name is refused unchecked (the API answers 429 with C{Retry-After}), a
right password included.  Successes take nothing.  Pure, on an injected
clock; bounded memory (L{snomprov.ratelimit.TokenBuckets}).
"""

from __future__ import annotations

import math

from snomprov.ratelimit import TokenBuckets

__all__ = ["LoginThrottle", "PER_ADDRESS", "PER_NAME"]

PER_ADDRESS = (20.0, 1 / 3)
"""
Failures an address may have in a burst, and how many more a second.
"""

PER_NAME = (10.0, 1 / 6)
"""
Failures a name may have in a burst, and how many more a second.
"""


class LoginThrottle:
    """
    @param clock: an L{IReactorTime}.
    """

    def __init__(self, clock, perAddress=PER_ADDRESS, perName=PER_NAME, maxKeys: int = 10000) -> None:
        self._addresses = TokenBuckets(perAddress[1], perAddress[0], clock, maxKeys)
        self._names = TokenBuckets(perName[1], perName[0], clock, maxKeys)

    def retryAfter(self, address: str | None, name: str | None) -> int | None:
        """
        Whole seconds to wait before C{address} may try C{name} again, or
        C{None}: it may try now.  Either may be C{None} (not known).
        """
        wait = max(self._addresses.wait(address) if address is not None else 0.0,
                   self._names.wait(name) if name is not None else 0.0)
        return None if wait <= 0 else max(1, math.ceil(wait))

    def failed(self, address: str | None, name: str | None) -> None:
        """
        Count a failed attempt.
        """
        if address is not None:
            self._addresses.allow(address)
        if name is not None:
            self._names.allow(name)

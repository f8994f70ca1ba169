"""
Token buckets per key (a source address, ...), on an injected clock.
"""

from __future__ import annotations

__all__ = ["TokenBuckets"]


class TokenBuckets:
    """
    One token bucket per key: C{rate} tokens a second, up to C{burst}.
    Past C{maxKeys} keys, buckets that have refilled are forgotten (a full
    bucket is the same as none), so a flood of sources cannot exhaust
    memory.

    @ivar rate: tokens added per second.
    @ivar burst: bucket capacity.
    """

    def __init__(self, rate: float, burst: float, clock, maxKeys: int = 10000) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._maxKeys = maxKeys
        self._buckets: dict[object, tuple[float, float]] = {}

    def _tokens(self, key: object, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def wait(self, key: object = None) -> float:
        """
        Seconds until C{key}'s bucket holds a token (0: it holds one now);
        nothing is taken.
        """
        missing = 1 - self._tokens(key, self._clock.seconds())
        return 0.0 if missing <= 0 else missing / self.rate

    def allow(self, key: object = None) -> bool:
        """
        Take one token for C{key}; return whether one was available.
        """
        now = self._clock.seconds()
        tokens = self._tokens(key, now)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._maxKeys:
            self._forgetFull(now)
        return allowed

    def _forgetFull(self, now: float) -> None:
        for key, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[key]

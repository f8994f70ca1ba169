"""
Tests for L{snomprov.loginthrottle}.
"""

from twisted.internet.task import Clock

from snomprov.loginthrottle import LoginThrottle


def test_failuresPerNameLockTheName():
    """
    After a name's burst of failures every address waits for it; another
    name from the same address may still try; the lock lifts with time.
    """
    clock = Clock()
    throttle = LoginThrottle(clock, perAddress=(100, 1), perName=(3, 0.5))
    for n in range(3):
        assert throttle.retryAfter(f"192.0.2.{n}", "alice") is None
        throttle.failed(f"192.0.2.{n}", "alice")
    assert throttle.retryAfter("192.0.2.9", "alice") == 2
    assert throttle.retryAfter("192.0.2.0", "bob") is None
    clock.advance(2)
    assert throttle.retryAfter("192.0.2.9", "alice") is None


def test_failuresPerAddressLockTheAddress():
    """
    One address guessing many names is stopped for all names.
    """
    clock = Clock()
    throttle = LoginThrottle(clock, perAddress=(2, 0.1), perName=(100, 1))
    throttle.failed("198.51.100.1", "a")
    throttle.failed("198.51.100.1", "b")
    assert throttle.retryAfter("198.51.100.1", "c") == 10
    assert throttle.retryAfter("198.51.100.2", "c") is None
    assert throttle.retryAfter("198.51.100.1", None) == 10


def test_unknownKeysNeverLock():
    """
    Without an address or a name nothing is counted for it.
    """
    throttle = LoginThrottle(Clock(), perAddress=(1, 0.1), perName=(1, 0.1))
    throttle.failed(None, None)
    assert throttle.retryAfter(None, None) is None

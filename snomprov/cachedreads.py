# -*- test-case-name: tests.test_cachedreads -*-
"""
L{CachedReads}: the store reads a rendering is made of (a device's lines,
the settings layers) kept between renderings, each under the scope whose
change drops it, for the L{snomprov.provisioning.Provisioner}.

A boot storm renders every phone's files once: without this, each file
read the site's, the vendor's and the model's layers again (the same rows
for every phone), and a snom phone's two files (the C{<setting-files>}
container, then its settings) read its device, version, lines and device
layer twice.  A read is kept only when no change was announced while it
ran (the renderings' own rule).  A change of a shared scope drops every
device's reads too: it may have moved their versions.
"""

from __future__ import annotations

from collections import OrderedDict

from twisted.internet import defer
from twisted.python.failure import Failure

__all__ = ["CachedReads"]


class CachedReads:
    """
    L{device}, C{getLines} and C{getLayer} of a store, cached: the layers
    of shared scopes (C{site}, C{vendor:…}, C{model:…}) without bound, a
    device's record, version, lines and layer (scope C{device:<MAC>}) for
    the most recent C{maxDevices} devices.

    @ivar store: the store read through.
    """

    def __init__(self, store, maxDevices: int = 4096) -> None:
        self.store = store
        self.maxDevices = maxDevices
        self._shared: dict[str, object] = {}
        # "device:<MAC>" -> {("lines" | "layer"): value}, oldest first
        self._devices: OrderedDict[str, dict] = OrderedDict()
        self._generation = 0
        # MAC -> Deferreds of device() asked for the next read of devices
        self._asked: dict[str, list[defer.Deferred]] = {}
        self._readingDevices = False

    def drop(self, scopes) -> None:
        """
        Forget what was read for any of C{scopes} (C{None}: everything).
        """
        self._generation += 1
        if scopes is None:
            self._shared.clear()
            self._devices.clear()
            return
        for scope in scopes:
            if scope.startswith("device:"):
                self._devices.pop(scope, None)
            else:
                self._shared.pop(scope, None)
                self._devices.clear()

    def device(self, mac: str):
        """
        @return: a Deferred firing with C{(device, version)}: the stored
            L{DeviceInfo} (or C{None}) and its current settings version (or
            C{None}).  Its lines and device layer are read in the same
            transaction.  Devices asked while a read of devices is under way
            are read together in the next one (L{IDeviceStore.readDevices}):
            a storm's misses share a transaction and a trip to the store's
            thread.
        """
        entry = self._devices.get(f"device:{mac}")
        if entry is not None and "device" in entry:
            return defer.succeed(entry["device"])
        waiting = defer.Deferred()
        self._asked.setdefault(mac, []).append(waiting)
        if not self._readingDevices:
            self._readDevices()
        return waiting

    def _readDevices(self) -> None:
        """
        Read the devices asked so far in one L{IDeviceStore.readDevices},
        then those asked meanwhile.
        """
        asked, self._asked = self._asked, {}
        self._readingDevices = True

        def keep(found) -> None:
            for mac, (device, lines, version, layer) in found.items():
                self._entry(f"device:{mac}").update(device=(device, version), lines=tuple(lines), layer=layer)

        def answer(result) -> None:
            self._readingDevices = False
            for mac, waiters in asked.items():
                for waiting in waiters:
                    if isinstance(result, Failure):
                        waiting.errback(result)
                    else:
                        device, _, version, _ = result[mac]
                        waiting.callback((device, version))
            if self._asked and not self._readingDevices:
                self._readDevices()

        self._reading(keep, lambda: self.store.readDevices(list(asked))).addBoth(answer)

    def getLines(self, mac: str):
        return self._read(f"device:{mac}", "lines", lambda: self.store.getLines(mac))

    def getLayer(self, scope: str):
        if scope.startswith("device:"):
            return self._read(scope, "layer", lambda: self.store.getLayer(scope))
        if scope in self._shared:
            return defer.succeed(self._shared[scope])
        return self._reading(lambda value: self._shared.__setitem__(scope, value),
                             lambda: self.store.getLayer(scope))

    def _read(self, scope: str, what: str, read):
        entry = self._devices.get(scope)
        if entry is not None and what in entry:
            return defer.succeed(entry[what])

        return self._reading(lambda value: self._entry(scope).__setitem__(what, value), read)

    def _entry(self, scope: str) -> dict:
        """
        The reads kept for the device of C{scope}, made when missing (the
        oldest device's forgotten when C{maxDevices} are kept).
        """
        entry = self._devices.get(scope)
        if entry is None:
            if len(self._devices) >= self.maxDevices:
                self._devices.popitem(last=False)
            entry = self._devices[scope] = {}
        return entry

    def _reading(self, keep, read):
        """
        C{read()}, its value handed to C{keep} unless a change was
        announced meanwhile.
        """
        generation = self._generation

        def got(value):
            if generation == self._generation:
                keep(value)
            return value

        return defer.maybeDeferred(read).addCallback(got)

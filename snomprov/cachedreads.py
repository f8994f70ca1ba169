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
            C{None}).  Its lines are read in the same transaction.
        """
        entry = self._devices.get(f"device:{mac}")
        if entry is not None and "device" in entry:
            return defer.succeed(entry["device"])

        @defer.inlineCallbacks
        def read():
            versions = yield self.store.deviceVersions([mac])
            stored = yield self.store.readDevice(mac)
            version = versions[mac][0] if mac in versions else None
            if stored is None:
                return {"device": (None, version), "lines": ()}
            return {"device": (stored[0], version), "lines": tuple(stored[1])}

        def keep(values) -> None:
            self._entry(f"device:{mac}").update(values)

        return self._reading(keep, read).addCallback(lambda values: values["device"])

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

# -*- test-case-name: tests.test_metrics -*-
"""
What C{/metrics} reports, read at scrape time from the counts the daemon
keeps anyway.

The reply paths count in plain ints and dicts they already had (the PnP
controller's C{counters}, the NOTIFY retransmitter's, the provisioner's
hits, misses, fetches and rejections, the recorder's); nothing on them
calls C{prometheus_client}.  L{SnomprovCollector} turns those numbers into
metric families when Prometheus asks.  Devices by state and vendor come
from L{DeviceCounts}, a snapshot the store counts at most every C{maxAge}
seconds, never a read per device.  The store write latency is a real
C{Histogram}, observed once per recorder batch.

Every L{Metrics} has a registry of its own (not C{prometheus_client}'s
global one), so that daemons and tests in one process do not mix.

The collector runs in the thread C{prometheus_client}'s Twisted resource
renders in: it only copies dicts and reads ints (atomic under the GIL) and
never calls the store; L{DeviceCounts.refresh} runs in the reactor thread,
before each scrape (see L{snomprov.web.metrics}).
"""

from __future__ import annotations

from typing import Iterable

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from twisted.internet import defer
from twisted.logger import Logger

__all__ = ["DeviceCounts", "Metrics", "SnomprovCollector", "TFTPCounts", "SIP_REJECTIONS"]

SIP_REJECTIONS = ("not-allowed", "rate-limited", "no-vendor", "bad-event", "malformed", "not-allowed-method")
"""
The PnP controller's counters that are a SIP datagram refused, by reason.
"""

STORE_WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""
Upper bounds (seconds) of the store write latency histogram's buckets.
"""


class DeviceCounts:
    """
    How many devices there are per state and vendor, as the store last
    counted them (L{snomprov.interfaces.IDeviceStore.countDevices}).

    @ivar counts: C{(state, vendor)} to a count; empty until first read.
    @ivar maxAge: seconds a count is used before the store is asked again.
    @ivar reads: how many times the store was asked.
    @ivar backlog: PBX sink name to the lines it has not applied
        (L{snomprov.interfaces.IAccountSyncStore.accountBacklog}), read
        with the counts; empty without sinks.
    """

    _log = Logger()

    def __init__(self, whenStore, clock, maxAge: float = 5.0, pbxSinks: Iterable[str] = ()) -> None:
        """
        @param whenStore: callable returning a Deferred firing with the store.
        @param clock: an C{IReactorTime}.
        @param pbxSinks: the C{[[pbx]]} sinks' names.
        """
        self._whenStore = whenStore
        self._clock = clock
        self.maxAge = maxAge
        self.pbxSinks = tuple(pbxSinks)
        self.backlog: dict[str, int] = {}
        self.counts: dict[tuple[str, str | None], int] = {}
        self.reads = 0
        self._readAt = float("-inf")
        self._reading: defer.Deferred | None = None

    def refresh(self) -> defer.Deferred:
        """
        Count again when the counts are older than C{maxAge}; one count at
        a time (a refresh during one waits for it).  A failed count is
        logged and the old counts kept.

        @return: a Deferred firing with C{None} once L{counts} is current.
        """
        if self._reading is not None:
            waiting = defer.Deferred()
            self._reading.addBoth(lambda result: waiting.callback(None) or result)
            return waiting
        if self._clock.seconds() - self._readAt < self.maxAge:
            return defer.succeed(None)
        self.reads += 1
        self._readAt = self._clock.seconds()
        self._reading = d = defer.maybeDeferred(self._whenStore)
        d.addCallback(lambda store: defer.ensureDeferred(self._count(store)))
        d.addErrback(lambda failure: self._log.failure("Counting devices for /metrics failed", failure))
        d.addBoth(self._done)
        return d

    async def _count(self, store) -> None:
        self.counts = dict(await store.countDevices())
        if self.pbxSinks:
            self.backlog = dict(await store.accountBacklog(self.pbxSinks))

    def _done(self, result) -> None:
        self._reading = None


class TFTPCounts:
    """
    The TFTP server's finished transfers, as its C{onTransferDone} sees
    them (once per transfer, off the per-block path).

    @ivar transfers: outcome (C{complete}, C{timeout}, C{error}) to count.
    @ivar bytes: octets the clients acknowledged, over every transfer.
    """

    def __init__(self) -> None:
        self.transfers: dict[str, int] = {}
        self.bytes = 0

    def __call__(self, name: str, address, bytesSent: int, outcome: str) -> None:
        kind = outcome if outcome in ("complete", "timeout") else "error"
        self.transfers[kind] = self.transfers.get(kind, 0) + 1
        self.bytes += bytesSent


class SnomprovCollector:
    """
    A C{prometheus_client} collector reading the daemon's own counts.

    Each source may be C{None} (SIP or TFTP off): its families are then
    left out.

    @ivar pnp: the L{snomprov.pnp.PnPController}, or C{None}.
    @ivar tftp: the L{TFTPCounts} of the TFTP server, or C{None}.
    """

    def __init__(self, recorder=None, provisioner=None, devices: DeviceCounts | None = None) -> None:
        self.recorder = recorder
        self.provisioner = provisioner
        self.devices = devices
        self.pnp = None
        self.tftp: TFTPCounts | None = None

    def describe(self) -> Iterable[Metric]:
        """
        Nothing: the registry need not run L{collect} to register us.
        """
        return ()

    def collect(self) -> Iterable[Metric]:
        yield from self._devices()
        yield from self._pnp()
        yield from self._fetches()
        yield from self._tftp()
        yield from self._recorder()
        yield from self._pbx()

    def _pbx(self) -> Iterable[Metric]:
        if self.devices is None or not self.devices.pbxSinks:
            return
        family = GaugeMetricFamily("snomprov_pbx_backlog", "Lines a PBX sink has not applied yet, by sink "
                                   "(read at most every few seconds).", labels=("sink",))
        for sink in self.devices.pbxSinks:
            family.add_metric((sink,), self.devices.backlog.get(sink, 0))
        yield family

    def _devices(self) -> Iterable[Metric]:
        if self.devices is None:
            return
        family = GaugeMetricFamily("snomprov_devices", "Devices known to the store, by state and vendor "
                                   "(counted at most every few seconds).", labels=("state", "vendor"))
        counts = {(state or "", vendor or "unknown"): count for (state, vendor), count in self.devices.counts.items()}
        for labels, count in sorted(counts.items()):
            family.add_metric(labels, count)
        yield family

    def _pnp(self) -> Iterable[Metric]:
        rejections = CounterMetricFamily("snomprov_rejections", "Requests refused, by protocol and reason.",
                                         labels=("protocol", "reason"))
        controller = self.pnp
        if controller is not None:
            counters = dict(controller.counters)
            answered = counters.get("answered", 0)
            yield CounterMetricFamily("snomprov_pnp_subscribes_answered", "ua-profile SUBSCRIBEs answered "
                                      "with 200 and a NOTIFY.", value=answered)
            yield CounterMetricFamily("snomprov_pnp_notifies_sent", "PnP NOTIFYs sent (first copies).",
                                      value=answered)
            yield CounterMetricFamily("snomprov_pnp_subscribe_retransmissions", "Retransmitted SUBSCRIBEs, "
                                      "answered again with the same 200.", value=counters.get("duplicate", 0))
            notifier = controller.notifier
            yield CounterMetricFamily("snomprov_pnp_notify_retransmissions", "NOTIFY copies sent again "
                                      "(Timer E) for want of the phone's 200.",
                                      value=notifier.retransmitted if notifier is not None else 0)
            yield CounterMetricFamily("snomprov_pnp_notify_timeouts", "NOTIFYs given up unanswered (Timer F).",
                                      value=counters.get("notify-timeout", 0))
            outcomes = CounterMetricFamily("snomprov_pnp_notify_outcomes", "NOTIFYs ended, by outcome.",
                                           labels=("outcome",))
            for outcome in ("acked", "timeout", "dropped"):
                outcomes.add_metric((outcome,), counters.get("notify-" + outcome, 0))
            yield outcomes
            yield GaugeMetricFamily("snomprov_pnp_notifies_pending", "NOTIFYs waiting for the phone's 200.",
                                    value=len(notifier) if notifier is not None else 0)
            for reason in SIP_REJECTIONS:
                rejections.add_metric(("sip", reason), counters.get(reason, 0))
        if self.provisioner is not None:
            for (reason, protocol), count in sorted(dict(self.provisioner.rejections).items()):
                rejections.add_metric((protocol, reason), count)
        yield rejections

    def _fetches(self) -> Iterable[Metric]:
        provisioner = self.provisioner
        if provisioner is None:
            return
        fetches = CounterMetricFamily("snomprov_fetches", "Files phones asked a vendor for, by vendor and "
                                      "protocol (http, https, tftp).", labels=("vendor", "protocol"))
        for (vendor, protocol), count in sorted(dict(provisioner.fetches).items()):
            fetches.add_metric((vendor, protocol), count)
        yield fetches
        cache = CounterMetricFamily("snomprov_render_cache", "Fetches answered from the cache of renderings "
                                    "(hit) or rendered (miss).", labels=("result",))
        cache.add_metric(("hit",), provisioner.hits)
        cache.add_metric(("miss",), provisioner.misses)
        yield cache
        kept = provisioner.cache
        yield CounterMetricFamily("snomprov_render_cache_evictions", "Renderings dropped from the cache to "
                                  "stay within [provisioning] cache_entries and cache_bytes.",
                                  value=kept.evictions)
        yield GaugeMetricFamily("snomprov_render_cache_bytes", "Bytes of renderings in the cache.",
                                value=kept.size)

    def _tftp(self) -> Iterable[Metric]:
        tftp = self.tftp
        if tftp is None:
            return
        transfers = CounterMetricFamily("snomprov_tftp_transfers", "TFTP transfers ended, by outcome.",
                                        labels=("outcome",))
        for outcome in ("complete", "timeout", "error"):
            transfers.add_metric((outcome,), tftp.transfers.get(outcome, 0))
        yield transfers
        yield CounterMetricFamily("snomprov_tftp_bytes", "Octets TFTP clients acknowledged.", value=tftp.bytes)

    def _recorder(self) -> Iterable[Metric]:
        recorder = self.recorder
        if recorder is None:
            return
        yield CounterMetricFamily("snomprov_recorder_events_written", "Events the recorder wrote to the store.",
                                  value=recorder.written)
        yield CounterMetricFamily("snomprov_recorder_events_dropped", "Events dropped while the store was "
                                  "away and the buffer full.", value=recorder.droppedEvents)
        devices, events = recorder.pending()
        pending = GaugeMetricFamily("snomprov_recorder_pending", "Sightings and events waiting for the next "
                                    "batch write.", labels=("kind",))
        pending.add_metric(("devices",), devices)
        pending.add_metric(("events",), events)
        yield pending


class Metrics:
    """
    The daemon's metrics: a registry of its own holding a
    L{SnomprovCollector} and the store write latency histogram, which the
    recorder feeds (C{recorder.onWritten}).

    @ivar registry: the C{CollectorRegistry} C{/metrics} serves.
    @ivar devices: the L{DeviceCounts} to refresh before a scrape.
    @ivar collector: the L{SnomprovCollector}.
    @ivar tftp: the L{TFTPCounts} to give the TFTP server.
    @ivar storeWrites: the C{snomprov_store_write_seconds} histogram.
    """

    def __init__(self, whenStore, clock, recorder, provisioner, maxAge: float = 5.0,
                 pbxSinks: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        self.devices = DeviceCounts(whenStore, clock, maxAge, pbxSinks)
        self.tftp = TFTPCounts()
        self.collector = SnomprovCollector(recorder, provisioner, self.devices)
        self.registry.register(self.collector)
        self.storeWrites = Histogram("snomprov_store_write_seconds", "Time each batch write of the recorder "
                                     "took, from call to commit.", registry=self.registry,
                                     buckets=STORE_WRITE_BUCKETS)
        recorder.onWritten = self.storeWrites.observe

    def watchPnP(self, controller) -> None:
        """
        Report the counts of the PnP controller C{controller}.
        """
        self.collector.pnp = controller

    def watchTFTP(self) -> TFTPCounts:
        """
        Report TFTP transfers.

        @return: the C{onTransferDone} to give the TFTP server.
        """
        self.collector.tftp = self.tftp
        return self.tftp

    def text(self) -> bytes:
        """
        The Prometheus text exposition of everything, now (the device
        counts as last refreshed).
        """
        return generate_latest(self.registry)

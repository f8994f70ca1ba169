"""
Tests for L{snomprov.metrics} and L{snomprov.web.metrics}: the collector's
values after driving the real PnP controller, provisioner, recorder and
TFTP counts on a L{Clock}; the text parses as Prometheus' format; device
counts are read from the store at most every C{maxAge}; and C{/metrics} of
a real daemon moves after a PnP SUBSCRIBE and an HTTP fetch.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
import pytest_twisted
from prometheus_client.parser import text_string_to_metric_families
from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.resource import Resource

from snomprov.device import DeviceInfo
from snomprov.metrics import SIP_REJECTIONS, DeviceCounts, Metrics
from snomprov.provisioning import Fetch
from snomprov.recorder import Recorder
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.metrics import MetricsPage

from test_pnp import PHONE, fixture, makeResponder
from test_web import MAC_A, MAC_B, UA, Phones, lineOf


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    """
    Every sample of C{metrics}' text, parsed by C{prometheus_client}'s own
    parser: C{(name, sorted labels)} to value.
    """
    found = {}
    for family in text_string_to_metric_families(metrics.text().decode("utf-8")):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def metricsFor(recorder, provisioner=None, store=None, clock=None) -> Metrics:
    store = store if store is not None else MemoryDeviceStore()
    return Metrics(lambda: defer.succeed(store), clock or Clock(), recorder, provisioner)


def test_pnpExchangeCounted(tmp_path):
    """
    A SUBSCRIBE answered, the same SUBSCRIBE again, and a NOTIFY never
    answered show as one answer, one NOTIFY sent, one SUBSCRIBE
    retransmission, ten NOTIFY retransmissions and one timeout, read from
    the controller's own counts.
    """
    recorder = Recorder(lambda: defer.succeed(MemoryDeviceStore()), Clock())
    protocol, controller, transport, clock, _ = makeResponder(tmp_path, recorder=recorder)
    metrics = metricsFor(recorder)
    metrics.watchPnP(controller)
    before = samples(metrics)
    assert before[("snomprov_pnp_subscribes_answered_total", ())] == 0
    data = fixture("snom-OEM-7.1.19-1.sip")
    protocol.datagramReceived(data, PHONE)
    protocol.datagramReceived(data, PHONE)
    assert samples(metrics)[("snomprov_pnp_notifies_pending", ())] == 1
    clock.advance(0.5)
    while clock.getDelayedCalls():
        clock.advance(1)
    found = samples(metrics)
    assert found[("snomprov_pnp_subscribes_answered_total", ())] == 1
    assert found[("snomprov_pnp_notifies_sent_total", ())] == 1
    assert found[("snomprov_pnp_subscribe_retransmissions_total", ())] == 1
    assert found[("snomprov_pnp_notify_retransmissions_total", ())] == 10
    assert found[("snomprov_pnp_notify_timeouts_total", ())] == 1
    assert found[("snomprov_pnp_notify_outcomes_total", (("outcome", "timeout"),))] == 1
    assert found[("snomprov_pnp_notify_outcomes_total", (("outcome", "acked"),))] == 0
    assert found[("snomprov_pnp_notifies_pending", ())] == 0
    notifies = [d for d, _, _ in transport.written if d.startswith(b"NOTIFY")]
    assert len(notifies) == 11


def test_sipRejectionsByReason(tmp_path):
    """
    A SUBSCRIBE from outside C{allowed_networks} counts as a C{sip}
    rejection with reason C{not-allowed}; every SIP reason is exposed.
    """
    recorder = Recorder(lambda: defer.succeed(MemoryDeviceStore()), Clock())
    protocol, controller, _, _, _ = makeResponder(tmp_path, '[sip]\nallowed_networks = ["10.0.0.0/8"]\n',
                                                  recorder=recorder)
    metrics = metricsFor(recorder)
    metrics.watchPnP(controller)
    protocol.datagramReceived(fixture("snom-OEM-7.1.19-1.sip"), PHONE)
    found = samples(metrics)
    assert found[("snomprov_rejections_total", (("protocol", "sip"), ("reason", "not-allowed")))] == 1
    assert found[("snomprov_pnp_subscribes_answered_total", ())] == 0
    assert {reason for (name, labels) in found if name == "snomprov_rejections_total"
            for key, reason in labels if key == "reason"} >= set(SIP_REJECTIONS)


def test_fetchesByVendorAndProtocol():
    """
    Fetches count per vendor and protocol (C{http}, C{https} from
    C{secure}, C{tftp}), with the cache's hits and misses; a refused
    unknown device counts as an C{unknown-device} rejection of its
    protocol.
    """
    phones = Phones('[provisioning]\nunknown_devices = "reject"\n', devices={MAC_A: (lineOf(MAC_A),)})
    metrics = metricsFor(phones.recorder, phones.provisioner, phones.store, phones.clock)
    assert phones.get(f"/snom/{MAC_A}-settings.xml")[0].code == 200
    assert phones.get(f"/snom/{MAC_A}-settings.xml")[0].code == 200
    assert phones.get(f"/snom/{MAC_B}-settings.xml")[0].code == 404
    served = []
    for transport, secure in (("http", True), ("tftp", False)):
        phones.provisioner.fetch(Fetch(f"snom/{MAC_A}-settings.xml", "127.0.0.1", transport, UA,
                                       secure=secure)).addCallback(served.append)
    assert all(served) and len(served) == 2
    found = samples(metrics)
    assert found[("snomprov_fetches_total", (("protocol", "http"), ("vendor", "snom")))] == 3
    assert found[("snomprov_fetches_total", (("protocol", "https"), ("vendor", "snom")))] == 1
    assert found[("snomprov_fetches_total", (("protocol", "tftp"), ("vendor", "snom")))] == 1
    assert found[("snomprov_rejections_total", (("protocol", "http"), ("reason", "unknown-device")))] == 1
    hits = found[("snomprov_render_cache_total", (("result", "hit"),))]
    misses = found[("snomprov_render_cache_total", (("result", "miss"),))]
    assert (hits, misses) == (phones.provisioner.hits, phones.provisioner.misses) and hits >= 1 and misses >= 1


def test_tftpTransfersAndBytes():
    """
    The TFTP server's C{onTransferDone} counts transfers by outcome (an
    C{error:…} as C{error}) and the bytes acknowledged.
    """
    recorder = Recorder(lambda: defer.succeed(MemoryDeviceStore()), Clock())
    metrics = metricsFor(recorder)
    assert ("snomprov_tftp_bytes_total", ()) not in samples(metrics)
    done = metrics.watchTFTP()
    done("spa942.cfg", ("192.0.2.5", 1024), 1500, "complete")
    done("fw.bin", ("192.0.2.5", 1025), 512, "timeout")
    done("nope.cfg", ("192.0.2.5", 1026), 0, "error:File not found")
    found = samples(metrics)
    assert found[("snomprov_tftp_transfers_total", (("outcome", "complete"),))] == 1
    assert found[("snomprov_tftp_transfers_total", (("outcome", "timeout"),))] == 1
    assert found[("snomprov_tftp_transfers_total", (("outcome", "error"),))] == 1
    assert found[("snomprov_tftp_bytes_total", ())] == 2012


class SlowStore(MemoryDeviceStore):
    """
    A memory store whose batch writes complete when the test says, and
    which counts how often devices are counted.
    """

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[defer.Deferred] = []
        self.countings = 0

    def recordRows(self, deviceRows, eventRows):
        super().recordRows(deviceRows, eventRows)
        d = defer.Deferred()
        self.writes.append(d)
        return d

    def countDevices(self):
        self.countings += 1
        return super().countDevices()


def test_storeWriteLatency():
    """
    Each batch write of the recorder is observed once in
    C{snomprov_store_write_seconds}, for the time it took on the clock;
    the recorder's written events show too.
    """
    store = SlowStore()
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock)
    metrics = metricsFor(recorder, store=store, clock=clock)
    recorder.notifyEnded(clock.seconds(), MAC_A, "acked", "192.0.2.5", 5060)
    recorder.flush()
    assert samples(metrics)[("snomprov_recorder_pending", (("kind", "events"),))] == 0
    clock.advance(0.3)
    store.writes[0].callback(None)
    found = samples(metrics)
    assert found[("snomprov_store_write_seconds_count", ())] == 1
    assert found[("snomprov_store_write_seconds_sum", ())] == pytest.approx(0.3)
    assert found[("snomprov_store_write_seconds_bucket", (("le", "0.25"),))] == 0
    assert found[("snomprov_store_write_seconds_bucket", (("le", "0.5"),))] == 1
    assert found[("snomprov_recorder_events_written_total", ())] == 1


def test_deviceCountsAtMostEveryMaxAge():
    """
    Devices by state and vendor come from the store's count, asked again
    only once the last count is C{maxAge} old, and once for refreshes
    that overlap; scrapes in between read the snapshot.
    """
    store = SlowStore()
    store.mergeDevices([DeviceInfo(MAC_A, vendor="snom", state="notified"),
                        DeviceInfo(MAC_B, vendor="snom", state="fetched"),
                        DeviceInfo("000000000001", state="seen")])
    clock = Clock()
    recorder = Recorder(lambda: defer.succeed(store), clock)
    metrics = Metrics(lambda: defer.succeed(store), clock, recorder, None, maxAge=5.0)
    assert not any(name == "snomprov_devices" for name, _ in samples(metrics))
    metrics.devices.refresh()
    metrics.devices.refresh()
    assert store.countings == 1
    found = samples(metrics)
    assert found[("snomprov_devices", (("state", "notified"), ("vendor", "snom")))] == 1
    assert found[("snomprov_devices", (("state", "seen"), ("vendor", "unknown")))] == 1
    store.mergeDevices([DeviceInfo("000000000002", vendor="snom", state="notified")])
    clock.advance(4.9)
    metrics.devices.refresh()
    assert store.countings == 1
    assert samples(metrics)[("snomprov_devices", (("state", "notified"), ("vendor", "snom")))] == 1
    clock.advance(0.1)
    metrics.devices.refresh()
    assert store.countings == 2
    assert samples(metrics)[("snomprov_devices", (("state", "notified"), ("vendor", "snom")))] == 2


def test_deviceCountsOverlapping():
    """
    A refresh while the store is still counting waits for that count
    instead of asking again; a failed count keeps the last one.
    """
    pending = defer.Deferred()
    asked = []

    class Store:
        def countDevices(self):
            asked.append(1)
            return pending

    clock = Clock()
    counts = DeviceCounts(lambda: defer.succeed(Store()), clock, maxAge=5.0)
    first, second = counts.refresh(), counts.refresh()
    fired = []
    second.addCallback(fired.append)
    assert len(asked) == 1 and not fired
    pending.callback({("seen", "snom"): 3})
    assert fired == [None] and counts.counts == {("seen", "snom"): 3}
    clock.advance(5)
    failing = defer.fail(RuntimeError("store away"))
    Store.countDevices = lambda self: failing
    counts.refresh()
    assert counts.counts == {("seen", "snom"): 3}
    assert counts.reads == 2


def test_ownRegistries(tmp_path):
    """
    Two L{Metrics} share nothing: each has its own registry, and neither
    is C{prometheus_client}'s global one; every family is named
    C{snomprov_…}.
    """
    from prometheus_client import REGISTRY

    first = metricsFor(Recorder(lambda: None, Clock()))
    second = metricsFor(Recorder(lambda: None, Clock()))
    first.storeWrites.observe(1.0)
    assert samples(first)[("snomprov_store_write_seconds_count", ())] == 1
    assert samples(second)[("snomprov_store_write_seconds_count", ())] == 0
    assert first.registry is not REGISTRY and REGISTRY.get_sample_value("snomprov_store_write_seconds_count") is None
    assert all(name.startswith("snomprov_") for name, _ in samples(first))


class _Fixed(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"text\n"


def test_pageRefreshesBeforeExposing():
    """
    L{MetricsPage} answers only once C{beforeScrape} has fired; a failing
    one is logged and the scrape still answered.
    """
    waiting = defer.Deferred()
    treq = StubTreq(MetricsPage(_Fixed(), lambda: waiting))
    answered = []
    treq.get("http://x/metrics").addCallback(treq.content).addCallback(answered.append)
    treq.flush()
    assert answered == []
    waiting.callback(None)
    treq.flush()
    assert answered == [b"text\n"]

    def failing():
        raise RuntimeError("no store")

    treq = StubTreq(MetricsPage(_Fixed(), failing))
    answered = []
    treq.get("http://x/metrics").addCallback(treq.content).addCallback(answered.append)
    treq.flush()
    assert answered == [b"text\n"]


@pytest_twisted.inlineCallbacks
def test_realResourceOverHTTP():
    """
    C{metricsResource} (C{prometheus_client.twisted.MetricsResource} on our
    registry, rendering in the reactor's thread pool) answers a real HTTP
    GET with the text format, the device counts refreshed first.
    """
    import treq
    from twisted.internet import reactor

    from snomprov.web.metrics import metricsResource
    from snomprov.web.sites import makeSite

    store = MemoryDeviceStore()
    yield store.mergeDevices([DeviceInfo(MAC_A, vendor="snom", state="fetched")])
    metrics = Metrics(lambda: defer.succeed(store), reactor, Recorder(lambda: None, reactor), None)
    root = Resource()
    root.putChild(b"metrics", metricsResource(metrics))
    port = reactor.listenTCP(0, makeSite(root), interface="127.0.0.1")
    try:
        response = yield treq.get(f"http://127.0.0.1:{port.getHost().port}/metrics")
        body = yield response.text()
    finally:
        yield port.stopListening()
    assert response.code == 200
    assert response.headers.getRawHeaders("content-type")[0].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(body)}
    [sample] = families["snomprov_devices"].samples
    assert sample.labels == {"state": "fetched", "vendor": "snom"} and sample.value == 1


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """
    C{curl} the daemon's C{/metrics}; parse it.
    """
    body = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{port}/metrics"], capture_output=True,
                          text=True, timeout=30, check=True).stdout
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_daemonMetricsMove(tmp_path):
    """
    A real daemon: C{curl /metrics} shows the SUBSCRIBE answered after a
    phone's SUBSCRIBE, the fetch after an HTTP fetch, the transfer and its
    bytes after a TFTP fetch (by C{curl tftp://}), and the device the
    recorder wrote (counted by the store).
    """
    from daemon import Daemon
    from test_e2e_snom import MAC, receive, subscribeFrom

    daemon = Daemon(tmp_path)
    with daemon:
        before = scrape(daemon.httpPort)
        assert before[("snomprov_pnp_subscribes_answered_total", ())] == 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
            phone.bind(("127.0.0.1", 0))
            phone.settimeout(5)
            phone.sendto(subscribeFrom(phone), ("127.0.0.1", daemon.sipPort))
            assert receive(phone).code == 200
        fetched = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", UA,
                                  f"{daemon.baseURL}/snom/{MAC}.xml"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
        assert fetched == "200"
        profile = tmp_path / "spa942.cfg"
        subprocess.run(["curl", "-sS", "-o", str(profile), f"tftp://127.0.0.1:{daemon.tftpPort}/spa942.cfg"],
                       capture_output=True, text=True, timeout=30, check=True)
        deadline = time.monotonic() + 15
        while True:
            after = scrape(daemon.httpPort)
            devices = sum(value for (name, _), value in after.items() if name == "snomprov_devices")
            transfers = after.get(("snomprov_tftp_transfers_total", (("outcome", "complete"),)), 0)
            if (devices >= 1 and transfers >= 1) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert after[("snomprov_pnp_subscribes_answered_total", ())] == 1
    assert after[("snomprov_pnp_notifies_sent_total", ())] == 1
    assert after[("snomprov_fetches_total", (("protocol", "http"), ("vendor", "snom")))] == 1
    assert devices == 1, after
    assert after[("snomprov_fetches_total", (("protocol", "tftp"), ("vendor", "linksys")))] == 1
    assert after[("snomprov_tftp_transfers_total", (("outcome", "complete"),))] == 1
    assert after[("snomprov_tftp_bytes_total", ())] == profile.stat().st_size > 0
    assert after[("snomprov_store_write_seconds_count", ())] >= 1

"""
Tests for C{GET /api/devices/{mac}/pbx} (L{snomprov.web.api.pbx}) on the
harness of L{test_api}, and for C{snomprov_pbx_backlog} in C{/metrics}.
"""

from __future__ import annotations

import tempfile

import jsonschema
import pytest
from treq.testing import StubTreq
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.web.resource import Resource

from snomprov.accounts import verifyPassword
from snomprov.config import parseConfig
from snomprov.device import DeviceInfo, Line
from snomprov.metrics import Metrics
from snomprov.recorder import Recorder
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.api import allEndpoints
from snomprov.web.api.auth import Authenticator
from snomprov.web.api.resource import APIResource
from snomprov.web.root import SiteRoot

from test_api import API, _declaredSchema, basic
from test_metrics import samples

MAC = "000413000001"
CONFIG = parseConfig(
    '[[pbx]]\nkind = "kamailio"\nname = "kam"\nurl = "postgresql://k@127.0.0.1/k"\ndomain = "d"\n'
    '[[pbx]]\nkind = "asterisk-pjsip"\nname = "ast"\npath = "a.conf"\n',
    "t.toml", baseDir=tempfile.gettempdir())


class PBXAPI(API):
    """
    L{API} with a configuration of two C{[[pbx]]} sinks.
    """

    def __init__(self) -> None:
        super().__init__()
        resource = APIResource(allEndpoints(), lambda: defer.succeed(self.store),
                               Authenticator(self.clock, verifyPassword), self.clock, config=CONFIG)
        root = SiteRoot(Resource())
        root.putChild(b"api", resource)
        self.client = StubTreq(root)


@pytest.fixture
def api():
    api = PBXAPI()
    api.store.writeDevice(DeviceInfo(mac=MAC, vendor="snom"), (Line(1, "alice", "pa"), Line(2, "bob", "pb")))
    return api


def _matches(api, code, body):
    endpoint = next(e for e in api.endpoints if (e.method, e.path) == ("GET", "/api/devices/{mac}/pbx"))
    jsonschema.validate(body, _declaredSchema(endpoint, code))


def test_stateShown(api):
    store = api.store
    pending = store.pendingAccounts("kam").result
    store.markApplied("kam", [(p.mac, p.index, p.version, p.line.user) for p in pending])
    store.markFailed("ast", [(MAC, 1), (MAC, 2)], "ReloadFailed: exit 1", 1234.0, 2)
    code, body, _ = api.json("GET", "/api/devices/0004.1300.0001/pbx", basic("vera"))
    assert code == 200, body
    _matches(api, code, body)
    assert body["mac"] == MAC and body["sinks"] == ["kam", "ast"]
    rows = [(r["line"], r["sink"], r["inSync"], r["lastError"], r["nextTry"], r["tries"]) for r in body["lines"]]
    assert rows == [(1, "kam", True, None, None, 0), (1, "ast", False, "ReloadFailed: exit 1", 1234.0, 2),
                    (2, "kam", True, None, None, 0), (2, "ast", False, "ReloadFailed: exit 1", 1234.0, 2)]
    assert all(r["applied"] == r["version"] for r in body["lines"] if r["sink"] == "kam")
    assert all(r["applied"] == 0 and r["version"] > 0 for r in body["lines"] if r["sink"] == "ast")
    assert "pa" not in repr(body) and "pb" not in repr(body)


def test_unknownDevice(api):
    code, body, _ = api.json("GET", "/api/devices/000413FFFFFF/pbx", basic("vera"))
    assert code == 404
    code, body, _ = api.json("GET", "/api/devices/nomac/pbx", basic("vera"))
    assert code == 404


def test_needsLogin(api):
    code, body, _ = api.json("GET", f"/api/devices/{MAC}/pbx")
    assert code == 401


def test_backlogMetric():
    store = MemoryDeviceStore()
    clock = Clock()
    metrics = Metrics(lambda: defer.succeed(store), clock, Recorder(lambda: defer.succeed(store), clock), None,
                      pbxSinks=["kam", "ast"])
    store.writeDevice(DeviceInfo(mac=MAC, vendor="snom"), (Line(1, "alice", "pa"), Line(2, "bob", "pb")))
    store.markApplied("kam", [(MAC, 1, 10**6, "alice")])
    metrics.devices.refresh()
    found = samples(metrics)
    assert found[("snomprov_pbx_backlog", (("sink", "kam"),))] == 1
    assert found[("snomprov_pbx_backlog", (("sink", "ast"),))] == 2


def test_noBacklogMetricWithoutSinks():
    store = MemoryDeviceStore()
    clock = Clock()
    metrics = Metrics(lambda: defer.succeed(store), clock, Recorder(lambda: defer.succeed(store), clock), None)
    metrics.devices.refresh()
    assert not any(name == "snomprov_pbx_backlog" for name, _ in samples(metrics))

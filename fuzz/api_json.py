"""
The operators' API on any body (L{snomprov.web.api}): every endpoint that
takes one, JSON (read and checked against the endpoint's schema by
L{snomprov.web.api.validate}) or raw (a CSV file, a settings file), is
sent the input as an admin over a memory store; whatever the body, the
answer is never a 500 (an unexpected exception in a handler).

Input: one byte choosing the endpoint, one choosing the media type (for a
raw body), the body.
"""

from __future__ import annotations

import io
import tempfile

from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.web.test.requesthelper import DummyRequest

from snomprov.accounts import Token, newToken, tokenHash
from snomprov.config import parseConfig
from snomprov.registry import discoverVendors
from snomprov.store.memory import MemoryDeviceStore
from snomprov.web.api import apiResource

_MAC = "000413A1B2C3"
_FILLED = {"mac": _MAC, "scope": "device:" + _MAC, "name": "someone"}
_SECRET = newToken()
_REGISTRY = discoverVendors()
_CONFIG = parseConfig('[server]\nbase_url = "http://prov.example"\n', "fuzz.toml",
                      baseDir=tempfile.gettempdir())
_ENDPOINTS = None


def _endpoints(api):
    return [e for e in api.router.endpoints if e.body is not None or e.rawBody is not None]


def seeds() -> list[bytes]:
    csv = (b"mac,vendor,model,line,user,password,display_name,registrar\n"
           + _MAC.encode() + b",snom,snomD785,1,100,pw,Ada,pbx.example\n")
    bodies = [
        b'{"vendor": "snom", "mac": "' + _MAC.encode() + b'", "lines": [{"line": 1, "user": "100"}]}',
        b'{"lines": [{"line": 1, "user": "100", "password": "pw", "registrar": "pbx"}]}',
        b'{"settings": [{"name": "user_pname", "idx": 1, "value": "100"}]}',
        b'{"name": "t", "role": "viewer"}',
        b'{"macs": ["' + _MAC.encode() + b'"]}',
        csv,
        b'<settings><phone-settings><language perm="R">English</language></phone-settings></settings>',
    ]
    return [bytes([index, kind]) + body for index in range(24) for kind in range(2) for body in bodies]


def _request(endpoint, body: bytes, media: str) -> DummyRequest:
    path = endpoint.path
    for name, value in _FILLED.items():
        path = path.replace("{" + name + "}", value)
    request = DummyRequest([s.encode() for s in path.strip("/").split("/")])
    request.client = IPv4Address("TCP", "127.0.0.1", 40000)
    request.method = endpoint.method.encode()
    request.uri = path.encode()
    request.content = io.BytesIO(body)
    request.requestHeaders.addRawHeader(b"content-type", media.encode())
    request.requestHeaders.addRawHeader(b"authorization", b"Bearer " + _SECRET.encode())
    return request


def testOneInput(data: bytes) -> None:
    global _ENDPOINTS
    store = MemoryDeviceStore()
    store.addToken(Token("fuzz", "admin", tokenHash(_SECRET), 1.0))
    clock = Clock()
    clock.advance(1000)
    api = apiResource(lambda: defer.succeed(store), clock, registry=_REGISTRY, config=_CONFIG)
    if _ENDPOINTS is None:
        _ENDPOINTS = _endpoints(api)
    if len(data) < 2:
        return
    endpoint = _ENDPOINTS[data[0] % len(_ENDPOINTS)]
    if endpoint.rawBody is not None:
        kinds = sorted(endpoint.rawBody)
        media = kinds[data[1] % len(kinds)]
    else:
        media = "application/json"
    request = _request(endpoint, data[2:], media)
    api.render(request)
    for _ in range(20):
        if request.finished:
            break
        clock.advance(1)
    assert request.finished, (endpoint.method, endpoint.path)
    assert request.responseCode != 500, (endpoint.method, endpoint.path, data[2:200])

# -*- test-case-name: tests.test_api -*-
"""
The operators' JSON API under C{/api/} (DESIGN §4.5).

Modules, one job each: L{declare} (endpoint declarations and routing),
L{validate} (JSON Schema, field-level errors), L{problems} (RFC 9457),
L{paging} (cursors), L{auth} (Basic and Bearer), L{openapi} (the document,
from the declarations), L{resource} (the Twisted resource); and the
endpoints: L{accounts}, L{devices}, L{events}, L{stale}, L{layers}, L{imports},
L{files}, L{pbx}, L{document}.

Adding an endpoint is declaring it: write an C{async} handler of a
L{declare.Call} that calls the operations layer, and add an
L{declare.Endpoint} to a module's C{ENDPOINTS}, then that tuple to
L{allEndpoints}.  Routing, login, role, query and body validation, the
problem documents, the OpenAPI document and the 401/403 tests follow from
the declaration::

    async def getDevice(call):
        device = await operations.devices.getDevice(call.store, call.path["mac"])
        return deviceJSON(device)            # answered as 200 JSON

    ENDPOINTS = (
        Endpoint("GET", "/api/devices/{mac}", getDevice, "One device", "viewer",
                 {200: ("The device", DEVICE_SCHEMA)},
                 pathParams={"mac": {"type": "string", "maxLength": 64}}),
    )

A handler answers a JSON value (200) or an L{declare.Answer} (another
status, headers), and raises C{Refused} / C{NotFound} / C{Conflict} from
L{snomprov.operations.errors} (400 / 404 / 409) or a L{problems.Problem}.
"""

from __future__ import annotations

__all__ = ["allEndpoints", "apiResource"]


def allEndpoints() -> tuple:
    """
    Every declared endpoint of the API.
    """
    from . import accounts, devices, document, events, files, imports, layers, pbx, stale

    return (*document.ENDPOINTS, *accounts.ENDPOINTS, *events.ENDPOINTS, *devices.ENDPOINTS,
            *stale.ENDPOINTS, *layers.ENDPOINTS, *imports.ENDPOINTS, *files.ENDPOINTS, *pbx.ENDPOINTS)


def apiResource(whenStore, reactor, verify=None, registry=None, config=None, pause=None,
                authenticator=None, sessions=None):
    """
    The C{/api} resource over every declared endpoint.

    @param whenStore: returns a Deferred firing with the store.
    @param verify: see L{auth.Authenticator} (tests pass a synchronous one).
    @param registry: the vendors (L{snomprov.registry.VendorRegistry});
        the installed plugins' when C{None}.
    @param config: the configuration, for the endpoints that render files.
    @param pause: see L{declare.Call}; by default a turn of C{reactor}.
    @param authenticator: the L{auth.Authenticator} (shared with the
        pages, so that failed logins count once); by default one of its own.
    @param sessions: the pages' L{snomprov.web.sessions.Sessions}: a
        request without C{Authorization} but with a page session's cookie
        is that operator's; C{None}: no page session is taken.
    """
    from .auth import Authenticator
    from .resource import APIResource

    if registry is None:
        from snomprov.registry import discoverVendors

        registry = discoverVendors()
    if pause is None:
        from twisted.internet.task import deferLater

        def pause():
            return deferLater(reactor, 0, lambda: None)

    if authenticator is None:
        authenticator = Authenticator(reactor, verify, reactor)
    return APIResource(allEndpoints(), whenStore, authenticator, reactor,
                       registry=registry, config=config, pause=pause, sessions=sessions)

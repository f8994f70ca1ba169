# -*- test-case-name: tests.test_api -*-
"""
Endpoint declarations: each endpoint is declared once, as an L{Endpoint},
and the same declarations route requests (L{Router}) and make the OpenAPI
document (L{snomprov.web.api.openapi}).  Pure: no Twisted.

An endpoint names its method, path template (C{/api/users/{name}}), the
role it needs (C{None}: no login), the JSON Schemas of its path and query
parameters and of its request body, its responses (status -> description
and schema), a summary, and its handler: an C{async} function of a L{Call}
answering an L{Answer} (or a JSON value, answered as 200).  A handler
raises L{snomprov.operations.errors.Refused} (400), C{NotFound} (404),
C{Conflict} (409) or a L{Problem} for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable
from urllib.parse import unquote

from .problems import Problem
from .validate import validate

__all__ = ["Endpoint", "Call", "Answer", "Router", "Match", "parseQuery", "MAX_BODY", "NAME_SCHEMA"]

MAX_BODY = 1024 * 1024
"""
The default bound of a request body: 1 MiB.
"""

NAME_SCHEMA = {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"}
"""
An operator's or a token's name (L{snomprov.accounts.checkName}).
"""


@dataclass(frozen=True)
class Answer:
    """
    What a handler answers: a status, a JSON value (C{None}: no body) and
    more headers.  A C{bytes} body is answered as it is, its type the
    C{Content-Type} of C{headers} (an endpoint's L{Endpoint.produces}).
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """
    A request as a handler sees it, validated against its declaration.

    @ivar store: the daemon's store.
    @ivar principal: who asked (L{snomprov.web.api.auth.Principal}), or
        C{None} for an endpoint without login.
    @ivar actor: their audit actor (C{operator:<name>}, C{token:<name>}).
    @ivar path: the path parameters, decoded.
    @ivar query: the query parameters, as their schemas' types, with
        their defaults.
    @ivar body: the JSON body, valid against the body schema, or C{None}.
    @ivar now: the POSIX time of the request.
    @ivar endpoints: every declared endpoint (for the OpenAPI document).
    @ivar headers: the request headers the endpoint declares
        (L{Endpoint.requestHeaders}), by their declared name, C{None} when
        absent.
    @ivar registry: the vendors (L{snomprov.registry.VendorRegistry}).
    @ivar reactor: the daemon's reactor (what pushes phones), or C{None}.
    @ivar raw: for an endpoint with L{Endpoint.rawBody}, the body's bytes.
    @ivar mediaType: their media type, lower case, without parameters.
    @ivar config: the daemon's L{snomprov.config.Config}.
    @ivar pause: awaited by long operations between chunks of work, to let
        the reactor serve others (or C{None}).
    """

    store: Any
    principal: Any
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    now: float
    endpoints: tuple = ()
    headers: dict[str, str | None] = field(default_factory=dict)
    registry: Any = None
    reactor: Any = None
    raw: bytes | None = None
    mediaType: str | None = None
    config: Any = None
    pause: Any = None

    @property
    def role(self) -> str | None:
        return None if self.principal is None else self.principal.role

    @property
    def actor(self) -> str | None:
        return None if self.principal is None else self.principal.actor


@dataclass(frozen=True)
class Endpoint:
    """
    One declared endpoint.

    @ivar role: C{viewer}, C{operator} or C{admin}, or C{None} for no
        login.
    @ivar pathParams: the schema of each C{{name}} of C{path} (default:
        any string).
    @ivar query: the schema of each query parameter (a C{default} in it is
        used when the parameter is absent; C{x-required: True} makes it
        required).
    @ivar body: the request body's JSON Schema, or C{None} for no body.
    @ivar responses: status -> (description, JSON Schema or C{None}).
    @ivar maxBody: the largest body accepted, in bytes (else 413).
    @ivar requestHeaders: the request headers the handler reads
        (C{If-Match}), name -> schema (a C{description} in it is
        documented); they reach it in L{Call.headers}.
    @ivar responseHeaders: status -> the headers its answers carry (C{ETag},
        C{Location}), name -> schema.
    @ivar rawBody: for a body the handler reads itself (C{Call.raw}):
        each accepted media type (C{text/csv}, C{application/xml}) to the
        schema the OpenAPI document shows for it; any other type is 415.
        C{body} is then C{None}.
    @ivar produces: the media types of a 200 answered as bytes (see
        L{Answer}), or empty for JSON.
    """

    method: str
    path: str
    handler: Callable[[Call], Awaitable[Any]]
    summary: str
    role: str | None
    responses: dict[int, tuple[str, dict | None]]
    pathParams: dict[str, dict] = field(default_factory=dict)
    query: dict[str, dict] = field(default_factory=dict)
    body: dict | None = None
    maxBody: int = MAX_BODY
    requestHeaders: dict[str, dict] = field(default_factory=dict)
    responseHeaders: dict[int, dict[str, dict]] = field(default_factory=dict)
    rawBody: dict[str, dict] | None = None
    produces: tuple[str, ...] = ()

    @property
    def takesBody(self) -> bool:
        return self.body is not None or self.rawBody is not None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def parameterNames(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self.segments if s.startswith("{") and s.endswith("}"))

    def pathSchema(self, name: str) -> dict:
        return self.pathParams.get(name, {"type": "string"})

    @property
    def operationId(self) -> str:
        words = [s[1:-1] if s.startswith("{") else s for s in self.segments[1:]]
        return self.method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class Match:
    endpoint: Endpoint
    path: dict[str, str]


class Router:
    """
    Finds the endpoint of a method and a path.
    """

    def __init__(self, endpoints) -> None:
        self.endpoints = tuple(endpoints)
        seen = set()
        for endpoint in self.endpoints:
            key = (endpoint.method, endpoint.segments)
            if key in seen:
                raise ValueError(f"{endpoint.method} {endpoint.path} is declared twice")
            seen.add(key)

    def route(self, method: str, segments: list[str]) -> Match:
        """
        @param segments: the path's segments, still percent-encoded
            (C{["api", "users", "alice"]}).
        @raise Problem: 404 for a path no endpoint has, 405 (with C{Allow})
            for a method it does not have, 404 when a path parameter does
            not match its schema.
        """
        allowed = []
        for endpoint in self.endpoints:
            found = _matchPath(endpoint.segments, segments)
            if found is None:
                continue
            if endpoint.method != method:
                allowed.append(endpoint.method)
                continue
            for name, value in found.items():
                if validate(endpoint.pathSchema(name), value):
                    raise Problem(404, f"no such resource: {name} {value!r} is not valid")
            return Match(endpoint, found)
        if allowed:
            allow = ", ".join(sorted(set(allowed)))
            raise Problem(405, f"{method} is not allowed here: use {allow}", headers={"Allow": allow})
        raise Problem(404, "no such resource")


def _matchPath(template: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(template) != len(segments):
        return None
    found = {}
    for want, got in zip(template, segments):
        if want.startswith("{") and want.endswith("}"):
            try:
                value = unquote(got, errors="strict") if "%" in got else got
            except UnicodeDecodeError:
                return None
            if not value:
                return None
            found[want[1:-1]] = value
        elif want != got:
            return None
    return found


def _coerce(schema: dict, text: str) -> Any:
    kind = schema.get("type", "string")
    if kind == "integer":
        if not text.lstrip("-").isdigit() or len(text) > 20:
            raise ValueError("must be an integer")
        return int(text)
    if kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("must be true or false")
        return text == "true"
    return text


def parseQuery(declared: dict[str, dict], args: dict[bytes, list[bytes]]) -> dict[str, Any]:
    """
    The query parameters of a request, as their schemas' types.  An
    undeclared parameter is refused (so that a typo does not pass for
    "no filter").

    @raise Problem: 400 with one error per bad parameter.
    """
    values: dict[str, Any] = {}
    errors = []
    for rawName, rawValues in args.items():
        name = rawName.decode("utf-8", "replace")
        schema = declared.get(name)
        if schema is None:
            errors.append({"field": name, "message": "is not a parameter of this resource"})
            continue
        if len(rawValues) != 1:
            errors.append({"field": name, "message": "must be given once"})
            continue
        try:
            value = _coerce(schema, rawValues[0].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            message = str(e) if isinstance(e, ValueError) and not isinstance(e, UnicodeDecodeError) \
                else "must be UTF-8 text"
            errors.append({"field": name, "message": message})
            continue
        problems = validate(schema, value)
        errors.extend({"field": name, "message": p["message"]} for p in problems)
        values[name] = value
    for name, schema in declared.items():
        if name not in values and name not in {e["field"] for e in errors}:
            if schema.get("x-required"):
                errors.append({"field": name, "message": "is required"})
            else:
                values[name] = schema.get("default")
    if errors:
        raise Problem(400, "invalid query parameters", errors)
    return values

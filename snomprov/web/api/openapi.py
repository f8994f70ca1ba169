# -*- test-case-name: tests.test_api -*-
"""
The OpenAPI 3.1 document of the API, made from the same L{Endpoint}
declarations that route the requests: nothing about the API is written
twice.  Pure.

Every operation also documents the problems the framework itself may
answer: 400 (bad query, JSON or body), 401, 403 and 429 (when it needs a role),
404 (when its path has parameters), 413 and 415 (when it takes a body).
"""

from __future__ import annotations

from snomprov import __version__

from .declare import Endpoint
from .problems import PROBLEM_SCHEMA, PROBLEM_TYPE

__all__ = ["openAPIDocument"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": _PROBLEM_REF}}}


def _schema(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if not k.startswith("x-")}


def _operation(endpoint: Endpoint) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _schema(endpoint.pathSchema(name))}
        for name in endpoint.parameterNames
    ] + [
        {"name": name, "in": "query", "required": bool(schema.get("x-required")),
         "schema": _schema(schema)}
        for name, schema in endpoint.query.items()
    ] + [
        {"name": name, "in": "header", "required": False, "schema": _schema(schema),
         **({"description": schema["description"]} if "description" in schema else {})}
        for name, schema in endpoint.requestHeaders.items()
    ]
    responses: dict[str, dict] = {}
    for status, (description, schema) in sorted(endpoint.responses.items()):
        answer: dict = {"description": description}
        if status == 200 and endpoint.produces:
            answer["content"] = {kind: {"schema": {"type": "string"}} for kind in endpoint.produces}
        elif schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        headers = endpoint.responseHeaders.get(status)
        if headers:
            answer["headers"] = {
                name: {"schema": _schema(header),
                       **({"description": header["description"]} if "description" in header else {})}
                for name, header in headers.items()
            }
        responses[str(status)] = answer
    framework = {}
    if endpoint.query or endpoint.takesBody:
        framework[400] = "Invalid query parameters, JSON or body"
    if endpoint.role is not None:
        framework[401] = "No valid login or token"
        framework[403] = f"The login's role is below {endpoint.role}"
        framework[429] = "Too many failed logins from this address or for this name; see Retry-After"
    if endpoint.parameterNames:
        framework[404] = "No such resource"
    if endpoint.takesBody:
        kinds = " or ".join(endpoint.rawBody) if endpoint.rawBody is not None else "application/json"
        framework[413] = f"The body is larger than {endpoint.maxBody} bytes"
        framework[415] = f"The body is not {kinds}"
    for status, description in framework.items():
        responses.setdefault(str(status), _problem(description))
    for status, answer in responses.items():
        if int(status) >= 400 and "content" not in answer:
            answer["content"] = {PROBLEM_TYPE: {"schema": _PROBLEM_REF}}
    operation = {
        "operationId": endpoint.operationId,
        "summary": endpoint.summary,
        "parameters": parameters,
        "responses": dict(sorted(responses.items())),
    }
    if endpoint.role is None:
        operation["security"] = []
    else:
        operation["security"] = [{"basic": []}, {"bearer": []}]
        operation["description"] = f"Needs the role {endpoint.role} or a more powerful one."
        operation["x-snomprov-role"] = endpoint.role
    if endpoint.rawBody is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {kind: {"schema": schema}
                                                for kind, schema in endpoint.rawBody.items()}}
    elif endpoint.body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": endpoint.body}}}
    return operation


def openAPIDocument(endpoints, title: str = "snomprov operators' API") -> dict:
    """
    The OpenAPI 3.1 document of C{endpoints}.
    """
    paths: dict[str, dict] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__,
                 "description": "Operators' API of snomprov: JSON in and out, errors as "
                                "application/problem+json (RFC 9457)."},
        "paths": paths,
        "components": {
            "schemas": {"Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "An operator's name and password (snomprov user add)."},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token, snp_… (snomprov token add)."},
            },
        },
    }

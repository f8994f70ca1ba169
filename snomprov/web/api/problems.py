# -*- test-case-name: tests.test_api -*-
"""
Problem documents (RFC 9457, C{application/problem+json}): what the API
answers for every error.  Pure: no Twisted.

A validation failure carries C{errors}, one C{{"field", "message"}} per
problem, the field as a JSON pointer into the body (C{/role}) or the name of
a query parameter (C{limit}); a problem of a text body (a CSV file, a
settings file) also has its C{line}, its C{field} then C{""}.
"""

from __future__ import annotations

from http import HTTPStatus

__all__ = ["PROBLEM_TYPE", "Problem", "FieldError", "problemDocument", "PROBLEM_SCHEMA"]

PROBLEM_TYPE = "application/problem+json"

FieldError = dict  # {"field": str, "message": str}


class Problem(Exception):
    """
    An error to answer as a problem document.

    @ivar status: the HTTP status.
    @ivar detail: one line for a person, never a secret.
    @ivar errors: field-level validation errors, or C{None}.
    @ivar headers: more response headers (C{Allow}, C{WWW-Authenticate}).
    """

    def __init__(self, status: int, detail: str, errors: list[FieldError] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-")


def problemDocument(problem: Problem) -> dict:
    """
    The JSON object of C{problem}: C{type} (a relative URI naming the kind
    of problem, C{/api/problems/not-found}), C{title} (the status's phrase),
    C{status}, C{detail} and, for validation failures, C{errors}.
    """
    document = {
        "type": f"/api/problems/{_slug(problem.status)}",
        "title": HTTPStatus(problem.status).phrase,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.errors is not None:
        document["errors"] = list(problem.errors)
    return document


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"},
                               "line": {"type": "integer", "description": "the line of a text body"}},
            },
        },
    },
}
"""
The JSON Schema of L{problemDocument}'s answers, as the OpenAPI document
declares it.
"""

# -*- test-case-name: tests.test_api -*-
"""
C{GET /api/openapi.json}: the OpenAPI document, no login needed.
"""

from __future__ import annotations

from .declare import Call, Endpoint
from .openapi import openAPIDocument

__all__ = ["ENDPOINTS"]


async def openAPI(call: Call):
    return openAPIDocument(call.endpoints)


ENDPOINTS = (
    Endpoint("GET", "/api/openapi.json", openAPI, "This API's OpenAPI 3.1 document", None,
             {200: ("The OpenAPI document", {"type": "object"})}),
)

# -*- test-case-name: tests.test_urltemplate -*-
"""
Expansion of provisioning URL templates, shared by every vendor.

A template is a URL with server-side variables in braces:
C{{base_url}}, C{{mac}}, C{{model}}, C{{vendor}}, C{{version}} and C{{ip}}.
Everything else passes through untouched, so that the phone can expand its own
macros: C{$mac} (Fanvil), C{$MA} (SPA), C{{MAC}} (Panasonic, upper case and
therefore not ours), C{{phone_type}} (snom).  A variable whose value is C{None}
is left as written: a snom phone expands C{{mac}} itself.

Values other than C{base_url} are percent-encoded (RFC 3986 unreserved
characters kept), so a model or version from a SUBSCRIBE cannot add a path
segment, a query or a fragment.  C{base_url} is inserted verbatim, without a
trailing C{/}.

Templates are compiled once (L{compileURLTemplate} is cached): expanding is a
join over precomputed pieces, cheap enough for the PnP hot path.

Pure: no I/O, no Twisted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable, Mapping
from urllib.parse import quote

__all__ = [
    "SERVER_VARIABLES",
    "serverVariables",
    "expandProfileURL",
    "compileProfileURL",
    "TOKEN_MARK",
    "fillTokenMark",
    "withoutEmptyToken",
    "compileURLTemplate",
    "expandURLTemplate",
    "checkURLTemplate",
]

SERVER_VARIABLES = frozenset({"base_url", "mac", "model", "vendor", "version", "ip", "token"})
"""
The variables the server expands.  C{{token}} is the proof a URL carries
(DESIGN §5): in a PnP NOTIFY the token issued for that phone, in a file a
vendor renders for a device L{TOKEN_MARK}, which the server replaces with
the device's credential when the request had a proof, else with nothing.
"""

TOKEN_MARK = "~snomprov-token~"
"""
What a vendor expands C{{token}} to in the files it renders (made of
URL-safe characters: it survives quoting and XML); see L{SERVER_VARIABLES}.
"""

_VARIABLE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_PLAIN = re.compile(r"[A-Za-z0-9._~\-]*")

Expander = Callable[[Mapping[str, "str | None"]], str]


def _quoteValue(name: str, value: str) -> str:
    """
    The text that replaces variable C{name} holding C{value}.
    """
    if name == "base_url":
        return value.rstrip("/")
    if (value.isalnum() and value.isascii()) or _PLAIN.fullmatch(value):
        return value  # a MAC, a model, a version: nothing to quote
    return quote(value, safe="")


@lru_cache(maxsize=512)
def compileURLTemplate(template: str) -> Expander:
    """
    Compile a template into a function of the variables.

    @param template: the URL template.
    @return: a callable taking a mapping of variable name to value (C{None}
        or a missing name leaves C{{name}} in place) and returning the URL.
    """
    pieces: list[tuple[bool, str]] = []
    position = 0
    for match in _VARIABLE.finditer(template):
        name = match.group(1)
        if name not in SERVER_VARIABLES:
            continue
        if match.start() > position:
            pieces.append((False, template[position : match.start()]))
        pieces.append((True, name))
        position = match.end()
    if position < len(template):
        pieces.append((False, template[position:]))
    frozenPieces = tuple(pieces)

    def expand(variables: Mapping[str, str | None]) -> str:
        out = []
        for isVariable, text in frozenPieces:
            if isVariable:
                value = variables.get(text)
                out.append("{" + text + "}" if value is None else _quoteValue(text, value))
            else:
                out.append(text)
        return "".join(out)

    return expand


def expandURLTemplate(template: str, variables: Mapping[str, str | None]) -> str:
    """
    Expand the server-side variables of C{template}.

    @param variables: variable name to value; C{None} (or absent) leaves the
        variable for the phone.
    @return: the URL.
    """
    return compileURLTemplate(template)(variables)


def serverVariables(
    baseURL: str,
    vendor: str,
    mac: str | None = None,
    model: str | None = None,
    version: str | None = None,
    ip: str | None = None,
    token: str = TOKEN_MARK,
) -> dict[str, str | None]:
    """
    The values of L{SERVER_VARIABLES}, as the server gives them to every
    vendor (DESIGN.md §1.1 step 5).

    @param vendor: the answering vendor's name (its URL subtree and config
        table): C{{vendor}} is C{snom} for a snom phone whose C{Event} says
        C{vendor="OEM"}.
    @param mac: C{None} leaves C{{mac}} for the phone to expand.
    @param token: what C{{token}} becomes (L{TOKEN_MARK} in a rendered
        file).
    """
    return {"base_url": baseURL, "mac": mac, "model": model, "vendor": vendor,
            "version": version, "ip": ip, "token": token}


def expandProfileURL(template: str, request, vendor: str, baseURL: str, token: str = "") -> str:
    """
    The server-side expansion of a ua-profile URL template for one
    SUBSCRIBE: what L{snomprov.interfaces.IUAProfileVendor.provisioningURL}
    is handed.

    @param request: the L{snomprov.device.ProfileRequest}.
    @param vendor: the answering vendor's name.
    @param token: the token issued for the phone (C{""}: none).
    """
    return compileProfileURL(template, vendor, baseURL)(request, token)


def compileProfileURL(template: str, vendor: str, baseURL: str) -> Callable[..., str]:
    """
    L{expandProfileURL} with the template, vendor and base URL fixed, for
    the controller to keep per vendor.

    @return: a callable of a L{snomprov.device.ProfileRequest} and the
        token issued for it returning the URL.
    """
    expand = compileURLTemplate(template)

    def expandFor(request, token: str = "") -> str:
        url = expand({"base_url": baseURL, "mac": request.mac, "model": request.model, "vendor": vendor,
                      "version": request.version, "ip": request.ip, "token": token})
        return url if token else withoutEmptyToken(url)

    return expandFor


_MARK_BYTES = TOKEN_MARK.encode("ascii")
_MARK_PARAMETERS = tuple(prefix + b"token=" + _MARK_BYTES + suffix
                         for prefix, suffix in ((b"?", b"&amp;"), (b"?", b"&"), (b"?", b""), (b"&amp;", b""),
                                                (b"&", b"")))


def fillTokenMark(content: bytes, token: str) -> bytes:
    """
    A rendered file with its L{TOKEN_MARK}s replaced by C{token}, or, for
    C{""}, with the C{token} parameters the marks are the values of taken
    out (a vendor writes the parameter last in its URL: C{?token=} or
    C{&token=}, C{&amp;token=} in XML).
    """
    if _MARK_BYTES not in content:
        return content
    if token:
        return content.replace(_MARK_BYTES, token.encode("ascii"))
    for index, parameter in enumerate(_MARK_PARAMETERS):
        content = content.replace(parameter, b"?" if index < 2 else b"")
    return content.replace(_MARK_BYTES, b"")


_EMPTY_TOKEN = re.compile(r"([?&])token=(?=&|#|$)&?")


def withoutEmptyToken(url: str) -> str:
    """
    C{url} without a C{token} query parameter left empty (no token was
    issued), and without the C{?} that leaves bare.
    """
    if "token=" not in url:
        return url
    url = _EMPTY_TOKEN.sub(r"\1", url)
    return url[:-1] if url.endswith(("?", "&")) else url.replace("?#", "#")


def checkURLTemplate(template: str, phoneVariables: Iterable[str] = ()) -> list[str]:
    """
    Find what is wrong with a URL template, for configuration checks.

    @param phoneVariables: lower-case C{{name}} variables the vendor's phones
        expand themselves (snom: C{phone_type}); they are not reported.
    @return: one sentence per problem; empty if the template is good.
    """
    problems = []
    allowed = SERVER_VARIABLES | frozenset(phoneVariables)
    for match in _VARIABLE.finditer(template):
        if match.group(1) not in allowed:
            problems.append(
                f"unknown variable {match.group(0)}; known: "
                + ", ".join("{" + n + "}" for n in sorted(allowed))
            )
    if not (template.startswith("{base_url}") or _SCHEME.match(template)):
        problems.append(
            f"{template!r} has no scheme: start it with {{base_url}} or a scheme "
            "such as http://"
        )
    return problems

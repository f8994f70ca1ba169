"""
Tests for L{snomprov.urltemplate}.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from snomprov.device import ProfileRequest
from snomprov.urltemplate import (
    SERVER_VARIABLES,
    checkURLTemplate,
    compileProfileURL,
    compileURLTemplate,
    expandProfileURL,
    expandURLTemplate,
    serverVariables,
    TOKEN_MARK,
)

VALUES = {
    "base_url": "http://192.0.2.10:8080",
    "mac": "000413922D24",
    "model": "snomD785",
    "vendor": "snom",
    "version": "10.1.33.33",
    "ip": "192.0.2.50",
}


@pytest.mark.parametrize(
    "template, expected",
    [
        ("{base_url}/snom/{mac}.xml", "http://192.0.2.10:8080/snom/000413922D24.xml"),
        (
            "{base_url}/{vendor}/{model}-{version}.xml?ip={ip}",
            "http://192.0.2.10:8080/snom/snomD785-10.1.33.33.xml?ip=192.0.2.50",
        ),
        ("http://x/cfg$mac.xml", "http://x/cfg$mac.xml"),
        ("http://x/{MAC}.cfg", "http://x/{MAC}.cfg"),
        ("http://x/{phone_type}/{mac}", "http://x/{phone_type}/000413922D24"),
        ("{base_url}", "http://192.0.2.10:8080"),
        ("", ""),
    ],
)
def test_expand(template: str, expected: str) -> None:
    """
    Server-side variables are replaced; phone-side macros (C{$mac},
    upper-case C{{MAC}}, C{{phone_type}}) pass through untouched.
    """
    assert expandURLTemplate(template, VALUES) == expected


def test_noneLeftForPhone() -> None:
    """
    A variable whose value is C{None}, or that is missing, stays as written
    for the phone to expand.
    """
    assert (
        expandURLTemplate("{base_url}/snom/{mac}.xml?m={model}", {"base_url": "http://h", "mac": None})
        == "http://h/snom/{mac}.xml?m={model}"
    )


def test_baseURLTrailingSlash() -> None:
    """
    C{{base_url}} is inserted without its trailing slash, so the template's
    own C{/} is not doubled.
    """
    assert expandURLTemplate("{base_url}/a", {"base_url": "http://h/p/"}) == "http://h/p/a"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("a/b", "a%2Fb"),
        ("x?y#z", "x%3Fy%23z"),
        ("snom D785", "snom%20D785"),
        ("fe80::1", "fe80%3A%3A1"),
        ("Müller", "M%C3%BCller"),
        ("{mac}", "%7Bmac%7D"),
    ],
)
def test_valuesQuoted(value: str, expected: str) -> None:
    """
    Values are percent-encoded, so a model or version from a SUBSCRIBE cannot
    add a path segment, a query, a fragment or a new variable.
    """
    assert expandURLTemplate("http://h/{model}", {"model": value}) == "http://h/" + expected


@given(st.text(), st.text())
def test_expandedValueDecodesBack(model: str, version: str) -> None:
    """
    Whatever a value holds, the expanded URL carries it percent-encoded with
    no C{/}, C{?}, C{#} or brace left, and decoding gives it back.
    """
    from urllib.parse import unquote

    url = expandURLTemplate("http://h/{model}|{version}", {"model": model, "version": version})
    encodedModel, encodedVersion = url[len("http://h/") :].split("|")
    for encoded, value in ((encodedModel, model), (encodedVersion, version)):
        assert not set(encoded) & set("/?#{}")
        assert unquote(encoded, errors="surrogatepass") == value


def test_compiledIsCached() -> None:
    """
    Compiling the same template twice gives the same function: the PnP path
    does not reparse it per exchange.
    """
    assert compileURLTemplate("{base_url}/x/{mac}") is compileURLTemplate("{base_url}/x/{mac}")


def test_serverVariables() -> None:
    """
    The documented set of server-side variables (DESIGN §1.1.5).
    """
    assert SERVER_VARIABLES == {"base_url", "mac", "model", "vendor", "version", "ip", "token"}


@pytest.mark.parametrize(
    "template",
    [
        "{base_url}/snom/{mac}.xml",
        "https://prov.example/{vendor}/{mac}",
        "tftp://192.0.2.1/spa$MA.cfg",
        "http://x/{MAC}.cfg",
    ],
)
def test_checkGood(template: str) -> None:
    """
    Good templates have no problems.
    """
    assert checkURLTemplate(template) == []


def test_checkUnknownVariable() -> None:
    """
    An unknown lower-case variable is reported, naming it.
    """
    [problem] = checkURLTemplate("{base_url}/{serial}.xml")
    assert "{serial}" in problem


def test_checkPhoneVariableAllowed() -> None:
    """
    A variable the vendor's phones expand is allowed when the vendor names it.
    """
    assert checkURLTemplate("{base_url}/{phone_type}.xml") != []
    assert checkURLTemplate("{base_url}/{phone_type}.xml", {"phone_type"}) == []


@pytest.mark.parametrize("template", ["192.0.2.1/snom/{mac}.xml", "/snom/{mac}.xml", "{mac}.xml"])
def test_checkNoScheme(template: str) -> None:
    """
    A template that starts with neither C{{base_url}} nor a scheme is
    reported.
    """
    [problem] = checkURLTemplate(template)
    assert "no scheme" in problem


def test_profileURLForEveryVendor():
    """
    The server's expansion of a ua-profile template: the same variables for
    every vendor, C{{vendor}} the answering vendor's name (not the Event's),
    C{{mac}} left for the phone without one, values quoted, the vendor's own
    variables left as written; the compiled form gives the same URL.
    """
    request = ProfileRequest(mac=None, vendor="OEM", model="T 21", version="1.2", ip="192.0.2.9")
    template = "{base_url}/{vendor}/{model}/{version}/{mac}/{ip}/{own}"
    url = expandProfileURL(template, request, "acme", "http://p/")
    assert url == "http://p/acme/T%2021/1.2/{mac}/192.0.2.9/{own}"
    assert compileProfileURL(template, "acme", "http://p/")(request) == url
    assert serverVariables("http://p", "acme", mac="AABBCC000001") == {
        "base_url": "http://p", "mac": "AABBCC000001", "model": None, "vendor": "acme",
        "version": None, "ip": None, "token": TOKEN_MARK,
    }
    assert set(serverVariables("http://p", "acme")) == SERVER_VARIABLES

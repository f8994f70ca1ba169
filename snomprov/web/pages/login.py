# -*- test-case-name: tests.test_pages -*-
"""
C{/login} and C{/logout}.

The login form's CSRF token is checked against a cookie set with the form
(double submit: there is no session yet); a password is checked by the
API's L{snomprov.web.api.auth.Authenticator}, so failures are limited per
address and per name by the same L{snomprov.loginthrottle} as the API's.
A new session gets a new id (no fixation) and the cookie is
C{HttpOnly}, C{SameSite=Strict}, and C{Secure} over HTTPS.
"""

from __future__ import annotations

import secrets

from twisted.web.template import tags

from snomprov.web.api.auth import Basic, LoginThrottled

from .layout import button, csrfField, field, page
from .resource import Page, PageCall, Redirect, Route, safeNext
from snomprov.web.sessions import COOKIE, LOGIN_COOKIE, checkToken

__all__ = ["ROUTES"]


def _cookie(call: PageCall, name: bytes, value: str, maxAge: int | None = None) -> None:
    call.request.addCookie(name, value.encode("ascii"), path=b"/", httpOnly=True,
                           secure=call.request.isSecure() or None, sameSite=b"strict",
                           max_age=None if maxAge is None else str(maxAge).encode("ascii"))


def _form(call: PageCall, name: str = "", error: str | None = None, status: int = 200,
          message: str | None = None) -> Page:
    token = secrets.token_urlsafe(24)
    _cookie(call, LOGIN_COOKIE, token)
    next_ = safeNext(call.arg("next", "/"))
    body = tags.form(method="post", action="/login", class_="narrow")(
        csrfField(token), tags.input(type="hidden", name="next", value=next_),
        field("Name", "name", name, autocomplete="username", required=True, autofocus=not name,
              autocapitalize="none"),
        field("Password", "password", type="password", error=error, autocomplete="current-password",
              required=True, autofocus=bool(name)),
        button("Log in"),
    )
    notes = [message] if message else []
    return Page(page("Log in", body, messages=notes), status)


async def showLogin(call: PageCall):
    if call.session is not None:
        return Redirect(safeNext(call.arg("next", "/")))
    return _form(call, message="Your session has ended: log in again." if call.arg("next") else None)


async def logIn(call: PageCall):
    if not checkToken(call.arg("csrf"), (call.request.getCookie(LOGIN_COOKIE) or b"").decode("latin-1")):
        return _form(call, call.arg("name"), "This form was out of date: log in again.", 403)
    name, password = call.arg("name"), (call.args("password") or [""])[0]
    if not name or not password:
        return _form(call, name, "Give your name and password.", 400)
    try:
        principal = await call.app.authenticator.authenticate(
            call.store, Basic(name, password), call.request.getClientAddress().host)
    except LoginThrottled as e:
        return _form(call, name, f"Too many failed logins: try again in {e.retryAfter} s.", 429)
    if principal is None or principal.kind != "operator":
        return _form(call, name, "This name and password do not match an operator.", 401)
    if call.session is not None:
        call.app.sessions.end(call.session.id)
    session = call.app.sessions.start(principal)
    _cookie(call, COOKIE, session.id)
    _cookie(call, LOGIN_COOKIE, "", maxAge=0)
    return Redirect(safeNext(call.arg("next", "/")))


async def showLogout(call: PageCall):
    return call.page("Log out", tags.form(method="post", action="/logout")(
        csrfField(call.csrf), button("Log out")))


async def logOut(call: PageCall):
    call.app.sessions.end(call.session.id)
    _cookie(call, COOKIE, "", maxAge=0)
    return Redirect("/login")


ROUTES = (
    Route("GET", "/login", showLogin, None),
    Route("POST", "/login", logIn, None),
    Route("GET", "/logout", showLogout),
    Route("POST", "/logout", logOut),
)

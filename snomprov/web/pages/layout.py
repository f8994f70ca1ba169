# -*- test-case-name: tests.test_pages -*-
"""
The pages' common markup, as C{twisted.web.template} tags: the layout
(header, navigation, messages), accessible form fields (a label for
every control, the error next to its field and named by
C{aria-describedby}), the hidden CSRF field, tables.  Pure: tags in, tags
out; nothing here reads a request.
"""

from __future__ import annotations

import time
from typing import Iterable, Mapping

from twisted.web.template import Tag, tags

from snomprov.accounts import permits

__all__ = ["NAV", "attrs", "fieldErrors", "page", "field", "select", "csrfField", "table", "when", "button", "postButton"]

NAV = (
    ("/", "Dashboard", "viewer"),
    ("/devices", "Devices", "viewer"),
    ("/register", "Register", "operator"),
    ("/settings", "Settings", "operator"),
    ("/import", "Import", "operator"),
    ("/users", "Users", "admin"),
)
"""
The navigation: path, label, the role that sees it.
"""


def attrs(**given) -> dict[str, str]:
    """
    HTML attributes: C{None} and C{False} left out, C{True} as the
    attribute's own name (C{required="required"}), C{aria_x} as
    C{aria-x}, C{class_} as C{class}.
    """
    out = {}
    for name, value in given.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        out[name] = name if value is True else str(value)
    return out


def when(seconds: float | None) -> str:
    """
    A time as operators read it (UTC), or an empty string.
    """
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def csrfField(token: str) -> Tag:
    return tags.input(type="hidden", name="csrf", value=token)


def field(label: str, name: str, value: str = "", error: str | None = None, type: str = "text",
          hint: str | None = None, **extra) -> Tag:
    """
    A labelled input with its hint and error beside it.

    @param extra: more attributes (see L{attrs}): C{required=True},
        C{autofocus=True}, C{autocomplete="username"}.
    """
    control = "f-" + name.replace(".", "-")
    described = " ".join(x for x in (hint and control + "-hint", error and control + "-error") if x)
    given = attrs(type=type, name=name, id=control, aria_describedby=described or None,
                  aria_invalid="true" if error else None, **extra)
    if type not in ("password", "file"):
        given["value"] = value or ""
    return tags.div(class_="field" + (" invalid" if error else ""))(
        tags.label(label, for_=control),
        tags.input(**given),
        tags.small(hint, id=control + "-hint", class_="hint") if hint else "",
        tags.strong(error, id=control + "-error", class_="error", role="alert") if error else "",
    )


def select(label: str, name: str, options: Iterable[tuple[str, str]], value: str = "",
           error: str | None = None, **extra) -> Tag:
    """
    A labelled select of C{(value, label)} options.
    """
    control = "f-" + name
    choices = [tags.option(text, **attrs(value=key, selected=key == value)) for key, text in options]
    return tags.div(class_="field" + (" invalid" if error else ""))(
        tags.label(label, for_=control),
        tags.select(*choices, **attrs(name=name, id=control, aria_invalid="true" if error else None,
                                      aria_describedby=control + "-error" if error else None, **extra)),
        tags.strong(error, id=control + "-error", class_="error", role="alert") if error else "",
    )


def button(text: str, **extra) -> Tag:
    return tags.button(text, **attrs(type="submit", **extra))


def postButton(action: str, text: str, csrf: str, danger: bool = False, **hidden: str) -> Tag:
    """
    A form of one button posting to C{action} (a change is never a link).
    """
    return tags.form(method="post", action=action, class_="inline")(
        csrfField(csrf), *[tags.input(type="hidden", name=k, value=v) for k, v in hidden.items()],
        button(text, class_="danger" if danger else None))


def table(headers: Iterable, rows: Iterable[Iterable], caption: str | None = None, **extra) -> Tag:
    """
    A table; C{headers} are strings or tags (a sort link).
    """
    return tags.div(class_="scroll")(tags.table(**attrs(**extra))(
        tags.caption(caption) if caption else "",
        tags.thead(tags.tr(*[tags.th(h, scope="col") for h in headers])),
        tags.tbody(*[tags.tr(*[tags.td(cell) for cell in row]) for row in rows]),
    ))


def page(title: str, body, *, principal=None, csrf: str | None = None, current: str | None = None,
         messages: Iterable[str] = (), errors: Iterable[str] = (), live: bool = False,
         refresh: tuple[int, str] | None = None) -> Tag:
    """
    The whole document of a page.

    @param principal: who is logged in, or C{None} (the login page): the
        navigation shows what this role may use.
    @param current: the navigation path marked as the current page.
    @param messages: notes shown at the top (what a change did).
    @param errors: problems shown at the top, as alerts.
    @param live: whether the page subscribes to the live updates.
    @param refresh: C{(seconds, path)}: without JavaScript, the browser
        goes there after that long (a page following work under way).
    """
    header = [tags.a("snomprov", href="/", class_="brand")]
    if principal is not None:
        links = [tags.li(tags.a(label, **attrs(href=path, aria_current="page" if path == current else None)))
                 for path, label, role in NAV if permits(principal.role, role)]
        header.append(tags.nav(tags.ul(*links), **attrs(aria_label="Main")))
        header.append(tags.form(method="post", action="/logout", class_="who")(
            tags.span(f"{principal.name} ({principal.role})"), csrfField(csrf or ""),
            button("Log out", class_="link")))
    notes = [tags.p(m, class_="message", role="status") for m in messages]
    notes += [tags.p(e, class_="message bad", role="alert") for e in errors]
    return tags.html(lang="en")(
        tags.head(
            tags.meta(charset="utf-8"),
            tags.meta(name="viewport", content="width=device-width, initial-scale=1"),
            tags.title(f"{title} · snomprov"),
            tags.link(rel="stylesheet", href="/static/pages.css"),
            tags.script(src="/static/pages.js", defer="defer"),
            tags.noscript(tags.meta(**attrs(http_equiv="refresh", content=f"{refresh[0]}; url={refresh[1]}")))
            if refresh else "",
        ),
        tags.body(**attrs(data_live="/events/stream" if live else None))(
            tags.a("Skip to content", href="#main", class_="skip"),
            tags.header(*header),
            Tag("main")(tags.h1(title), *notes, body, id="main"),
        ),
    )


def options(values: Mapping[str, str] | Iterable[str]) -> list[tuple[str, str]]:
    if isinstance(values, Mapping):
        return list(values.items())
    return [(v, v) for v in values]


def fieldErrors(errors, positions: dict[int, int], names: dict[str, str]) -> dict[str, str]:
    """
    An operation's errors (L{snomprov.operations.errors.Invalid}: JSON
    pointers) by form field: C{/vendor} -> C{vendor}, C{/lines/0/user} ->
    C{line<index>_<name>}, the index of the spec at that position and the
    field named by C{names} (the user's field when not named).  The first
    error of a field wins.
    """
    found: dict[str, str] = {}
    for pointer, message in errors:
        parts = pointer.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index = positions.get(int(parts[1]), int(parts[1]) + 1)
            key = f"line{index}_{names.get(parts[2], 'user')}"
        else:
            key = parts[0]
        found.setdefault(key, message)
    return found

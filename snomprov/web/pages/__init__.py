# -*- test-case-name: tests.test_pages -*-
"""
The operators' pages (DESIGN §4.5, §7): server-rendered with
C{twisted.web.template}, usable without JavaScript.

Modules, one job each (sessions and CSRF tokens are
L{snomprov.web.sessions}, shared with the API): L{layout}
(the markup every page shares), L{resource} (routing, session, CSRF and
role checks, writing answers), L{static} (the stylesheet and script),
L{live} (the Server-Sent Events feed), L{importjobs} (imports under way),
and the pages: L{login},
L{dashboard}, L{devices}, L{register}, L{settings}, L{imports},
L{users}.  A page calls the operations layer
(L{snomprov.operations}), never the store's writes itself.

Adding a page is writing an C{async} handler of a L{resource.PageCall}
answering a L{resource.Page} (C{call.page(title, tags)}) or a
L{resource.Redirect}, and a L{resource.Route} naming the role it needs.
"""

from __future__ import annotations

__all__ = ["allRoutes", "pagesResource", "PATHS"]

PATHS = (b"", b"login", b"logout", b"devices", b"register", b"settings", b"import", b"users", b"tokens",
         b"events", b"static")
"""
The first path segments the pages answer.
"""


def allRoutes() -> tuple:
    from . import dashboard, devices, imports, login, register, settings, static, users

    return (*static.ROUTES, *login.ROUTES, *dashboard.ROUTES, *devices.ROUTES, *register.ROUTES,
            *settings.ROUTES, *imports.ROUTES, *users.ROUTES)


def pagesResource(whenStore, reactor, authenticator, registry=None, config=None, live=None,
                  directory=None, sessions=None):
    """
    The pages' resource, to mount under each of L{PATHS}.

    @param authenticator: the API's L{snomprov.web.api.auth.Authenticator},
        shared so that failed logins count once, wherever they come.
    @param live: the L{live.LiveFeed}, or C{None} for one made here.
    @param directory: the L{snomprov.ldap.IDirectory} of the register
        page's look-up; by default C{[ldap]}'s (none when it is not set).
    @param sessions: the L{snomprov.web.sessions.Sessions} (shared with the
        API, which takes a page session too); by default made here, with
        C{[admin] session_idle}.
    """
    from snomprov.ldap import directoryFor

    from .importjobs import ImportJobs
    from .live import LiveFeed
    from .resource import PagesResource
    from snomprov.web.sessions import Sessions

    if sessions is None:
        sessions = Sessions(reactor, config.admin.sessionIdle if config is not None else 3600.0)
    if live is None:
        live = LiveFeed(whenStore, reactor)
    return PagesResource(allRoutes(), whenStore, authenticator, sessions, reactor,
                         registry=registry, config=config,
                         services={"live": live, "directory": directory or directoryFor(config, reactor),
                                   "imports": ImportJobs(reactor)})

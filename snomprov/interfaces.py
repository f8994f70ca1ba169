# -*- test-case-name: tests.test_interfaces -*-
"""
The interfaces of snomprov.

Methods are declared without C{self}, as zope.interface wants; every
implementation is checked with C{verifyObject} in the tests.

A vendor provides L{IVendor} and whichever capability interfaces it has:
L{IUAProfileVendor} (SIP plug-and-play), L{IFileVendor} (files over HTTP and
TFTP), L{IResyncVendor} (push), L{IDHCPVendor} (DHCP snippets).  Each path asks
C{ICapability.providedBy(vendor)}; there is no C{if vendor == "snom"}.
"""

from zope.interface import Attribute, Interface

from twisted.plugin import IPlugin

__all__ = [
    "IVendor",
    "IUAProfileVendor",
    "IFileVendor",
    "IFileListingVendor",
    "IResyncVendor",
    "IDHCPVendor",
    "IDeviceStore",
    "IAccountStore",
]


class IVendor(IPlugin):
    """
    A phone vendor, found through C{twisted.plugin} in L{snomprov.plugins}:
    a module C{snomprov/plugins/<anything>.py} holding, at module level, an
    object that provides this interface (and so C{IPlugin}).
    """

    name = Attribute(
        "Short lower-case name (C{'snom'}): the C{/<name>/} URL subtree, the "
        "C{[vendors.<name>]} config table and the CSV C{vendor} column."
    )
    ouis = Attribute("C{frozenset} of OUIs (6 upper-case hex digits) of the vendor's MACs.")
    optionTypes = Attribute(
        "Mapping of the vendor-specific keys accepted in C{[vendors.<name>]} "
        "(besides C{url}) to their Python type (C{str}, C{int}, C{bool}, "
        "C{dict}); others are configuration errors."
    )

    def matchesProfileEvent(vendor, model):
        """
        Whether a ua-profile C{Event}'s C{vendor}/C{model} parameters name
        this vendor's phones.

        @type vendor: C{str} or C{None}
        @type model: C{str} or C{None}
        @rtype: C{bool}
        """

    def parseUserAgent(userAgent):
        """
        Read a User-Agent (HTTP or SIP).

        @type userAgent: C{str}
        @return: L{snomprov.device.UserAgentInfo}, or C{None} if it is not
            one of this vendor's phones.
        """


class IUAProfileVendor(IVendor):
    """
    A vendor whose phones find their provisioning URL through SIP
    ua-profile plug-and-play.
    """

    defaultURLTemplate = Attribute(
        "URL template used when the config has no C{[vendors.<name>] url}; "
        "server-side variables: C{{base_url}}, C{{mac}}, C{{model}}, "
        "C{{vendor}}, C{{version}}, C{{ip}}."
    )

    def provisioningURL(request, template, baseURL):
        """
        The URL to NOTIFY a phone with.

        @param request: L{snomprov.device.ProfileRequest}
        @param template: the configured (or default) URL template.
        @param baseURL: the server's C{base_url}.
        @return: C{str}; never carries a secret.
        """


class IFileVendor(IVendor):
    """
    A vendor that serves files to its phones over HTTP (and TFTP).
    """

    def resolveFile(name, userAgent):
        """
        Recognise a requested name: C{"snom/000413922D24.xml"} (the vendor's
        own subtree) or a root-level name (C{"snomD785.htm"},
        C{"spa942.cfg"}).  No leading C{/}; query strings already folded in
        as C{?mac=} → the caller passes C{name + "?mac=" + MAC}.

        @param userAgent: L{snomprov.device.UserAgentInfo} or C{None}.
        @return: L{snomprov.device.FileRequest}, or C{None} if not ours.
        """

    def deviceFileName(mac):
        """
        The name of a device's main per-device file (what C{snomprov render
        MAC} shows by default), as L{resolveFile} recognises it.

        @param mac: normalised MAC.
        @rtype: C{str}
        """

    def renderFile(request, context):
        """
        Render a recognised file.

        @param request: L{snomprov.device.FileRequest} from L{resolveFile}.
        @param context: L{snomprov.device.RenderContext}.
        @return: L{snomprov.device.RenderedFile}, or C{None} for "no such
            file" (404).
        """


class IFileListingVendor(IFileVendor):
    """
    A file vendor that can name the files one device has: what C{snomprov
    render} lists when given a name that is not one of them.
    """

    def deviceFileNames(mac, model):
        """
        @param mac: normalised MAC.
        @param model: the device's model, or C{None} when not known.
        @return: the names, as L{IFileVendor.resolveFile} recognises them, of
            the files the device may fetch, its main file
            (L{IFileVendor.deviceFileName}) first.
        @rtype: C{list} of C{str}
        """


class IResyncVendor(IVendor):
    """
    A vendor whose phones re-sync when NOTIFYed.
    """

    resyncEvent = Attribute(
        "The C{Event} header of a re-sync NOTIFY (C{'check-sync;reboot=false'}, C{'resync'})."
    )


class IDHCPVendor(IVendor):
    """
    A vendor whose phones are pointed at us by DHCP options.
    """

    def dhcpRule(tftpServer, baseURL):
        """
        @param tftpServer: C{host} of our TFTP service (DHCP option 66 has no port).
        @param baseURL: the server's C{base_url}.
        @return: L{snomprov.device.DHCPRule}
        """


class IDeviceStore(Interface):
    """
    Devices, their lines, settings layers and events.  Every method returns
    a C{Deferred}.  A write whose Deferred has fired is durable.
    """

    def getDevice(mac):
        """
        @return: Deferred firing with L{snomprov.device.DeviceInfo} or C{None}.
        """

    def listDevices():
        """
        @return: Deferred firing with a list of DeviceInfo, ordered by MAC.
        """

    def countDevices():
        """
        How many devices there are of each state and vendor, counted by the
        store (for C{/metrics}: no device is read).

        @return: Deferred firing with a dict of C{(state, vendor)} to a
            count; C{vendor} is C{None} for devices of no known vendor.
        """

    def mergeDevices(devices):
        """
        Insert or update devices in one transaction, with
        L{snomprov.device.DeviceInfo.mergedWith} semantics.

        @return: Deferred firing with C{None}.
        """

    def deleteDevice(mac):
        """
        Forget a device, its lines and its device settings layer.

        @return: Deferred firing with C{True} if it existed.
        """

    def getLines(mac):
        """
        @return: Deferred firing with a tuple of L{snomprov.device.Line},
            ordered by index.
        """

    def setLines(mac, lines):
        """
        Replace a device's lines (the device must exist).

        @return: Deferred firing with C{None}.
        """

    def applyImport(devices, lines, events=()):
        """
        In one transaction: merge C{devices}, for every MAC in the
        mapping C{lines} replace that device's lines, and append C{events}
        (an audit event).  All or nothing.

        @return: Deferred firing with whether devices' registrations or
            lines changed.
        """

    def getLayer(scope):
        """
        @return: Deferred firing with L{snomprov.device.SettingsLayer} or C{None}.
        """

    def putLayer(layer, events=()):
        """
        Replace the layer of C{layer.scope} and append C{events} (an audit
        event), in one transaction.
        """

    def deleteLayer(scope, events=()):
        """
        Remove the layer of C{scope} and append C{events}, in one
        transaction.

        @return: Deferred firing with C{True} if it existed.
        """

    def listScopes():
        """
        @return: Deferred firing with the sorted list of scopes that have a layer.
        """

    def addEvents(events):
        """
        Append events in one transaction.
        """

    def record(devices, events):
        """
        L{mergeDevices} and L{addEvents} (what the recorder writes every
        interval), in one transaction where the backend can.

        @return: Deferred firing with C{None}.
        """

    def recordRows(deviceRows, eventRows):
        """
        L{record} on rows already validated by the caller (the recorder),
        without validating them again: device rows in the order of
        L{snomprov.store.deviceToRow}, events as C{(time, mac, kind,
        detail)}.  Not for input from outside the daemon.

        @return: Deferred firing with C{None}.
        """

    def listEvents(mac=None, limit=100):
        """
        @return: Deferred firing with the newest events first (of one MAC,
            or all).
        """

    def eventsAfter(cursor=None, mac=None, limit=100):
        """
        Read the events on, in the order they were added: what a follower
        (C{snomprov events --follow}) polls.

        @param cursor: the L{snomprov.device.EventPage.cursor} of an earlier
            call, or C{None} to start with the newest C{limit} events.
        @param mac: only this device's events, or all.
        @param limit: at most this many events; after a cursor, the oldest
            of those added since (the rest come with the next call).
        @return: Deferred firing with a L{snomprov.device.EventPage}.
        """

    def pageEvents(mac=None, kind=None, before=None, limit=100):
        """
        A page of events for the API's cursor paging.

        @param before: only events whose id is below it (the last id of
            the previous page), or C{None} for the newest.
        @return: Deferred firing with C{(id, Event)} pairs, newest first,
            of C{mac} and of C{kind} (or all), at most C{limit}.
        """

    def settingsVersion():
        """
        A counter that grows on every change of devices' lines or settings
        layers: rendered files are cached per version.

        @return: Deferred firing with an C{int}.
        """

    def close():
        """
        Release connections.  @return: Deferred.
        """


class IAccountStore(Interface):
    """
    Operators and API tokens (L{snomprov.accounts.Operator},
    L{snomprov.accounts.Token}), kept beside the devices.  Every method
    returns a C{Deferred}; a write either happens whole, with the audit
    events given to it, in one transaction, or fails with a
    L{snomprov.store.StoreError} and changes nothing.  Only hashes are
    stored: a password or a token in clear is refused.

    Once there is an operator there is an admin: the first operator must be
    one, and the last admin cannot be removed.
    """

    def addOperator(operator, events=()):
        """
        Add an operator, and append C{events} (its audit).

        @return: Deferred firing with C{None}, or failing with
            L{snomprov.store.AccountExists} for a name taken, or
            L{snomprov.store.NoAdmin} for a first operator who is not an
            admin.
        """

    def getOperator(name):
        """
        @return: Deferred firing with the L{snomprov.accounts.Operator} or
            C{None}.
        """

    def listOperators():
        """
        @return: Deferred firing with the operators, ordered by name.
        """

    def removeOperator(name, events=()):
        """
        Remove an operator and append C{events}; an unknown name changes
        nothing (and appends nothing).

        @return: Deferred firing with C{True} if it existed, or failing with
            L{snomprov.store.LastAdmin} if it is the last admin.
        """

    def addToken(token, events=()):
        """
        Add an API token (its hash) and append C{events}.

        @return: Deferred firing with C{None}, or failing with
            L{snomprov.store.AccountExists} for a name taken.
        """

    def findToken(tokenHash):
        """
        The token whose hash is C{tokenHash} (L{snomprov.accounts.tokenHash}
        of what a client presents).

        @return: Deferred firing with the L{snomprov.accounts.Token} or
            C{None}.
        """

    def listTokens():
        """
        @return: Deferred firing with the tokens, ordered by name.
        """

    def revokeToken(name, events=()):
        """
        Forget a token and append C{events}; an unknown name changes
        nothing.

        @return: Deferred firing with C{True} if it existed.
        """

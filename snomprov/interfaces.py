# -*- test-case-name: tests.test_interfaces -*-
"""
The interfaces of snomprov.

Methods are declared without C{self}, as zope.interface wants; every
implementation is checked with C{verifyObject} in the tests.

A vendor provides L{IVendor} and whichever capability interfaces it has:
L{IUAProfileVendor} (SIP plug-and-play; L{ISubscribeReadingVendor} when
its phones write their SUBSCRIBEs their own way, L{ISIPPortsVendor} when
they also send to other ports), L{IFileVendor} (files over HTTP and TFTP),
L{IBuiltinSettingsVendor} (the defaults a file carries below every
layer), L{IResyncVendor} (push), L{IDHCPVendor} (DHCP snippets), L{IOptionsVendor}
(checks and defaults of its C{[vendors.<name>]} table), L{ISettingsVendor}
(the settings files operators upload as layers, and what a setting's
C{perm} and a layer's documents may be).  Each path asks
C{ICapability.providedBy(vendor)}, never C{hasattr}; there is no C{if
vendor == "snom"}.  These interfaces list everything the server calls on
a vendor.
"""

from zope.interface import Attribute, Interface

from twisted.plugin import IPlugin

__all__ = [
    "IVendor",
    "IUAProfileVendor",
    "ISubscribeReadingVendor",
    "ISIPPortsVendor",
    "IOptionsVendor",
    "IFileVendor",
    "IFileListingVendor",
    "IBuiltinSettingsVendor",
    "IResyncVendor",
    "IDHCPVendor",
    "ISettingsVendor",
    "ISecretSettingsVendor",
    "IDeviceStore",
    "IAccountStore",
    "IAccountSink",
    "IAccountSyncStore",
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

    The server expands the server-side variables of the URL template
    (L{snomprov.urltemplate.SERVER_VARIABLES}: C{{base_url}}, C{{mac}},
    C{{model}}, C{{vendor}}, C{{version}}, C{{ip}}) the same way for every
    vendor; the vendor sees the result in L{provisioningURL}.
    """

    defaultURLTemplate = Attribute(
        "URL template used when the config has no C{[vendors.<name>] url}."
    )
    phoneURLVariables = Attribute(
        "C{frozenset} of the lower-case C{{name}} variables allowed in this "
        "vendor's URL templates besides the server's: those its phones expand "
        "themselves (snom: C{phone_type}) and those L{provisioningURL} expands "
        "itself.  The server leaves them as written; the configuration check "
        "refuses any other C{{name}}."
    )

    def provisioningURL(request, url):
        """
        The URL to NOTIFY a phone with.

        @param request: L{snomprov.device.ProfileRequest}
        @param url: the configured (or default) template with the
            server-side variables expanded (C{{mac}} left for the phone
            when the SUBSCRIBE carried none); most vendors return it as it
            is; one may expand its own variables (see L{phoneURLVariables})
            or adjust it (a folder URL ends in C{/}).
        @return: C{str}; never carries a secret.
        """


class ISubscribeReadingVendor(IUAProfileVendor):
    """
    A ua-profile vendor whose phones write their SUBSCRIBE in a way of their
    own (Yealink's C{MAC<hex>} user part, Panasonic's C{vender=}): the
    server's reading (the MAC of a C{MAC%3a<hex>}/C{MAC:}/C{MAC=} user part;
    the C{Event}'s C{vendor}, C{model}, C{version}, C{profile-type}) is
    shown to the vendor, which may claim the SUBSCRIBE.

    For a SUBSCRIBE whose MAC has none of the vendors' OUIs, every such
    vendor is asked, in registry order, before the C{Event} and the
    User-Agent are matched: the first to claim answers.
    """

    def claimSubscribe(request, subscribe):
        """
        @param request: the server's L{snomprov.device.ProfileRequest}.
        @param subscribe: the L{snomprov.sip.decoded.DecodedMessage} of the
            SUBSCRIBE (its C{uri}, C{header(name)} of the headers it keeps).
        @return: the L{snomprov.device.ProfileRequest} this vendor answers
            (C{request} itself, or a copy with what the vendor read, such as
            the MAC, filled in), or C{None} when the SUBSCRIBE is not one of
            this vendor's.  Must not raise.
        """


class ISIPPortsVendor(IUAProfileVendor):
    """
    A ua-profile vendor whose phones also send their SUBSCRIBEs to other
    UDP ports than C{[sip] port} (Yealink: 5059).  The daemon listens on
    every port the installed vendors name, besides C{[sip] port}.
    """

    sipPorts = Attribute("C{frozenset} of C{int} UDP ports (1-65535).")


class IOptionsVendor(IVendor):
    """
    A vendor that checks the values of its C{[vendors.<name>]} table beyond
    their types, and names the defaults of its options.
    """

    defaultOptions = Attribute(
        "Mapping of option name to the value used when the table leaves it "
        "out (what C{snomprov check --effective} shows)."
    )

    def checkOptions(options):
        """
        Check the values of C{[vendors.<name>]} (run at start, after the
        types of L{IVendor.optionTypes} were checked).

        @param options: the table's values, C{url} included when set.
        @return: one sentence per problem (C{"firmware.D785: ..."}, without
            the C{vendors.<name>.} prefix); empty when all is well.
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


class IBuiltinSettingsVendor(IFileVendor):
    """
    A file vendor whose files carry built-in settings below every settings
    layer (its defaults): what a device's page lists as the lowest layer
    of its effective settings, from the rule the vendor renders with.
    """

    def builtinSettings(request, context):
        """
        The settings L{IFileVendor.renderFile} puts into the file C{request}
        before the settings layers, which replace one of the same
        L{snomprov.device.Setting.key}.

        @param request: L{snomprov.device.FileRequest} from L{resolveFile}.
        @param context: L{snomprov.device.RenderContext} (its settings and
            lines may be empty: the built-ins depend on neither).
        @return: a list of L{snomprov.device.Setting}, empty for a file
            without any.
        """


class IResyncVendor(IVendor):
    """
    A vendor whose phones re-sync when NOTIFYed.
    """

    resyncEvent = Attribute(
        "The C{Event} header of a re-sync NOTIFY (C{'check-sync;reboot=false'}, C{'resync'})."
    )


class ISecretSettingsVendor(IVendor):
    """
    A vendor whose phones have settings that are secrets (an admin
    password, a directory's bind password): DESIGN §5.  They are left out
    of every file served without the device's proof, and out of every
    model-wide and unknown-device file, like the lines' passwords and the
    settings an operator marked secret (L{snomprov.secretsettings}).
    """

    secretSettings = Attribute(
        "C{frozenset} of setting names (as in a layer, compared without "
        "regard to case) whose values are secrets, whatever their index."
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


class ISettingsVendor(IVendor):
    """
    A vendor whose settings files operators upload as settings layers, and
    which gives meaning to a setting's C{perm} and to a layer's extra
    documents (L{snomprov.device.Setting.perm},
    L{snomprov.device.SettingsLayer.documents}).

    A layer sent in the JSON form may use the C{perm} values and document
    names of any installed vendor providing this interface (the union);
    a settings file is read by these vendors' L{parseSettings}, in registry
    order, the first to accept it winning.  With none installed, a JSON
    layer carries neither C{perm} nor documents and no file is read.
    """

    settingPerms = Attribute(
        "C{frozenset} of the C{perm} strings this vendor's files understand "
        "(kept and written back exactly: C{''} and C{' '} may differ)."
    )
    documentNames = Attribute(
        "C{frozenset} of the names of the extra documents a layer may carry "
        "for this vendor; each is one section of its settings file, as "
        "L{parseSettings} reads it alone."
    )

    def parseSettings(data, scope):
        """
        Read an uploaded settings file, whole or refused whole.

        @param data: the file's bytes (the server refuses more than
            L{snomprov.operations.layers.MAX_LAYER} before calling).
        @param scope: the layer's scope (already checked).
        @return: a L{snomprov.device.SettingsLayer} of C{scope}, its
            settings' C{perm} in L{settingPerms} (or C{None}) and its
            documents' names in L{documentNames}.
        @raise ValueError: a subclass with the attributes C{line} (the
            file's line of the problem, or C{None}) and C{reason} (what is
            wrong, never a secret), for any problem.
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
        Insert or update devices in one transaction, merged into the
        stored ones by the rules of L{snomprov.store.columns}.

        @return: Deferred firing with C{None}.
        """

    def pageDevices(state=None, vendor=None, model=None, text=None, after=None, limit=100,
                    sort="mac", descending=False):
        """
        A page of devices in the order C{sort} of the whole store (one of
        L{snomprov.store.sorts.DEVICE_SORTS}, descending or not, the MAC
        ascending breaking ties): those after the cursor C{after} (all when
        C{None}) that match every filter given, at most C{limit} (ask
        C{limit + 1} to know whether there is a next page).  A keyset
        cursor: devices added or changed meanwhile never make a page repeat
        or skip one that stayed where it was.  By MAC, reads no more of the
        store than the page needs, in MAC order.

        @param state: one of L{snomprov.device.DEVICE_STATES}.
        @param vendor: the vendor's name, exactly.
        @param model: the model, exactly.
        @param text: a case-insensitive substring (ASCII letters fold; C{%}
            and C{_} are literal) of the MAC, model, notes, address or
            firmware, or of a line's user, auth user or display name.
        @param after: by MAC, the last MAC of the previous page; in another
            order, the pair C{(sortKey(sort, last), last.mac)} of its last
            device (L{snomprov.store.sorts.sortKey}).
        @return: Deferred firing with a list of L{snomprov.device.DeviceInfo},
            or failing with L{snomprov.store.StoreError} for a bad filter,
            sort or cursor.
        """

    def deviceRevision(mac):
        """
        A device's revision: it moves, to a new value of a store-wide
        counter that never goes back (not even across a delete and a
        re-creation), on every change of the device's vendor, model, notes
        or lines, by any write (L{writeDevice}, L{setLines},
        L{applyImport}, L{mergeDevices}, L{record}).  Sightings that change
        only the address, firmware, state or times leave it alone.

        @return: Deferred firing with an C{int}, or C{None} for a device not
            stored.
        """

    def readDevice(mac):
        """
        A device, its lines and its revision, read in one transaction.

        @return: Deferred firing with C{(DeviceInfo, lines, revision)}, or
            C{None} for a device not stored.
        """

    def readDevices(macs):
        """
        What renderings of C{macs}' files read of each, in one transaction:
        the stored device, its lines, its current settings version (as
        L{deviceVersions}) and its device settings layer (scope
        C{device:<MAC>}).

        @return: Deferred firing with a dict of each of C{macs} to
            C{(DeviceInfo or None, lines, version or None, SettingsLayer or
            None)}; a device not stored has no lines.
        """

    def writeDevice(device, lines, expected=None, events=(), new=False):
        """
        In one transaction: set a device's operator fields (C{vendor},
        C{model}, C{notes}, a C{None} clearing one; what was seen of it is
        kept; a new device is C{registered}), replace its lines, append
        C{events} (its audit), move the settings version as L{mergeDevices}
        and L{setLines} do and the revision (L{deviceRevision}) when
        something changed.

        @param expected: the revision the device must be at, or C{None}.
        @param new: if true, the device must not be stored yet.
        @return: Deferred firing with the device's revision after the write,
            or failing with L{snomprov.store.PreconditionFailed} (nothing
            changed) when the device is missing or at another revision than
            C{expected}, or exists and C{new} is true.
        """

    def deleteDevice(mac, expected=None, events=()):
        """
        Forget a device, its lines, its revision and its device settings
        layer, and append C{events} if it existed.

        @param expected: the revision the device must be at, or C{None}.
        @return: Deferred firing with C{True} if it existed, or failing with
            L{snomprov.store.PreconditionFailed} (nothing changed) when
            C{expected} is given and the device is missing or at another
            revision.
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

    def putLayer(layer, affected=None, events=()):
        """
        Replace the layer of C{layer.scope} and append C{events} (an audit
        event), in one transaction.

        @param affected: the MACs whose files the change alters (the
            operations layer knows them from its plan): they get the new
            settings version as their current one.  C{None}: every device
            the scope covers (site: all; C{vendor:V}: that vendor's;
            C{model:M}: that model's), the safe over-approximation.  A
            device layer always affects its device.
        """

    def deleteLayer(scope, affected=None, events=()):
        """
        Remove the layer of C{scope} and append C{events}, in one
        transaction.

        @param affected: as for L{putLayer}.
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

    def pruneEvents(before, limit):
        """
        Delete the oldest events, in the order they were added, as long as
        their time is below C{before}: at most C{limit} in one transaction
        (the retention of C{[store] keep_events_days}, in bounded batches).
        An event's position (L{eventsAfter}, L{pageEvents}) does not change.

        @return: Deferred firing with how many were deleted.
        """

    def settingsVersion():
        """
        A counter that grows on every change of devices' lines or settings
        layers: rendered files are cached per version.

        @return: Deferred firing with an C{int}.
        """

    def changesAfter(seq):
        """
        The change feed: which scopes (C{site}, C{vendor:V}, C{model:M},
        C{device:MAC}) writes that moved the settings version touched since
        C{seq}.

        @param seq: the C{latestSeq} of an earlier call, or C{None}.
        @return: Deferred firing with C{(latestSeq, scopes)}: C{scopes} a
            C{frozenset}, or C{None} when C{seq} is C{None} or older than
            the oldest change kept (the feed is bounded): then everything
            may have changed.
        """

    def addChangeListener(listener):
        """
        Call C{listener(scopes)} (a C{frozenset}) after each write of this
        store object that changed scopes has committed: this process's own
        changes, at once.  Other processes' are read with L{changesAfter},
        unless L{pushesChanges}: then they are told too, as they commit
        (C{scopes} C{None} when the feed fell too far behind: everything
        may have changed).
        """

    def pushesChanges():
        """
        Whether every process's changes reach the change listeners now as
        they commit (PostgreSQL while its C{LISTEN} connection is up), so
        that L{changesAfter} need not be polled.  C{False} for a store
        whose feed is polled (SQLite), or while the push is broken.
        """

    def removeChangeListener(listener):
        """
        Stop calling a listener added with L{addChangeListener}.
        """

    def markFetched(rows):
        """
        Record that devices fetched their files: C{rows} of C{(mac,
        version)}, C{version} the device's current settings version read
        with the files.  Devices without a current version are ignored.

        @return: Deferred firing with C{None}.
        """

    def deviceVersions(macs):
        """
        @return: Deferred firing with a dict of MAC to C{(current, fetched)}
            for those of C{macs} that have a current version; C{fetched}
            is C{None} for a device that never fetched since.
        """

    def pageStale(after=None, limit=100):
        """
        Stale devices: fetched, but a version older than their current one.
        A device that never fetched is not stale (it is never-fetched: a
        push would find nothing to re-sync).

        @param after: only MACs above it (the last MAC of the previous page).
        @return: Deferred firing with C{(mac, current, fetched)} tuples
            ordered by MAC, at most C{limit}.
        """

    def countStale():
        """
        @return: Deferred firing with how many devices are stale.
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


class IAccountSink(Interface):
    """
    A PBX that receives the accounts of provisioned lines (DESIGN §8), one
    per C{[[pbx]]} table.  Values are L{snomprov.pbx.account.SIPAccount}
    and L{snomprov.pbx.account.AccountChange}.
    """

    name = Attribute("C{str}: the sink's name, unique among the C{[[pbx]]} tables.")
    kind = Attribute("C{str}: the C{[[pbx]] kind} (C{kamailio}, C{asterisk-pjsip}).")
    domain = Attribute(
        "C{str}: the realm of the accounts (C{[[pbx]] domain}), or C{\"\"}: each line's "
        "registrar (L{snomprov.pbx.sync.sinkDomain})."
    )

    def apply(changes):
        """
        Apply C{changes} (a sequence of C{AccountChange}, in order) to the
        PBX: an account created or replaced (its C{previous} user name
        removed when it differs), or removed (C{account} C{None}).
        Applying a change again gives the same state.

        @return: Deferred firing when every change is applied, or failing
            (nothing is assumed applied: the caller retries them all).
        """

    def accounts():
        """
        What the PBX holds now of the accounts this sink writes, for
        C{snomprov pbx sync}.

        @return: Deferred firing with C{{(username, domain): SIPAccount}}
            (C{mac} and C{index} as the sink can tell them, else C{""} and
            C{0}; C{password} as the PBX keeps it, or C{""} when only hashes
            are kept).
        """

    def differs(stored, held):
        """
        Whether the account C{held} (from L{accounts}) differs from the
        one snomprov has (C{stored}), as this sink can tell (a sink that
        keeps only hashes compares hashes).
        """

    def close():
        """
        Let go of connections.

        @return: Deferred firing when done.
        """


class IAccountSyncStore(Interface):
    """
    The PBX account sync state a store keeps (DESIGN §2, §8): each line's
    account version (moved in the same transaction as the line's change,
    a removed line kept as a tombstone) and, per sink, the version it
    applied.  Values are L{snomprov.store.pbxstate.PendingAccount} and
    L{snomprov.store.pbxstate.LineSyncState}.  Sinks are named by their
    C{[[pbx]] name}.
    """

    def pendingAccounts(sink, limit=100):
        """
        The lines whose account version is above what C{sink} applied
        (a sink never applied has applied nothing), ordered by version.

        @return: Deferred firing with a C{list} of C{PendingAccount}.
        """

    def markApplied(sink, rows):
        """
        Record that C{sink} applied lines: C{rows} of C{(mac, index,
        version, username)} (C{username} C{None} for a removed account).
        An older version than the one recorded is ignored.  Clears the
        line's last error.

        @return: Deferred firing with C{None}.
        """

    def markFailed(sink, keys, error, nextTry, tries):
        """
        Record a failed attempt of C{sink} on lines C{keys} (C{(mac,
        index)}): the error's message (never a secret), the time of the
        next attempt and the attempts so far.

        @return: Deferred firing with C{None}.
        """

    def accountBacklog(sinks):
        """
        @param sinks: the sinks' names.
        @return: Deferred firing with C{{sink: pending lines}}.
        """

    def accountSyncState(mac, sinks):
        """
        A device's lines (and tombstones) for each of C{sinks}, ordered by
        line then sink.

        @return: Deferred firing with a C{list} of C{LineSyncState}.
        """

    def pruneAccounts(sinks):
        """
        Forget the tombstones every one of C{sinks} has applied, with their
        sync rows.

        @return: Deferred firing with the number pruned.
        """

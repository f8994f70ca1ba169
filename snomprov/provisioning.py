# -*- test-case-name: tests.test_provisioning -*-
"""
Files for phones, whatever the transport: a requested name goes to the
vendor that recognises it, the device's lines and settings layers are
loaded, the vendor renders, the fetch is recorded.  The HTTP resource and
the TFTP server both ask a L{Provisioner}.

Renderings are cached (L{snomprov.rendercache.RenderCache}: at most
C{[provisioning] cache_entries} of them and C{cache_bytes} of content, the
least recently used evicted first), each with the scopes it was made from
(its device's scope and its layers' scopes, L{layerScopesFor}) in a reverse
index from scope to cache keys.  A change drops only the renderings of the scopes it
touched (DESIGN §2's change feed): this process's own changes at once (the
store tells its change listeners after each commit), other processes' at
once too where the store pushes them (PostgreSQL's C{LISTEN},
L{IDeviceStore.pushesChanges}), else when the feed is next read
(L{IDeviceStore.changesAfter}, at most every C{versionTTL} seconds, on the
fetch path).  A feed too old to answer (C{None}) drops everything.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, replace

from twisted.internet import defer
from twisted.logger import Logger

from .cachedreads import CachedReads
from .device import DeviceInfo, Event, FileRequest
from .eventtext import safeText
from .proofcheck import Proof, ProofChecker
from .proofs import KEY_BYTES, splitToken
from .rendercache import RenderCache
from .secretsettings import declaredByAny
from .storedrender import renderStored
from .urltemplate import TOKEN_MARK, fillTokenMark

__all__ = ["Provisioner", "Fetch"]


@dataclass(frozen=True)
class Fetch:
    """
    A phone's request for a file.

    @ivar name: the requested name, no leading C{/} (C{?mac=} and
        C{?token=} folded in).
    @ivar transport: C{"http"} or C{"tftp"}.
    @ivar clientMAC: the MAC named by the request's verified TLS client
        certificate, or C{None} (no certificate, or no MAC in it).
    @ivar secure: whether it came over TLS (C{https}); counted, not
        rendered differently.
    """

    name: str
    clientIP: str
    transport: str
    userAgent: str | None = None
    clientMAC: str | None = None
    secure: bool = False

    @property
    def protocol(self) -> str:
        """
        C{http}, C{https} or C{tftp}: what the metrics count it under.
        """
        return "https" if self.secure else self.transport


class Provisioner:
    """
    Answers L{Fetch}es with rendered files, caching renderings until a
    change of a scope they were made from.

    A per-device file served tells the recorder the device's current
    settings version, read with the device when rendering
    (L{snomprov.recorder.Recorder.fetched}): whether a device has fetched
    its current settings (L{IDeviceStore.pageStale}).

    @ivar versionTTL: how long (seconds) a read of the store's change feed
        is trusted before it is read again; changes made by other
        processes (the command line) show after at most this long.
    @ivar hits: fetches answered from the cache of renderings.
    @ivar misses: fetches rendered.
    @ivar cache: the renderings kept (its C{evictions} counted for
        C{/metrics}).
    @ivar fetches: C{(vendor, protocol)} to the number of fetches a vendor
        answered, C{protocol} one of C{http}, C{https}, C{tftp}.
    @ivar rejections: C{(reason, protocol)} to how many files were
        refused for that reason (C{unknown-device}, C{client-certificate},
        C{other-vendor}), or served without their secrets (C{no-proof}).
    @ivar proofs: the L{ProofChecker} deciding whether a request comes from
        the device whose file it asks (DESIGN §5).
    """

    _log = Logger()

    def __init__(self, registry, whenStore, config, recorder, clock, versionTTL: float = 1.0,
                 proofs: ProofChecker | None = None) -> None:
        self._registry = registry
        self._whenStore = whenStore
        self._config = config
        self._recorder = recorder
        self._clock = clock
        self.versionTTL = versionTTL
        # key -> (rendering, the device's current version or None)
        provisioning = config.provisioning
        self._cache = RenderCache(provisioning.cacheEntries, provisioning.cacheBytes)
        # moves at every invalidation: a rendering begun before one is not kept
        self._generation = 0
        self._resolved: dict[tuple, tuple | None] = {}
        self.maxResolved = 16384
        self._seq: int | None = None
        self._versionReadAt = float("-inf")
        self._feedUnread = False
        self._listening = None
        self._reads: CachedReads | None = None
        # Deferreds of fetches waiting for a read of the feed under way
        # (None: no read under way).
        self._feedWaiters: list | None = None
        self._fetched = getattr(recorder, "fetched", None)
        self.proofs = proofs if proofs is not None else ProofChecker(secrets.token_bytes(KEY_BYTES), config, clock)
        self._withoutProof = provisioning.withoutProof
        self._secretNames = declaredByAny(registry.vendors)
        # MAC -> its credential seed as last read (dropped with its device
        # scope): a credential is checked without reading the store.
        self._seeds: dict[str, str | None] = {}
        self.maxSeeds = 1 << 17
        self._hinted: set[str] = set()
        self.hits = 0
        self.misses = 0
        self.fetches: Counter[tuple[str, str]] = Counter()
        self.rejections: Counter[tuple[str, str]] = Counter()

    def fetch(self, fetch: Fetch):
        """
        @return: Deferred firing with a L{RenderedFile}, or C{None} (no such
            file, or refused).
        """
        name, token = splitToken(fetch.name)
        if token is not None:
            # A token is a proof: what is recorded of the fetch names the file only.
            fetch = replace(fetch, name=name)
        resolved = self._resolve(name, fetch.userAgent)
        if resolved is None:
            return defer.succeed(None)
        vendor, request, userAgent = resolved
        refusal = self._certificateRefusal(request, fetch)
        if refusal is not None:
            self._refuse(request.mac, fetch, refusal, "client-certificate")
            return defer.succeed(None)
        mac = request.mac
        proof = _NO_DEVICE
        if mac is not None:
            proof = self.proofs.prove(mac, fetch.transport, fetch.clientIP, fetch.clientMAC, token)
            if not proof and self.proofs.isCredential(token):
                seed = self._seeds.get(mac, _MISSING)
                if seed is _MISSING:
                    return self._fetchFromStore(fetch, name, vendor, request, userAgent, proof, token)
                if self.proofs.credentialHolds(mac, seed, token):
                    proof = _CREDENTIAL
        # Renderings are cached per name as asked, User-Agent, transport
        # and whether the request had a proof (strings: their hashes are
        # cached); what they resolve to is a function of these.
        key = (name, fetch.userAgent, fetch.transport, bool(proof))
        if self._clock.seconds() - self._versionReadAt < self.versionTTL or self._pushed():
            entry = self._cache.get(key)
            if entry is not None and (mac is None or not proof or mac in self._seeds):
                # The hot path: a fresh read of the feed (or a feed that
                # pushes) and a cached rendering, answered without
                # touching the store.
                self.hits += 1
                return defer.succeed(self._answer(vendor, request, userAgent, fetch, entry, proof))
        return self._fetchFromStore(fetch, name, vendor, request, userAgent, proof)

    @defer.inlineCallbacks
    def _fetchFromStore(self, fetch: Fetch, name: str, vendor, request: FileRequest, userAgent, proof: Proof,
                        credential: str | None = None):
        """
        Answer a fetch from the store (a cache miss, or a feed to read
        first).

        @param credential: a credential to check before answering (its
            device's seed was not known), or C{None}.
        """
        store = yield self._whenStore()
        yield self._readChanges(store)
        if credential is not None:
            self._reading(store)
            device, _ = yield self._reads.device(request.mac)
            self._remember(request.mac, device)
            if self.proofs.credentialHolds(request.mac, device.credential if device else None, credential):
                proof = _CREDENTIAL
        key = (name, fetch.userAgent, fetch.transport, bool(proof))
        entry = self._cache.get(key)
        if entry is not None and (request.mac is None or request.mac in self._seeds):
            self.hits += 1
        else:
            self.misses += 1
            generation = self._generation
            rendered, version, scopes = yield self._render(store, vendor, request, userAgent, fetch.transport,
                                                           bool(proof))
            entry = (rendered, version)
            if generation == self._generation:
                self._keep(key, entry, scopes)
        return self._answer(vendor, request, userAgent, fetch, entry, proof)

    def _answer(self, vendor, request: FileRequest, userAgent, fetch: Fetch, entry: tuple, proof: Proof):
        """
        Deliver a cached or new rendering (L{_deliver}) and record the
        fetch.
        """
        rendered = entry[0]
        if not isinstance(rendered, _Refused):
            rendered = self._deliver(rendered, request, fetch, proof)
        self._record(vendor, request, userAgent, fetch, rendered, entry[1], proof)
        return None if isinstance(rendered, _Refused) else rendered

    def _deliver(self, rendered, request: FileRequest, fetch: Fetch, proof: Proof):
        """
        What a fetch gets of a rendering: nothing for a refusal; for a
        device's file that would carry secrets, asked without a proof, a
        C{rejected} event naming what is missing, and nothing when
        C{without_proof = "reject"}; the device's credential in place of
        L{TOKEN_MARK} when the request had a proof, else nothing there.
        """
        if rendered is None:
            return None
        mac = request.mac
        if mac is not None and not proof and rendered.sensitive:
            reason = "; ".join(proof.missing) or "no proof is accepted ([provisioning] proofs)"
            rejected = self._withoutProof == "reject"
            self._refuse(mac, fetch, ("refused" if rejected else "served without its secrets")
                         + f": no proof ({reason})", "no-proof")
            self._hint(fetch, reason)
            if rejected:
                return None
        content = rendered.content
        if _MARK in content:
            credential = self.proofs.credential(mac, self._seeds.get(mac)) if mac is not None and proof else ""
            rendered = replace(rendered, content=fillTokenMark(content, credential))
        return rendered

    def _hint(self, fetch: Fetch, reason: str) -> None:
        """
        Tell the administrator once per transport how phones that get
        their server from DHCP (no PnP, no token) get their secrets.
        """
        if fetch.transport in self._hinted:
            return
        self._hinted.add(fetch.transport)
        self._log.warn(
            "Served {name} to {ip} over {transport} without its secrets: no proof ({reason}). A phone that finds "
            "this server through DHCP (an SPA, option 66) carries no PnP token: list its network in "
            "[{transport}] allowed_networks to let it have its secrets (docs/security.md). Logged once.",
            name=safeText(fetch.name.partition("?")[0]), ip=fetch.clientIP, transport=fetch.transport,
            reason=reason)

    def _remember(self, mac: str, device) -> None:
        """
        Keep C{mac}'s credential seed as just read.
        """
        seeds = self._seeds
        if mac not in seeds and len(seeds) >= self.maxSeeds:
            seeds.clear()
        seeds[mac] = device.credential if device is not None else None

    def _reading(self, store) -> None:
        if self._reads is None or self._reads.store is not store:
            self._reads = CachedReads(store)

    @property
    def cache(self) -> RenderCache:
        return self._cache

    def _keep(self, key: tuple, entry: tuple, scopes) -> None:
        """
        Cache a rendering under C{key}, indexed by the scopes it was made
        from; its size is its content's (a refusal or a configured file's
        path counts as the name asked).
        """
        rendered = entry[0]
        content = getattr(rendered, "content", b"")
        self._cache.put(key, entry, len(content) + len(key[0]) + len(key[1] or ""), scopes)

    def invalidate(self, scopes) -> None:
        """
        Drop the renderings made from any of C{scopes} (C{None}: all).  The
        store's change listener, and what a read of the feed calls.
        """
        self._generation += 1
        if self._reads is not None:
            self._reads.drop(scopes)
        self._cache.dropScopes(scopes)
        if scopes is None:
            self._seeds.clear()
        else:
            for scope in scopes:
                if scope.startswith("device:"):
                    self._seeds.pop(scope[7:], None)

    def _resolve(self, name: str, userAgentText: str | None):
        """
        The vendor, file request and parsed User-Agent of a name asked with a
        User-Agent, remembered for the most recent pairs (phones ask the
        same few names again and again).

        @return: C{(vendor, request, userAgent)} or C{None}.
        """
        memoKey = (name, userAgentText)
        found = self._resolved.get(memoKey, _MISSING)
        if found is _MISSING:
            userAgent = self._registry.parseUserAgent(userAgentText)
            resolved = self._registry.resolveFile(name, userAgent)
            found = None if resolved is None else (*resolved, userAgent)
            if len(self._resolved) >= self.maxResolved:
                self._resolved.clear()
            self._resolved[memoKey] = found
        return found

    def _pushed(self) -> bool:
        """
        Whether the store tells every process's changes as they commit
        (L{IDeviceStore.pushesChanges}): then the feed is not polled.
        """
        listening = self._listening
        return listening is not None and listening.pushesChanges()

    def _readChanges(self, store):
        """
        Read the change feed when the last read is older than
        C{versionTTL} and the store does not push changes, and drop what it
        names.  The first time, start listening to the store's changes.
        Fetches that come while a read is under way wait for that one (a
        storm's cache misses would otherwise each read the feed until the
        first read returns).  A read that fails (the database is away)
        leaves the renderings cached, served until a read succeeds; logged
        once.

        @return: a Deferred firing with C{None} once the feed is fresh (or
            could not be read).
        """
        if self._listening is not store:
            if self._listening is not None:
                self._listening.removeChangeListener(self.invalidate)
            store.addChangeListener(self.invalidate)
            self._listening = store
        if self._feedWaiters is not None:
            waiting = defer.Deferred()
            self._feedWaiters.append(waiting)
            return waiting
        now = self._clock.seconds()
        if now - self._versionReadAt < self.versionTTL or store.pushesChanges():
            return defer.succeed(None)
        self._feedWaiters = []

        def read(result) -> None:
            latest, scopes = result
            self._versionReadAt = now
            self._feedUnread = False
            if latest != self._seq or scopes is None:
                self._seq = latest
                if scopes is None or scopes:
                    self.invalidate(scopes)

        def unread(failure) -> None:
            self._versionReadAt = now
            if not self._feedUnread:
                self._feedUnread = True
                self._log.warn("Cannot read the change feed ({error}); serving the files cached",
                               error=failure.value)

        def tellWaiters(result) -> None:
            waiters, self._feedWaiters = self._feedWaiters, None
            for waiting in waiters:
                waiting.callback(None)

        d = defer.maybeDeferred(store.changesAfter, self._seq)
        d.addCallbacks(read, unread)
        d.addBoth(tellWaiters)
        return d

    def _certificateRefusal(self, request: FileRequest, fetch: Fetch) -> str | None:
        """
        Why a per-device file may not go to this client, or C{None}: a
        client certificate naming another MAC, or none at all when
        C{[http] client_ca} is set.
        """
        if request.mac is None:
            return None
        if fetch.clientMAC is not None:
            if fetch.clientMAC != request.mac:
                return f"client certificate is for {fetch.clientMAC}"
            return None
        if self._config.http.clientCA:
            return "no client certificate naming the device"
        return None

    def _refuse(self, mac: str | None, fetch: Fetch, reason: str, kind: str) -> None:
        """
        Record a refusal: a C{rejected} event giving C{reason}, counted in
        L{rejections} under C{kind}.
        """
        self.rejections[kind, fetch.protocol] += 1
        self._recorder.event(Event(self._clock.seconds(), mac, "rejected", f"{fetch.transport} {fetch.name}: {reason}"))

    @defer.inlineCallbacks
    def _render(self, store, vendor, request: FileRequest, userAgent, transport, withSecrets: bool):
        """
        @param withSecrets: whether the request had a proof.
        @return: C{(rendering, version, scopes)}: the rendering, the
            device's current settings version (or C{None}) and the scopes
            it was made from.
        """
        self._reading(store)
        mac = request.mac
        device = version = None
        if mac is not None:
            device, version = yield self._reads.device(mac)
            self._remember(mac, device)
            if device is not None and device.vendor is not None and device.vendor != vendor.name:
                # A vendor serves only its own devices: no MAC of another
                # vendor's phone through this vendor's path.
                return _Refused(f"the device is a {device.vendor} phone", "other-vendor"), None, (f"device:{mac}",)
        stored = yield defer.ensureDeferred(
            renderStored(self._reads, self._config, vendor, request, userAgent, device, transport,
                         withSecrets=withSecrets, secretNames=self._secretNames))
        if stored.refused:
            return _UNKNOWN, None, stored.scopes
        return stored.rendered, version, stored.scopes

    def _record(self, vendor, request: FileRequest, userAgent, fetch: Fetch, rendered, version, proof) -> None:
        """
        Count and record a fetch: the device seen (its address recorded
        only when the request had a proof: a push goes only to an address
        the device proved), its C{config-fetched} or C{tftp-fetched} event.
        """
        self.fetches[vendor.name, fetch.protocol] += 1
        mac = request.mac or (userAgent.mac if userAgent else None)
        if isinstance(rendered, _Refused):
            self._refuse(mac, fetch, rendered.reason, rendered.kind)
            return
        if version is not None and rendered is not None and self._fetched is not None:
            self._fetched(request.mac, version)
        now = self._clock.seconds()
        if mac is None:
            return
        kind = "tftp-fetched" if fetch.transport == "tftp" else "config-fetched"
        self._recorder.sighting(
            DeviceInfo(
                mac=mac,
                vendor=vendor.name,
                model=request.model or (userAgent.model if userAgent else None),
                firmware=userAgent.firmware if userAgent else None,
                ip=fetch.clientIP if proof else None,
                state="fetched" if rendered is not None else "seen",
                firstSeen=now,
                lastSeen=now,
            )
        )
        self._recorder.event(Event(now, mac, kind, f"{fetch.name} {'served' if rendered else 'not found'}"))


class _Refused:
    """
    A file refused (cached like a rendering); the caller sees C{None}.

    @ivar reason: what the C{rejected} event says.
    @ivar kind: what L{Provisioner.rejections} counts it under
        (C{unknown-device}, C{other-vendor}).
    """

    def __init__(self, reason: str, kind: str) -> None:
        self.reason = reason
        self.kind = kind

    def __bool__(self) -> bool:
        return False


_UNKNOWN = _Refused("unknown device", "unknown-device")
_MISSING = object()
_NO_DEVICE = Proof(None)
_CREDENTIAL = Proof("credential")
_MARK = TOKEN_MARK.encode("ascii")

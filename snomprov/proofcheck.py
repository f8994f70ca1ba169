# -*- test-case-name: tests.test_proofcheck -*-
"""
Whether a request for a device's file comes from that device (DESIGN §5):
the proofs C{[provisioning] proofs} accepts, tried in the order of
L{snomprov.config.PROOFS}:

  - C{certificate}: a verified TLS client certificate naming the MAC;
  - C{token}: a token of a PnP NOTIFY (L{snomprov.proofs.issueToken}) for
    this MAC and the request's address, unexpired, used at most
    C{token_fetches} times; or the device's credential;
  - C{network}: the request's address inside C{[http]} / C{[tftp]
    allowed_networks};
  - C{pnp-address}: the address from which the phone acknowledged our
    NOTIFY (so it receives what is sent there), within
    C{pnp_address_seconds}.

What is remembered (fetches per token, PnP addresses) is this process's,
in bounded tables; with several daemons a token's fetches are counted per
daemon, and a phone's PnP address proves its requests to the daemon that
answered its SUBSCRIBE (tokens and credentials work on all of them).
"""

from __future__ import annotations

from itertools import islice

from .networks import NetworkSet
from .proofs import credentialFor, isCredential, issueToken, tokenHolds

__all__ = ["ProofChecker", "Proof"]


class Proof:
    """
    The outcome of checking a request: C{proof} (the name of the proof
    that holds, or C{None}) and C{missing} (why each accepted proof does
    not hold, for the C{rejected} event).
    """

    __slots__ = ("proof", "missing")

    def __init__(self, proof: str | None, missing: tuple[str, ...] = ()) -> None:
        self.proof = proof
        self.missing = missing

    def __bool__(self) -> bool:
        return self.proof is not None

    def __repr__(self) -> str:
        return f"Proof({self.proof!r}, {self.missing!r})"


class ProofChecker:
    """
    Issues tokens, remembers PnP addresses, checks requests.

    @param key: the daemon's key (L{snomprov.proofs.KEY_BYTES} bytes).
    @param config: the L{snomprov.config.Config}.
    @param clock: an C{IReactorTime}.
    @param maxEntries: the most tokens and PnP addresses remembered; past
        it the oldest half is forgotten.
    """

    def __init__(self, key: bytes, config, clock, maxEntries: int = 1 << 17) -> None:
        provisioning = config.provisioning
        self._key = key
        self._clock = clock
        self.accepted = frozenset(provisioning.proofs)
        self.tokenSeconds = provisioning.tokenSeconds
        self.tokenFetches = provisioning.tokenFetches
        self.pnpSeconds = provisioning.pnpAddressSeconds
        self.maxEntries = maxEntries
        self._networks = {"http": NetworkSet(config.http.allowedNetworks, maxEntries),
                          "tftp": NetworkSet(config.tftp.allowedNetworks, maxEntries)}
        self._uses: dict[str, int] = {}
        self._pnp: dict[str, tuple[str, float]] = {}

    # -- what PnP tells ---------------------------------------------------

    def issue(self, mac: str | None, address: str) -> str:
        """
        The token to put in the NOTIFY answering C{mac}'s SUBSCRIBE from
        C{address}; C{""} when tokens are not accepted or the MAC is not
        known (the phone expands C{{mac}} itself).
        """
        if mac is None or "token" not in self.accepted:
            return ""
        return issueToken(self._key, mac, address, self._clock.seconds() + self.tokenSeconds)

    def acknowledged(self, mac: str | None, address: str) -> None:
        """
        The phone C{mac} acknowledged our NOTIFY from C{address}.
        """
        if mac is None or "pnp-address" not in self.accepted:
            return
        table = self._pnp
        table.pop(mac, None)
        self._bound(table)
        table[mac] = (address, self._clock.seconds())

    # -- credentials ------------------------------------------------------

    def credential(self, mac: str, seed: str | None) -> str:
        """
        The credential of device C{mac} whose seed is C{seed}
        (L{snomprov.device.DeviceInfo.credential}).
        """
        return credentialFor(self._key, mac, seed)

    @staticmethod
    def isCredential(token: str | None) -> bool:
        """
        Whether a request's C{token} parameter is shaped like a credential.
        """
        return token is not None and isCredential(token)

    def credentialHolds(self, mac: str, seed: str | None, token: str) -> bool:
        """
        Whether C{token} is C{mac}'s current credential (and tokens are
        accepted).
        """
        return "token" in self.accepted and token == credentialFor(self._key, mac, seed)

    # -- requests ---------------------------------------------------------

    def prove(self, mac: str, transport: str, address: str, clientMAC: str | None,
              token: str | None) -> Proof:
        """
        Check a request from C{address} over C{transport} (C{http},
        C{tftp}) for a file of C{mac}, with the MAC of its client
        certificate (or C{None}) and its C{token} parameter (or C{None}).
        A credential is not checked here (it needs the device's seed:
        L{credentialHolds}).  A token that holds is counted as used.
        """
        accepted = self.accepted
        missing = []
        if "certificate" in accepted:
            if clientMAC == mac:
                return Proof("certificate")
            missing.append("no client certificate naming it")
        if "token" in accepted:
            why = self._token(mac, address, token)
            if why is None:
                return Proof("token")
            missing.append(why)
        if "network" in accepted:
            if self._isInside(transport, address):
                return Proof("network")
            missing.append(f"no [{transport}] allowed_networks" if not self.hasNetworks(transport)
                           else f"{address} is outside [{transport}] allowed_networks")
        if "pnp-address" in accepted:
            known = self._pnp.get(mac)
            if known is not None and known[0] == address and self._clock.seconds() - known[1] <= self.pnpSeconds:
                return Proof("pnp-address")
            missing.append("not from the address of its PnP")
        return Proof(None, tuple(missing))

    def _token(self, mac: str, address: str, token: str | None) -> str | None:
        if not token:
            return "no token"
        if isCredential(token):
            return "a credential that is not its own"
        why = tokenHolds(self._key, token, mac, address, self._clock.seconds())
        if why is not None:
            return why
        uses = self._uses.get(token, 0)
        if uses >= self.tokenFetches:
            return "the token is used up"
        if not uses:
            self._bound(self._uses)
        self._uses[token] = uses + 1
        return None

    def _isInside(self, transport: str, address: str) -> bool:
        networks = self._networks.get(transport)
        return networks is not None and not networks.isEmpty and address in networks

    def hasNetworks(self, transport: str) -> bool:
        """
        Whether C{[transport] allowed_networks} is set.
        """
        networks = self._networks.get(transport)
        return networks is not None and not networks.isEmpty

    def _bound(self, table: dict) -> None:
        """
        Make room for one entry: past L{maxEntries}, forget the oldest half.
        """
        if len(table) >= self.maxEntries:
            for key in list(islice(table, len(table) // 2 or 1)):
                del table[key]

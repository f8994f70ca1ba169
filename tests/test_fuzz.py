"""
The fuzz harnesses of fuzz/ (run for long by C{make fuzz}, under atheris)
run here over their seeds, the cases the fuzzers found
(tests/fuzz_cases/<target>/) and input hypothesis makes, so that none of
them rots and every bug found stays fixed.  And the SIP codec keeps no
table that traffic can grow: a decoder's learnt header names are its own
and bounded, and a flood of spellings changes no later reading.
"""

from __future__ import annotations

import importlib
import sys
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz import TARGETS, casesOf
from fuzz.run import _RUNS, _DONE


def harness(target: str) -> types.ModuleType:
    return importlib.import_module(f"fuzz.{target}")


def test_everyHarnessIsListed() -> None:
    """
    Every module of fuzz/ but the package and the runner is a target.
    """
    from fuzz import ROOT

    modules = {p.stem for p in (ROOT / "fuzz").glob("*.py")} - {"__init__", "run"}
    assert modules == set(TARGETS)


@pytest.mark.parametrize("target", TARGETS)
def test_seeds(target: str) -> None:
    """
    The harness passes on each of its seeds (real packets and files).
    """
    module = harness(target)
    seeds = module.seeds()
    assert seeds
    for data in seeds:
        module.testOneInput(data)


CASES = [(target, path) for target in TARGETS for path in casesOf(target)]


@pytest.mark.parametrize("target, path", CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_foundCase(target: str, path) -> None:
    """
    A case a fuzzer found (an exception other than the module's own error
    type, or a broken promise) passes since its fix.
    """
    harness(target).testOneInput(path.read_bytes())


def test_casesKept() -> None:
    """
    The found cases are there to run (a renamed folder would run none).
    """
    assert len(CASES) >= 5


def _generatedTest(target: str):
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode)))
    def test(data: bytes) -> None:
        harness(target).testOneInput(data)

    test.__name__ = f"test_generated_{target}"
    test.__doc__ = f"""
    The {target} harness passes on input hypothesis makes (random, not
    guided: the guided runs are C{{make fuzz}}'s).
    """
    return test


# One test per target: pytest-twisted and hypothesis do not mix with
# parametrize.
for _target in TARGETS:
    globals()[f"test_generated_{_target}"] = _generatedTest(_target)
del _target


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), seed=st.sampled_from(harness("sip_decoder").seeds()))
def test_mutatedSIP(data: bytes, seed: bytes) -> None:
    """
    Real SUBSCRIBEs with a generated tail spliced in at a line: the decoder
    and the ua-profile reader keep their promises.
    """
    lines = seed.split(b"\r\n")
    at = len(data) % len(lines)
    mutated = b"\r\n".join(lines[:at] + [data] + lines[at:])
    harness("sip_decoder").testOneInput(mutated)
    harness("uaprofile").testOneInput(mutated)


def test_runnerReadsLibFuzzer() -> None:
    """
    What the runner reads of libFuzzer's closing lines.
    """
    output = "#1234\tDONE   cov: 57 ft: 99 corp: 3/10b exec/s: 61 rss: 70Mb\nDone 1240 runs in 5 second(s)\n"
    assert _DONE.findall(output) == [("1234", "57", "99")]
    assert _RUNS.search(output).group(1) == "1240"


# -- no table that traffic can grow ------------------------------------------


def _containerSizes(prefix: str) -> dict[str, int]:
    """
    The size of every dict, list, set and lru_cache held by a module of
    C{prefix} or by a class defined there.
    """
    sizes = {}
    for name, module in list(sys.modules.items()):
        if not (name == prefix or name.startswith(prefix + ".")) or module is None:
            continue
        for attr, value in vars(module).items():
            holders = [(f"{name}.{attr}", value)]
            if isinstance(value, type) and value.__module__ == name:
                holders += [(f"{name}.{attr}.{a}", v) for a, v in vars(value).items()]
            for where, held in holders:
                if isinstance(held, (dict, list, set, bytearray)):
                    sizes[where] = len(held)
                elif hasattr(held, "cache_info"):
                    sizes[where] = held.cache_info().currsize
    return sizes


def _spellings(count: int):
    for i in range(count):
        yield f"X-Hdr-{i}"
        yield "".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate("user-agent"))


def _packet(name: str, plain: bool) -> bytes:
    end = "\r\n" if plain else "\n"
    return (f"SUBSCRIBE sip:MAC%3a000413A1B2C3@h SIP/2.0{end}Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKa"
            f"{end}{name}: v{end}From: <sip:a@h>;tag=1{end}Call-ID: c{end}CSeq: 1 SUBSCRIBE{end}"
            f"Event: ua-profile;vendor=\"snom\";model=\"snomD785\"{end}Content-Length: 0{end}{end}").encode()


def test_codecKeepsNoGrowingTable() -> None:
    """
    Thousands of distinct header spellings through the decoder (quick and
    full), the full parser and the ua-profile reader grow no module's or
    class's container in snomprov.sip; a decoder's own table stays within
    its bound.
    """
    from snomprov.sip.decoded import Decoder
    from snomprov.sip.message import parseMessage
    from snomprov.sip.quick import quickSplit
    from snomprov.sip.uaprofile import ProfileReader

    decoder = Decoder(maxNames=100)
    reader = ProfileReader(maxEvents=50)
    decoder.decode(_packet("Expires", True))
    before = _containerSizes("snomprov.sip")
    assert before, "no container found to watch"
    for i, name in enumerate(_spellings(3000)):
        for plain in (True, False):
            data = _packet(name, plain).replace(b'model="snomD785"', f'model="m{i}"'.encode())
            message = decoder.decode(data)
            reader.read(message, "192.0.2.9")
            parseMessage(data)
            quickSplit(data)
    assert _containerSizes("snomprov.sip") == before
    assert len(decoder._names.table) <= decoder._names._limit
    assert len(reader._events) <= 50


def test_spellingsChangeNoLaterReading() -> None:
    """
    A decoder that has read a flood of spellings (its table full) reads
    every later packet as a fresh decoder does.
    """
    from snomprov.sip.decoded import Decoder

    flooded = Decoder(maxNames=10)
    for name in _spellings(500):
        flooded.decode(_packet(name, True))
    for name in ["User-Agent", "USER-AGENT", "x-never-seen", "Via", "v", "i", "X-Hdr-3"]:
        for plain in (True, False):
            data = _packet(name, plain)
            assert flooded.decode(data) == Decoder().decode(data) == Decoder(quick=False).decode(data)

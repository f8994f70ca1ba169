"""
Fuzz harnesses: one module per target, each with C{testOneInput(data)}
(raises only on a bug: an exception other than the target's own error
type, or a broken promise such as a round trip that does not come back)
and C{seeds()} (the starting corpus: real packets and files of
tests/fixtures, and a few made here).

C{make fuzz} runs each with atheris (coverage-guided, C{fuzz.run});
tests/test_fuzz.py runs each over its seeds and its found cases
(tests/fuzz_cases/<target>/), and over generated input with hypothesis,
so that no harness rots.  Nothing here imports atheris: the harnesses are
plain functions.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["TARGETS", "ROOT", "fixtures", "casesOf"]

TARGETS = (
    "sip_message",
    "sip_decoder",
    "uaprofile",
    "tftp_packet",
    "useragent",
    "mac",
    "csvimport",
    "settings_xml",
    "api_json",
    "proof",
)
"""
The harness modules of this package, by name (C{fuzz.<name>}).
"""

ROOT = Path(__file__).resolve().parent.parent
"""
The checkout.
"""


def fixtures(folder: str, pattern: str = "*") -> list[bytes]:
    """
    The bytes of the files of C{tests/fixtures/<folder>} matching C{pattern}.
    """
    return [path.read_bytes() for path in sorted((ROOT / "tests" / "fixtures" / folder).glob(pattern))]


def casesOf(target: str) -> list[Path]:
    """
    The found cases kept for C{target}: C{tests/fuzz_cases/<target>/*}.
    """
    return sorted(p for p in (ROOT / "tests" / "fuzz_cases" / target).glob("*") if p.is_file())

"""
Run the fuzz harnesses with atheris (coverage-guided, libFuzzer), each for
a bounded time, and print each one's executions and coverage::

    python -m fuzz.run [--seconds 60] [target ...]

Each target runs in a process of its own (C{--child}), its C{snomprov}
modules instrumented, from a fresh corpus of its seeds and its kept cases.
A crash (an exception the harness lets out, or a failed assertion) is
copied into C{tests/fuzz_cases/<target>/} — where tests/test_fuzz.py runs
it from then on — and makes the run exit 1.  atheris is the C{fuzz} extra
(C{pip install -e '.[fuzz]'}; C{make fuzz} installs it).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import ROOT, TARGETS, casesOf

_DONE = re.compile(r"^#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+)", re.M)
_LAST = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)", re.M)
_RUNS = re.compile(r"^Done (\d+) runs in (\d+) second", re.M)


def _child(target: str, libFuzzerArgs: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["snomprov"]):
        harness = importlib.import_module(f"fuzz.{target}")
    atheris.Setup([sys.argv[0], *libFuzzerArgs], harness.testOneInput)
    atheris.Fuzz()


def _seedCorpus(target: str, into: Path) -> int:
    harness = importlib.import_module(f"fuzz.{target}")
    count = 0
    for data in [*harness.seeds(), *(p.read_bytes() for p in casesOf(target))]:
        (into / hashlib.sha1(data).hexdigest()).write_bytes(data)
        count += 1
    return count


def runTarget(target: str, seconds: int, keep: Path | None = None) -> dict:
    """
    Fuzz one target for C{seconds}.

    @param keep: where a crash is copied (default tests/fuzz_cases/<target>).
    @return: C{target}, C{executions}, C{coverage} (libFuzzer's C{cov}:
        instrumented edges reached), C{features} (C{ft}), C{seconds},
        C{crashes} (the files kept) and C{output} (libFuzzer's last lines).
    """
    keep = keep if keep is not None else ROOT / "tests" / "fuzz_cases" / target
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as work:
        corpus = Path(work, "corpus")
        artifacts = Path(work, "artifacts")
        corpus.mkdir()
        artifacts.mkdir()
        _seedCorpus(target, corpus)
        command = [sys.executable, "-m", "fuzz.run", "--child", target, "--",
                   f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=2048",
                   "-max_len=8192", "-print_final_stats=1", f"-artifact_prefix={artifacts}/", str(corpus)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, errors="replace",
                              timeout=seconds + 300)
        output = done.stderr + done.stdout
        crashes = []
        for artifact in sorted(artifacts.iterdir()):
            keep.mkdir(parents=True, exist_ok=True)
            target_ = keep / artifact.name
            shutil.copyfile(artifact, target_)
            crashes.append(str(target_.relative_to(ROOT)))
    last = _DONE.findall(output) or _LAST.findall(output)
    runs = _RUNS.search(output)
    executions, coverage, features = (int(x) for x in last[-1]) if last else (0, 0, 0)
    if runs:
        executions = int(runs.group(1))
    if done.returncode != 0 and not crashes:
        crashes.append(f"exit {done.returncode}")
    return {"target": target, "executions": executions, "coverage": coverage, "features": features,
            "seconds": seconds, "crashes": crashes, "output": "\n".join(output.splitlines()[-30:])}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target (default 60)")
    parser.add_argument("targets", nargs="*", choices=[[], *TARGETS], metavar="target",
                        help="default: every one of " + ", ".join(TARGETS))
    options = parser.parse_args(argv)
    failed = False
    print(f"{'target':<14} {'executions':>11} {'exec/s':>8} {'cov':>6} {'ft':>6}  crashes", flush=True)
    for target in options.targets or TARGETS:
        result = runTarget(target, options.seconds)
        rate = result["executions"] // max(1, result["seconds"])
        print(f"{target:<14} {result['executions']:>11} {rate:>8} {result['coverage']:>6} "
              f"{result['features']:>6}  {', '.join(result['crashes']) or '-'}", flush=True)
        if result["crashes"]:
            failed = True
            print(result["output"], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

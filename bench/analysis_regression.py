"""Regression check for engine optimisations: the corpus run's full output must not change.

``record`` analyses the benchmark corpus (this interpreter's standard library without its
tests, as ``bench/analysis.py`` selects it) without any cache and writes the complete JSON
report (every finding and every file's, function's and class's metrics), less the values that
depend on time or on the cache, to a file. ``check`` analyses again and compares with that
file: any difference (a finding, a metric, a fingerprint) is printed and the exit code is 1.

It also times the per-file work in this one process (CPU seconds per file, which a loaded,
shared machine disturbs much less than wall time): ``profile`` prints the slowest stages.

Usage::

    python bench/analysis_regression.py record REF.json [--jobs N] [--stdlib PATH]
    python bench/analysis_regression.py check REF.json [--jobs N] [--stdlib PATH]
    python bench/analysis_regression.py cpu [--stdlib PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis import stdlib_files


def normalised(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the values that differ from run to run for the same input."""
    summary = dict(report.get("summary", {}))
    for key in ("duration_s", "cache_hits"):
        summary.pop(key, None)
    report = {**report, "summary": summary}
    report["files"] = [{k: v for k, v in f.items() if k != "cached"} for f in report["files"]]
    return report


def run_corpus(root: Path, jobs: int | None) -> dict[str, Any]:
    """Analyse the corpus without caches; the JSON report as a dict."""
    from pyforge.analysis import analyze_paths
    from pyforge.analysis.config import Config

    files = stdlib_files(root)
    report = analyze_paths(files, Config(root=root), jobs=jobs, use_cache=False)
    return normalised(report.to_dict())


def diff(ref: Any, new: Any, where: str = "", out: list[str] | None = None) -> list[str]:
    """Paths (JSON-pointer-like) where two JSON values differ, at most 50."""
    out = [] if out is None else out
    if len(out) >= 50:
        return out
    if isinstance(ref, dict) and isinstance(new, dict):
        for key in sorted(set(ref) | set(new), key=str):
            diff(ref.get(key, "<missing>"), new.get(key, "<missing>"), f"{where}/{key}", out)
    elif isinstance(ref, list) and isinstance(new, list) and len(ref) == len(new):
        for i, (a, b) in enumerate(zip(ref, new, strict=True)):
            diff(a, b, f"{where}/{i}", out)
    elif ref != new:
        out.append(f"{where}: {str(ref)[:200]!s} != {str(new)[:200]!s}")
    return out


def cpu_profile(root: Path) -> None:
    """CPU seconds per file in this process (parse, token scan, walk and checks together)."""
    from pyforge.analysis.config import Config
    from pyforge.analysis.engine import analyze_bytes, build_plan
    from pyforge.analysis.registry import get_registry

    config = Config(root=root)
    analyzers = list(get_registry().analyzers.values())
    settings = config.settings
    plan = build_plan(analyzers, settings)
    files = stdlib_files(root)
    payloads = [(Path(f).relative_to(root).as_posix(), Path(f).read_bytes()) for f in files]
    times = []
    for _ in range(3):
        start = time.process_time()
        for rel, data in payloads:
            analyze_bytes(data, rel, settings, plan, config.options)
        times.append(time.process_time() - start)
    best = min(times)
    print(f"per-file CPU (in-process, best of 3): {best:.2f} s for {len(files)} files = "
          f"{1000 * best / len(files):.2f} ms/file = "
          f"{len(files) / best:.0f} files/s/core")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("record", "check", "cpu"))
    parser.add_argument("reference", nargs="?", type=Path)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    args = parser.parse_args()
    root = args.stdlib.resolve()
    if args.action == "cpu":
        cpu_profile(root)
        return
    if args.reference is None:
        parser.error("record and check need the reference file")
    report = run_corpus(root, args.jobs)
    if args.action == "record":
        args.reference.write_text(json.dumps(report, sort_keys=True, indent=0))
        print(f"recorded {len(report['files'])} files, {len(report['findings'])} findings")
        return
    ref = json.loads(args.reference.read_text())
    problems = diff(ref, json.loads(json.dumps(report)))
    for line in problems:
        print(line)
    print(f"{len(report['files'])} files, {len(report['findings'])} findings: "
          f"{'IDENTICAL' if not problems else 'DIFFERENT'}")  # fmt: skip
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

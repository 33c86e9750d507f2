"""Benchmark: ``pyforge analyze`` against radon, bandit and ruff on the standard library.

Runs, in one go and on the same files (this interpreter's standard library without its tests):
PyForge cold (empty cache) and warm (same cache), ``ruff check --select ALL``, then
``radon cc``, ``radon mi``, ``bandit -r`` and ``ruff check`` with PyForge's selection. Prints
each wall time and files/s, PyForge's cold time as a ratio of ``ruff check --select ALL``'s
(the target: within 3x) and of the peers' sum, the warm/cold ratio, PyForge's agreement with
radon's cyclomatic complexity per function, and its recall of bandit's findings on the rules
both cover (bandit's B<nnn> is ruff's S<nnn>).

PyForge's cold and warm runs and ``ruff check --select ALL`` are repeated (``--repeat``,
default 3, each cold run with an empty cache) and the medians are reported, since a shared
machine makes single runs noisy.

``--only-pyforge`` skips the slow peers (``radon mi`` alone takes minutes on the standard
library) and everything compared with them: PyForge's cold and warm times, their ratio, and
the ratio to ``ruff check --select ALL``.

Usage: python bench/analysis.py [--jobs N] [--repeat N] [--stdlib PATH] [--only-pyforge]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
BIN = Path(sys.executable).parent
TARGETS = {"files_per_s": 300.0, "warm_ratio": 0.05, "agreement": 99.0, "ruff_ratio": 3.0}


def stdlib_files(root: Path) -> list[str]:
    files: list[str] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files += [os.path.join(directory, n) for n in sorted(names) if n.endswith(".py")]
    return files


#: CPU seconds (user + system) of each timed command, by its first two arguments.
CPU: dict[str, list[float]] = {}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], out: Path | None = None) -> tuple[float, str]:
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    # CPU time of the command and everything it waited for (pool workers, ruff): on a shared
    # machine it moves far less with the load than wall time does.
    CPU.setdefault(" ".join(argv[:2]), []).append(_children_cpu() - cpu_before)
    if out is not None and proc.stdout:
        out.write_text(proc.stdout)
    if proc.returncode not in (0, 1):
        sys.stderr.write(f"warning: {argv[0]} exited {proc.returncode}: {proc.stderr[-500:]}\n")
    return elapsed, proc.stdout


def radon_blocks(data: dict, root: Path) -> dict[tuple[str, int, int], int]:
    out: dict[tuple[str, int, int], int] = {}

    def add(path: str, block: dict) -> None:
        if block.get("type") in ("function", "method"):
            out[(path, block["lineno"], block["col_offset"])] = block["complexity"]
        for inner in block.get("closures", []) + block.get("methods", []):
            add(path, inner)

    for path, blocks in data.items():
        if isinstance(blocks, dict):  # {"error": ...}
            continue
        rel = Path(path).resolve().relative_to(root).as_posix()
        for block in blocks:
            add(rel, block)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--only-pyforge", "--skip-slow-peers", action="store_true",
                        help="time PyForge cold and warm only (no peers)")  # fmt: skip
    args = parser.parse_args()
    root = args.stdlib.resolve()
    files = stdlib_files(root)
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    n = len(files)
    print(f"corpus: {root} without tests: {n} files, {lines} lines; {os.cpu_count()} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="pyforge-bench-") as tmp_name:
        tmp = Path(tmp_name)
        colds: list[float] = []
        warms: list[float] = []
        ruff_alls: list[float] = []
        ruff_all = [str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero",
                    "--select", "ALL", "--output-format", "json", "-q", *files]  # fmt: skip
        report_path = tmp / "pyforge.json"
        for i in range(max(1, args.repeat)):
            pyforge = [sys.executable, "-m", "pyforge.analysis", "analyze", *files, "--format",
                       "json", "--cache-dir", str(tmp / f"cache{i}")]  # fmt: skip
            if args.jobs:
                pyforge += ["--jobs", str(args.jobs)]
            colds.append(timed([*pyforge, "--output", str(report_path)])[0])
            warms.append(timed([*pyforge, "--output", str(tmp / "warm.json")])[0])
            ruff_alls.append(timed(ruff_all)[0])
        cold, warm = statistics.median(colds), statistics.median(warms)
        ruff_all_t = statistics.median(ruff_alls)
        cpu_pyforge = CPU[" ".join(pyforge[:2])]
        cold_cpu = statistics.median(cpu_pyforge[0::2])
        ruff_cpu = statistics.median(CPU[" ".join(ruff_all[:2])])
        print(
            f"CPU s (user+sys, all processes): pyforge cold {cold_cpu:.2f} (median; "
            f"{', '.join(f'{t:.2f}' for t in cpu_pyforge[0::2])}) = "
            f"{1000 * cold_cpu / n:.2f} ms/file, {n / (cold_cpu / (os.cpu_count() or 1)):.0f} "
            f"files/s if all {os.cpu_count()} cores were free; ruff --select ALL {ruff_cpu:.2f}; "
            f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print(
            f"pyforge runs (s): cold {', '.join(f'{t:.2f}' for t in colds)}; "
            f"warm {', '.join(f'{t:.2f}' for t in warms)}; "
            f"ruff --select ALL {', '.join(f'{t:.2f}' for t in ruff_alls)}"
        )
        print(
            f"pyforge cold (median) {cold:.2f} s = {n / cold:.0f} files/s "
            f"({'met' if n / cold >= TARGETS['files_per_s'] else 'MISSED'} >= "
            f"{TARGETS['files_per_s']:.0f}); ruff check --select ALL (median) {ruff_all_t:.2f} s "
            f"= {n / ruff_all_t:.0f} files/s; pyforge cold / ruff ALL: {cold / ruff_all_t:.2f}x "
            f"({'met' if cold <= TARGETS['ruff_ratio'] * ruff_all_t else 'MISSED'} <= "
            f"{TARGETS['ruff_ratio']:.0f}x)"
        )
        report = json.loads(report_path.read_text())
        warm_report = json.loads((tmp / "warm.json").read_text())
        assert warm_report["summary"]["cache_hits"] == n, "warm run did not use the cache"
        assert warm_report["findings"] == report["findings"], "warm run differs from cold"
        if args.only_pyforge:
            print(f"pyforge cold (median) {cold:.2f} s, warm (median) {warm:.3f} s; "
                  f"warm / cold: {100 * warm / cold:.1f}% "
                  f"({'met' if warm <= TARGETS['warm_ratio'] * cold else 'MISSED'})")  # fmt: skip
            return

        radon_cc, radon_out = timed([str(BIN / "radon"), "cc", "-j", *files])
        radon_mi, radon_mi_out = timed([str(BIN / "radon"), "mi", "-j", *files])
        bandit_json = tmp / "bandit.json"
        bandit, _ = timed([str(BIN / "bandit"), "-q", "-f", "json", "-o", str(bandit_json),
                           *files])  # fmt: skip
        ruff_t, _ = timed([str(BIN / "ruff"), "check", "--isolated", "--no-cache", "--exit-zero",
                           "--select", "E4,E7,E9,F,W,S", "--output-format", "json", "-q",
                           *files])  # fmt: skip
        bandit_results = json.loads(bandit_json.read_text()).get("results", [])

    peers = {"radon cc": radon_cc, "radon mi": radon_mi, "bandit -r": bandit, "ruff check": ruff_t}
    peer_sum = sum(peers.values())
    print(f"\n{'tool':<22}{'wall s':>9}{'files/s':>10}")
    for name, t in [("pyforge cold (median)", cold), ("pyforge warm (median)", warm),
                    ("ruff --select ALL", ruff_all_t), *peers.items()]:  # fmt: skip
        print(f"{name:<22}{t:>9.2f}{n / t:>10.0f}")
    print(f"{'peers sum':<22}{peer_sum:>9.2f}")

    # Agreement with radon's cyclomatic complexity, per function/method (closures included).
    mine = {
        (f["path"], fn["line"], fn["column"] - 1): fn["cyclomatic"]
        for f in report["files"]
        for fn in f["functions"]
    }
    theirs = radon_blocks(json.loads(radon_out), root)
    agree = sum(1 for k, v in theirs.items() if mine.get(k) == v)
    agreement = 100.0 * agree / len(theirs) if theirs else 0.0

    # Agreement with radon's maintainability index (``mi_visit(code, multi=True)``) per file.
    my_mi = {f["path"]: f["metrics"]["maintainability_index"] for f in report["files"]
             if f["metrics"] is not None}  # fmt: skip
    their_mi = {
        Path(p).resolve().relative_to(root).as_posix(): v["mi"]
        for p, v in json.loads(radon_mi_out).items()
        if "mi" in v
    }
    mi_agree = sum(1 for p, v in their_mi.items() if p in my_mi and abs(my_mi[p] - v) < 0.01)
    mi_agreement = 100.0 * mi_agree / len(their_mi) if their_mi else 0.0

    # Recall of bandit's findings on the rules ruff's S set also has (B<nnn> == S<nnn>).
    ruff_rules = subprocess.run([str(BIN / "ruff"), "rule", "--all", "--output-format", "json"],
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
    stable_s = {r["code"] for r in json.loads(ruff_rules)
                if r.get("linter") == "flake8-bandit" and not r.get("preview")}  # fmt: skip
    ours: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for f in report["findings"]:
        if f["rule"].startswith("SEC-"):
            ours.setdefault((f["path"], f["rule"][4:]), []).append((f["line"], f["end_line"]))
    covered = found = 0
    for r in bandit_results:
        code = "S" + r["test_id"][1:]
        if code not in stable_s:
            continue
        covered += 1
        rel = Path(r["filename"]).resolve().relative_to(root).as_posix()
        line = r["line_number"]
        if any(a <= line <= b for a, b in ours.get((rel, code), ())):
            found += 1
    recall = 100.0 * found / covered if covered else 0.0

    files_per_s = n / cold
    print(f"\npyforge cold / peers sum: {cold / peer_sum:.2f}")
    print(f"pyforge cold / ruff ALL:  {cold / ruff_all_t:.2f}x")
    print(f"pyforge warm / cold:      {100 * warm / cold:.1f}%")
    print(f"pyforge cold files/s:     {files_per_s:.0f}")
    print(f"agreement with radon cc:  {agreement:.2f}% ({agree}/{len(theirs)} functions)")
    print(f"agreement with radon mi:  {mi_agreement:.2f}% ({mi_agree}/{len(their_mi)} files, "
          "within 0.01)")  # fmt: skip
    print(f"recall of bandit:         {recall:.1f}% ({found}/{covered} findings on "
          f"{len({'S' + r['test_id'][1:] for r in bandit_results} & stable_s)} shared rules; "
          f"{len(bandit_results)} bandit findings in all)")  # fmt: skip
    verdicts = [
        ("cold >= 300 files/s", files_per_s >= TARGETS["files_per_s"]),
        ("cold <= 3x ruff ALL", cold <= TARGETS["ruff_ratio"] * ruff_all_t),
        ("cold < peers sum", cold < peer_sum),
        ("warm <= 5% of cold", warm <= TARGETS["warm_ratio"] * cold),
        ("agreement >= 99%", agreement >= TARGETS["agreement"]),
    ]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts))


if __name__ == "__main__":
    main()

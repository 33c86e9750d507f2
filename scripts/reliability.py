# ruff: noqa: E501 - the policy table is Markdown, one row a line
"""Run the reliability proof and regenerate ``docs/reliability.md`` (``make reliability``).

1. The fault and hostile-input tests of every product (pytest markers ``faults`` and
   ``hostile``), one pytest process per product as ``make test`` runs them, with what each
   scenario counted recorded through ``FORGE_RELIABILITY_RECORD``; schemathesis also runs its
   stateful phase here.
2. Coverage-guided fuzzing (atheris) of archive extraction, the engine's file front, SARIF
   writing and webhook signature parsing, ``--fuzz-seconds`` per target (``scripts/atheris_fuzz.py``).
3. The soak (``--soak-minutes``, 1,000 users, RSS of every process sampled) and the stress ramp
   of ``bench/soak.py``.
4. The report: every scenario, what was done and counted, and the result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: One pytest process per product, as ``make test`` runs them. A product marks its fault tests
#: ``faults`` and its hostile-input tests ``hostile`` (a ``test_hostile_schema.py`` calling
#: ``forgekit.testing.schemafuzz.assert_schema_holds``).
PROCESSES = [
    ("kit + PyForge", ["packages/forgekit/tests", "packages/pyforge/tests"]),
    ("Modelhub", ["packages/modelhub/tests"]),
    ("Aquaculture", ["packages/aquaculture/tests"]),
    ("Shop", ["packages/shop/tests"]),
]
POLICY = """\
## Stated degradation policies

| backend down | policy | proved by |
|---|---|---|
| Redis (cache) | fail open: a read is a miss, writes and invalidations are skipped with a warning; an entry whose invalidation was skipped lives at most its TTL | `test_cache_fails_open_while_redis_is_down` |
| Redis (rate limits, login throttle) | in-process fallback with the same rates (never open): brute force stays throttled per API process; counting returns to Redis when it answers | `test_rate_limits_count_in_process_while_redis_is_down`, `test_login_stays_brute_force_protected_while_redis_is_down` |
| RabbitMQ | writes go to the outbox in the request's transaction, so requests that emit events (202 for analyses) need no broker; `/ready` answers 503 with `Retry-After`; relay and consumers reconnect by themselves | `test_broker_cut_during_a_burst_every_analysis_completes_once` |
| PostgreSQL (connection killed) | the request fails with 503 problem+json and `Retry-After` (the pool drops the dead connection) or succeeds; never 500 | `test_killed_connections_fail_cleanly_and_leave_no_half_written_row` |
| disk full (local storage) | 507 problem+json with `Retry-After`; partial file removed, no row written; objects stored before the disk filled are orphans the reconciliation removes | `test_disk_full_answers_507_and_stores_nothing_half` |
| slow or oversized request (slowloris) | per connection, below the app (`forgekit.http_guard` in every `serve`): the head within 10 s and at most 64 KiB / 100 fields (else 408 / 431 and the connection closes); the body within 20 s plus 1 s per KiB received (else 408); other clients are served meanwhile | `test_slowloris_heads_and_bodies_are_cut_while_others_are_served`, `test_oversized_heads_get_431_never_a_500` |
| worker killed mid-job (Modelhub async inference) | the unacked delivery returns to the queue; the next worker finishes the `running` job; usage is keyed by the job's request id, so it is billed once | `test_worker_killed_mid_job_ends_it_once_billed_once` |
| worker killed mid-job (Shop catalogue import) | the delivery was acknowledged at the claim, so the job's heartbeat stops instead; the import janitor (every worker consuming `imports`) re-queues it once `SHOP_IMPORT_LEASE_S` has passed; products are written only by the final transaction, fenced by the attempt number, so the import finishes once with one set of products | `test_import_worker_killed_mid_run_finishes_once` |
| process killed mid-upload | storage reconciliation (periodic job in the analysis workers, `storage_reconcile_interval_s`) removes orphans and partial uploads older than the grace period and reports rows whose object is missing | `test_api_killed_during_uploads_leaves_no_orphans_after_reconciliation` |
"""


def run_tests(record: Path, junit_dir: Path) -> list[dict[str, object]]:
    """Run the marked tests of each product; return one row per test case."""
    env = {**os.environ, "FORGE_RELIABILITY_RECORD": str(record),
           "FORGE_FUZZ_PHASES": "examples,coverage,fuzzing,stateful",
           "FORGE_FUZZ_MAX_TIME": "150"}  # fmt: skip
    rows: list[dict[str, object]] = []
    for i, (name, paths) in enumerate(PROCESSES):
        junit = junit_dir / f"{i}.xml"
        subprocess.run([sys.executable, "-m", "pytest", *paths, "-m", "faults or hostile",  # noqa: S603
                        "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
                       cwd=ROOT, env=env, check=False)  # fmt: skip
        for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own pytest wrote it
            outcome = "passed"
            for tag in ("failure", "error", "skipped"):
                if case.find(tag) is not None:
                    outcome = {"failure": "FAILED", "error": "ERROR"}.get(tag, tag)
            rows.append({"process": name, "test": case.get("name"), "file":
                         case.get("classname", "").rsplit(".", 1)[-1],
                         "seconds": float(case.get("time", 0)), "outcome": outcome})  # fmt: skip
    return rows


def run_fuzz(seconds: int, out: Path) -> list[dict[str, object]]:
    """atheris over every target of scripts/atheris_fuzz.py; one row per target."""
    if seconds <= 0:
        return []
    subprocess.run([sys.executable, "scripts/atheris_fuzz.py", "--seconds", str(seconds),  # noqa: S603
                    "--json", str(out)], cwd=ROOT, check=False)  # fmt: skip
    rows: list[dict[str, object]] = json.loads(out.read_text()) if out.exists() else []
    return rows


def render_fuzz(rows: list[dict[str, object]]) -> list[str]:
    """The atheris section of the report."""
    lines = ["## Coverage-guided fuzzing (atheris)", ""]
    if not rows:
        return [*lines, "Not run (`--fuzz-seconds 0`) or it failed; see the command's output.", ""]
    lines += ["| target | seconds | runs | runs/s | coverage (edges) | new inputs | result |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['target']} | {r['seconds']} | {r['runs']} | {r['exec_per_s']} | "
              f"{r['coverage_edges']} | {r['new_units']} | "
              f"{'CRASH' if r['crash'] else 'no crash'} |" for r in rows]  # fmt: skip
    for r in rows:
        if r["crash"]:
            lines += ["", f"{r['target']}:", "", "```", str(r["tail"]), "```"]
    lines += ["", "Bugs atheris found (fixed, each with a regression test in "
              "`packages/pyforge/tests/analysis/test_hostile_fuzz.py`): a file with lone `\\r` "
              "line endings crashed the engine's token scan (IndexError); a zip member name "
              "flagged UTF-8 but invalid, an empty member name, a member offset before the "
              "file's start and a zip64 offset past any seek escaped `stage_upload` as "
              "UnicodeDecodeError, IndexError, ValueError and OverflowError instead of a 400 "
              "problem.", ""]  # fmt: skip
    return lines


def run_soak(minutes: float, users: int, out: Path) -> dict[str, object] | None:
    """The soak and stress of bench/soak.py; None when skipped or failed."""
    if minutes <= 0:
        return None
    done = subprocess.run([sys.executable, "bench/soak.py", "--minutes", str(minutes),  # noqa: S603
                           "--users", str(users), "--json", str(out)], cwd=ROOT, check=False)  # fmt: skip
    return json.loads(out.read_text()) if done.returncode == 0 and out.exists() else None


def render(rows: list[dict[str, object]], records: list[dict[str, object]],
           load: dict[str, object] | None, minutes: float, elapsed: float,
           fuzz: list[dict[str, object]]) -> str:  # fmt: skip
    """The Markdown report."""
    passed = sum(r["outcome"] == "passed" for r in rows)
    lines = [
        "# Reliability report", "",
        f"Regenerated by `make reliability SOAK_MINUTES={minutes:g}` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {elapsed / 60:.1f} min "
        f"(a shared 2-core machine). Do not edit by hand.", "",
        f"**{passed} of {len(rows)} fault and hostile-input tests passed.**", "",
        "## Scenarios", "", "| process | test | file | seconds | result |", "|---|---|---|---|---|",
    ]  # fmt: skip
    lines += [f"| {r['process']} | `{r['test']}` | {r['file']} | {r['seconds']:.1f} | "
              f"{r['outcome']} |" for r in rows]  # fmt: skip
    lines += ["", "## What the scenarios counted", ""]
    for rec in records:
        scenario = rec.pop("scenario")
        summary = rec.pop("summary", None)
        lines.append(f"- **{scenario}**: " + ", ".join(f"{k}={v}" for k, v in rec.items()))
        if summary:
            lines += ["", "  ```", *[f"  {s}" for s in str(summary).splitlines()[-12:]], "  ```"]
    lines += ["", *render_fuzz(fuzz), POLICY, "## Load: soak and stress", ""]
    if load is None:
        lines.append("Not run (`SOAK_MINUTES=0`) or it failed; see the command's output.")
    else:
        soak = load["soak"]
        assert isinstance(soak, dict)
        lines += [f"Soak: {soak['users']} users, think 1-3 s, {soak['minutes']} min: "
                  f"{soak['requests']} requests, {soak['errors']} errors, p50 {soak['p50_ms']} ms, "
                  f"p95 {soak['p95_ms']} ms; p95 first/last window {soak['p95_first_window_ms']}/"
                  f"{soak['p95_last_window_ms']} ms (stable: {soak['p95_stable']}, bound x"
                  f"{soak['p95_drift_bound']}).", "",
                  f"RSS growth per process after warm-up (MiB, bound {soak['rss_growth_bound_mib']}):"
                  f" {soak['rss_growth_mib']} (within bound: {soak['rss_within_bound']}); "
                  f"last RSS {soak['rss_last_mib']}.", "",
                  "| users | requests | req/s | p50 ms | p95 ms | error rate |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        stress = load.get("stress") or {}
        assert isinstance(stress, dict)
        for s in stress.get("steps", []):
            lines.append(f"| {s['users']} | {s['requests']} | {s['rps']} | {s['p50_ms']} | "
                         f"{s['p95_ms']} | {s['error_rate']} |")  # fmt: skip
        lines += ["", f"Knee (last step under 1 % errors and 1 s p95): {stress.get('knee')}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--soak-minutes", type=float, default=2.0)
    parser.add_argument("--soak-users", type=int, default=1000)
    parser.add_argument("--fuzz-seconds", type=int, default=60, help="atheris, per target")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "record.jsonl"
        rows = run_tests(record, Path(tmp))
        records = [json.loads(line) for line in record.read_text().splitlines()] \
            if record.exists() else []  # fmt: skip
        fuzz = run_fuzz(args.fuzz_seconds, Path(tmp) / "fuzz.json")
        load = run_soak(args.soak_minutes, args.soak_users, Path(tmp) / "soak.json")
    args.output.write_text(render(rows, records, load, args.soak_minutes,
                                  time.monotonic() - started, fuzz))  # fmt: skip
    print(f"wrote {args.output}")
    ok = all(r["outcome"] in ("passed", "skipped") for r in rows) and not any(
        r["crash"] for r in fuzz)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

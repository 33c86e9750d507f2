"""Coverage-guided fuzzing (atheris, libFuzzer) of what parses untrusted bytes.

Targets (the same invariants as ``packages/pyforge/tests/analysis/test_hostile_fuzz.py``, the
hypothesis suite that runs in CI; here libFuzzer steers the input by the coverage it reaches):

- ``archive``: bytes as a zip, tar.gz or tar upload to ``stage_upload``: a problem document or
  files staged inside the staging tree only;
- ``engine``: bytes as a Python file to the engine's file front (decode, parse, tokenize);
- ``sarif``: a small analysed tree rendered as SARIF and JSON: valid JSON, encodable UTF-8;
- ``webhook``: ``verify_signature`` over any header, body and secret: ``True`` or ``False``.

``python scripts/atheris_fuzz.py --seconds 60 --json out.json`` runs every target for that long
in its own process (``make reliability`` does); ``python scripts/atheris_fuzz.py archive
-max_total_time=60`` runs one with any libFuzzer flags. A crash leaves its input as
``crash-<sha1>`` in ``--artifacts`` and fails the run.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

TARGETS = ("archive", "engine", "sarif", "webhook")
ROOT = Path(__file__).resolve().parent.parent


def _seed_archives(corpus: Path) -> None:
    """Valid small archives to start from, so mutations reach the extraction code."""
    entries = [("a.py", b"x = 1\n"), ("pkg/b.py", b"def f():\n    return 2\n"),
               ("../up.py", b"y = 2\n")]  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    (corpus / "seed.zip").write_bytes(b"z" + buf.getvalue())
    for mode, tag in (("w:gz", b"g"), ("w", b"t")):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode=mode) as tf:  # type: ignore[call-overload]
            for name, data in entries:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
        (corpus / f"seed-{tag.decode()}").write_bytes(tag + buf.getvalue())


def _target(name: str) -> Any:
    """The one-input function of target ``name``, its modules imported instrumented."""
    import atheris

    with atheris.instrument_imports(include=["pyforge.files", "pyforge.analysis",
                                             "forgekit.webhooks"]):  # fmt: skip
        from forgekit.errors import ProblemError
        from forgekit.webhooks.signing import signature_header, verify_signature
        from pyforge.analysis import analyze_paths
        from pyforge.analysis.config import config_from_table
        from pyforge.analysis.engine import analyze_bytes, build_plan
        from pyforge.analysis.registry import get_registry
        from pyforge.analysis.reporters.json import render_json
        from pyforge.analysis.reporters.sarif import render_sarif
        from pyforge.files.archive import ArchiveLimits, stage_upload

    limits = ArchiveLimits(max_files=50, max_file_bytes=64 * 1024, max_total_bytes=256 * 1024)
    config = config_from_table({"disable": ["mypy", "ruff"]}, root=Path())
    plan = build_plan(get_registry().analyzers.values(), config.settings)

    def archive(data: bytes) -> None:
        kind = {b"z": "up.zip", b"g": "up.tar.gz", b"t": "up.tar"}.get(data[:1], "up.zip")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "stage"
            root.mkdir()
            try:
                staged = stage_upload(io.BytesIO(data[1:]), size=len(data) - 1, filename=kind,
                                      path=None, workdir=root, limits=limits)  # fmt: skip
            except ProblemError:
                return
            for f in staged:
                assert f.staged.resolve().is_relative_to(root.resolve()), f
                assert ".." not in f.path.split("/") and not f.path.startswith("/"), f.path
            assert list(Path(tmp).iterdir()) == [root]

    def engine(data: bytes) -> None:
        report = analyze_bytes(data, "m.py", config.settings, plan)
        assert report.status in ("ok", "error", "skipped"), report.status

    def sarif(data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for i, part in enumerate(data.split(b"\x00\x00")[:3]):
                (root / f"m{i}.py").write_bytes(part + b"\nx = eval(input())\n")
            sub = config_from_table({"disable": ["mypy", "ruff"]}, root=root)
            report = analyze_paths([root], sub, jobs=1, use_cache=False)
            for render in (render_json, render_sarif):
                out = io.StringIO()
                render(report, out)
                text = out.getvalue()
                text.encode("utf-8")
                assert isinstance(json.loads(text), dict)

    def webhook(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        # A secret never holds a lone surrogate (the API refuses such text with 422).
        secret = fdp.ConsumeUnicodeNoSurrogates(40) or "s"
        body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 256))
        header = fdp.ConsumeUnicode(400)
        assert verify_signature(secret, body, header) in (True, False)
        forged = header + "," + signature_header(secret + "x", body)
        assert verify_signature(secret, body, forged) is False or "v1=" in header

    return {"archive": archive, "engine": engine, "sarif": sarif, "webhook": webhook}[name]


def run_one(name: str, argv: list[str]) -> None:
    """Fuzz one target in this process (libFuzzer flags in ``argv``)."""
    import atheris

    one = _target(name)
    atheris.Setup([sys.argv[0], *argv], one)
    atheris.Fuzz()


_STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
_COV = re.compile(r"DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)")


def _tail(out: str) -> str:
    return "\n".join(out.strip().splitlines()[-15:])


def run_all(seconds: int, artifacts: Path) -> list[dict[str, Any]]:
    """Every target for ``seconds`` in its own process; one summary row each."""
    rows = []
    artifacts.mkdir(parents=True, exist_ok=True)
    for name in TARGETS:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp)
            if name == "archive":
                _seed_archives(corpus)
            done = subprocess.run(  # noqa: S603 - our own script, fixed flags
                [sys.executable, __file__, name, str(corpus), f"-max_total_time={seconds}",
                 "-print_final_stats=1", "-rss_limit_mb=2048", "-timeout=30",
                 f"-artifact_prefix={artifacts}/{name}-"],
                cwd=ROOT, capture_output=True, text=True, check=False, timeout=seconds + 300,
            )  # fmt: skip
        out = done.stdout + done.stderr
        stats = {k: int(v) for k, v in _STAT.findall(out)}
        cov = _COV.search(out)
        rows.append({"target": name, "seconds": seconds, "returncode": done.returncode,
                     "runs": stats.get("number_of_executed_units", 0),
                     "exec_per_s": stats.get("average_exec_per_sec", 0),
                     "new_units": stats.get("new_units_added", 0),
                     "coverage_edges": int(cov.group(1)) if cov else None,
                     "crash": done.returncode != 0,
                     "tail": _tail(out) if done.returncode else ""})  # fmt: skip
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in TARGETS:
        run_one(sys.argv[1], sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument("--json", type=Path, help="write the summary rows here")
    parser.add_argument("--artifacts", type=Path, default=ROOT / ".fuzz-artifacts")
    args = parser.parse_args()
    rows = run_all(args.seconds, args.artifacts)
    for row in rows:
        print(f"{row['target']}: {row['runs']} runs, {row['exec_per_s']}/s, "
              f"cov {row['coverage_edges']}, crash={row['crash']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows))
    sys.exit(1 if any(r["crash"] for r in rows) else 0)


if __name__ == "__main__":
    main()

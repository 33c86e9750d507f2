"""Baselines: record today's findings by fingerprint so that later runs report only new ones."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyforge import __version__
from pyforge.analysis.findings import Finding

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".pyforge-baseline.json"


class BaselineError(Exception):
    """The baseline file is missing or malformed (an input error, exit code 2)."""


def baseline_dict(findings: Iterable[Finding]) -> dict[str, Any]:
    """The JSON document recording ``findings``."""
    entries = {
        f.fingerprint: {"rule": f.rule, "path": f.path, "line": f.line, "message": f.message}
        for f in findings
    }
    return {
        "version": BASELINE_VERSION,
        "tool": f"pyforge {__version__}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "findings": dict(sorted(entries.items(), key=lambda kv: (kv[1]["path"], kv[1]["line"]))),
    }


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write a baseline file; returns the number of findings recorded."""
    data = baseline_dict(findings)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return len(data["findings"])


def load_baseline(path: Path) -> set[str]:
    """The fingerprints recorded in a baseline file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"baseline file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), dict):
        raise BaselineError(f"{path} is not a PyForge baseline (no 'findings' table)")
    return set(data["findings"])


def split_new(findings: Iterable[Finding], known: set[str]) -> tuple[list[Finding], int]:
    """(findings not in the baseline, number of baseline findings still present)."""
    new: list[Finding] = []
    still = 0
    for f in findings:
        if f.fingerprint in known:
            still += 1
        else:
            new.append(f)
    return new, still

"""Warnings of the shipped detector on released code of the 12 held-back projects.

Released code of mature projects is close to bug-free, so nearly every warning there is a
false alarm: the warning rate per function is an upper bound on the false-alarm rate on real
code, and the top warnings are what a reviewer reads to judge precision by hand. The projects
were kept out of training, validation and threshold choice; this only runs the final model.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyforge.ml.corpus import iter_heldback_files, read_source
from pyforge.ml.detector import BugDetector


def heldback_check(detector: BugDetector, top: int = 25) -> dict[str, Any]:
    """Functions scanned, warnings at the default threshold (by project and kind), top ones."""
    functions = 0
    per_project: Counter[str] = Counter()
    scanned: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    warnings = []
    for f in iter_heldback_files():
        source = read_source(f.path)
        if source is None:
            continue
        try:
            found = detector.detect_source(source, str(f.path), 0.0)
        except (SyntaxError, ValueError, RecursionError):
            continue
        functions += len(found)
        scanned[f.package] += len(found)
        for d in found:
            if d.probability >= detector.info.threshold:
                per_project[f.package] += 1
                kinds[d.kind] += 1
                warnings.append(d)
    warnings.sort(key=lambda d: -d.probability)
    return {
        "threshold": detector.info.threshold,
        "functions_with_candidates": functions,
        "warnings": len(warnings),
        "warnings_per_function": round(len(warnings) / functions, 4) if functions else 0.0,
        "functions_by_project": dict(sorted(scanned.items())),
        "warnings_by_project": dict(sorted(per_project.items())),
        "warnings_by_kind": dict(sorted(kinds.items())),
        "top": [
            {
                "path": d.path,
                "line": d.line,
                "function": d.function,
                "kind": d.kind,
                "probability": d.probability,
                "repair": d.repair,
            }
            for d in warnings[:top]
        ],
    }

"""``pyforge train quality``: fit and measure the quality model (scikit-learn, ``train`` extra).

Data: files of packages the bug detector never trained on. The detector's *validation*
packages fit the logistic model; its *test* packages measure it. Each file appears twice:
as it is (label 0) and with one bug of the detector's kinds injected into one of its functions
(label 1), so the base rate is 50 % and the probability is relative to that prior (the card
says so). Files are read and parsed, never executed.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyforge.ml.corpus import files_by_split, read_source
from pyforge.ml.detector import BugDetector
from pyforge.ml.inject import inject, unit_source_of
from pyforge.ml.modelinfo import MODEL_DIR
from pyforge.ml.quality import FEATURES, QUALITY_FILE, features
from pyforge.ml.rewrites import rewrite_space
from pyforge.ml.units import iter_functions

MAX_BYTES = 200_000


@dataclass(frozen=True)
class Sample:
    """One file's features and label."""

    package: str
    x: list[float]
    label: int


def _with_bug(source: str, rng: random.Random) -> str | None:
    """``source`` with one injected bug in one of its functions, or None."""
    units = [u for u in iter_functions(source) if u.tokens]
    rng.shuffle(units)
    lines = source.splitlines(keepends=True)
    for unit in units[:5]:
        injected = inject(unit, rewrite_space(unit), rng)
        if injected is None:
            continue
        buggy = unit_source_of(unit, injected.unit.text)
        start = unit.first_line - 1
        count = len(unit_source_of(unit, unit.text).splitlines())
        return (
            "".join(lines[:start])
            + buggy
            + ("" if buggy.endswith("\n") else "\n")
            + "".join(lines[start + count :])
        )
    return None


def _file_x(detector: BugDetector, source: str, path: str) -> list[float] | None:
    try:
        found = detector.detect_source(source, path, 0.0)
    except (SyntaxError, ValueError):
        return None
    loc = sum(1 for line in source.splitlines() if line.strip())
    return features([d.probability for d in found], loc, detector.info.threshold)


def samples(split: str, detector: BugDetector, seed: int, per_package: int) -> Iterator[Sample]:
    """Clean and buggy twins of up to ``per_package`` files per package of ``split``."""
    rng = random.Random(seed)  # noqa: S311 - data sampling, not security
    for package, files in sorted(files_by_split(seed)[split].items()):
        for f in files[:per_package]:
            source = read_source(f.path)
            if source is None or len(source) > MAX_BYTES:
                continue
            buggy = _with_bug(source, rng)
            clean_x = _file_x(detector, source, str(f.path))
            buggy_x = _file_x(detector, buggy, str(f.path)) if buggy is not None else None
            if clean_x is None or buggy_x is None:
                continue
            yield Sample(package, clean_x, 0)
            yield Sample(package, buggy_x, 1)


def expected_calibration_error(probs: list[float], labels: list[int], bins: int = 10) -> float:
    """ECE over equal-width probability bins."""
    total, ece = len(probs), 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if idx:
            conf = sum(probs[i] for i in idx) / len(idx)
            acc = sum(labels[i] for i in idx) / len(idx)
            ece += len(idx) / total * abs(conf - acc)
    return ece


def _accuracy(probs: list[float], labels: list[int]) -> float:
    return sum((p >= 0.5) == bool(y) for p, y in zip(probs, labels, strict=True)) / len(labels)


def train(seed: int = 0, per_package: int = 30, out_dir: Path = MODEL_DIR) -> dict[str, Any]:
    """Fit on validation packages, measure on test packages, write ``quality.json``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    detector = BugDetector()
    data = {}
    for split in ("val", "test"):
        rows = list(samples(split, detector, seed, per_package))
        data[split] = rows
        sys.stderr.write(
            f"{split}: {len(rows)} files ({len({r.package for r in rows})} packages)\n"
        )
    x_fit = np.array([r.x for r in data["val"]])
    y_fit = np.array([r.label for r in data["val"]])
    scaler = StandardScaler().fit(x_fit)
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(x_fit), y_fit)
    x_test = np.array([r.x for r in data["test"]])
    y_test = [r.label for r in data["test"]]
    probs = [float(p) for p in model.predict_proba(scaler.transform(x_test))[:, 1]]
    # The single strongest feature alone, as the baseline the model must beat.
    baseline = [r.x[0] for r in data["test"]]
    metrics = {
        "files": len(y_test),
        "packages": len({r.package for r in data["test"]}),
        "auc": round(float(roc_auc_score(y_test, probs)), 4),
        "ece": round(expected_calibration_error(probs, y_test), 4),
        "accuracy_at_0.5": round(
            sum((p >= 0.5) == bool(y) for p, y in zip(probs, y_test, strict=True)) / len(y_test), 4
        ),
        "baseline_max_p_auc": round(float(roc_auc_score(y_test, baseline)), 4),
        "fit_files": len(y_fit),
        "fit_packages": len({r.package for r in data["val"]}),
    }
    meta = {
        "name": "pyforge-quality", "version": "1.0.0",
        "detector": f"{detector.info.name} {detector.info.version}",
        "features": list(FEATURES), "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_], "coef": [float(v) for v in model.coef_[0]],
        "intercept": float(model.intercept_[0]), "seed": seed, "per_package": per_package,
        "test": metrics,
    }  # fmt: skip
    (out_dir / QUALITY_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    write_card(meta, out_dir)
    return meta


def write_card(meta: dict[str, Any], out_dir: Path) -> None:
    """``QUALITY_CARD.md``: what the score predicts, how it was fit and measured."""
    t = meta["test"]
    weights = "\n".join(
        f"| {f} | {c:+.3f} |" for f, c in zip(meta["features"], meta["coef"], strict=True)
    )
    (out_dir / "QUALITY_CARD.md").write_text(f"""# Model card: {meta["name"]} {meta["version"]}

**What it predicts.** The probability that a Python file holds a bug of the bug detector's
seven kinds ({meta["detector"]}: variable misuse, wrong literal, wrong comparison, wrong binary
operator, negation, `and`/`or` swap, swapped arguments), from the detector's per-function
probabilities and the file's size. **Synthetic labels**: a "buggy" file is a real file with one
bug injected; real files are labelled clean. The base rate in training is 50 %, so the
probability is relative to that prior: use the score and the level to rank files, not as the
chance that a real file is wrong.

**Deterministic formulas** on top of the probability `p`: score = round(100 x (1 - p)); level A
(80-100), B (60-79), C (40-59), D (20-39), E (0-19); confidence = max(p, 1 - p); a project's score
is the lines-of-code-weighted mean of its files'.

## Model

Logistic regression on standardised features (scikit-learn), served as a dot product and a
sigmoid (no scikit-learn at run time).

| feature | weight |
|---|---:|
{weights}

## Data

Files of packages the detector never trained on, split by package: the detector's validation
packages fit the model ({t["fit_files"]} files incl. twins, {t["fit_packages"]} packages), its
test packages measure it ({t["files"]} files incl. twins, {t["packages"]} packages). At most
{meta["per_package"]} files per package, seed {meta["seed"]}.

## Results on held-out packages

| measure | value |
|---|---:|
| AUC (clean vs. buggy twin) | {t["auc"]} |
| expected calibration error (10 bins) | {t["ece"]} |
| accuracy at p = 0.5 | {t["accuracy_at_0.5"]} |
| baseline: AUC of the detector's max probability alone | {t["baseline_max_p_auc"]} |

## Limits

One injected bug per buggy file; real bugs look different, and the detector itself is weak on
real code (see MODEL_CARD.md). Files whose functions the detector cannot read (syntax errors,
over 256 tokens per function read) contribute size only.
""")

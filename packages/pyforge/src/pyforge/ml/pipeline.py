"""``pyforge train bugs``: data set → baseline → neural model → ONNX → model and data set cards.

Stages keep their results in a work directory (``.ml-data`` by default, never committed), so a
stage can be rerun alone; ``all`` runs them in order. Everything is seeded.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pyforge.ml.corpus import EXCLUDED_PROJECTS, SPLITS, files_by_split
from pyforge.ml.dataset import Example, FunctionPair, build_pairs

MODEL_DIR = Path(__file__).parent / "models"
MODEL_NAME = "pyforge-bugs"
MODEL_VERSION = "1.0.0"
PER_PACKAGE = {"train": 400, "val": 250, "test": 250}
STAGES = ("data", "baseline", "neural", "card")


def _say(msg: str) -> None:
    sys.stderr.write(f"[train bugs] {msg}\n")
    sys.stderr.flush()


def _pairs_path(work: Path, split: str) -> Path:
    return work / f"pairs-{split}.pkl"


def load_pairs(work: Path, split: str) -> list[FunctionPair]:
    """The pairs a data stage wrote."""
    with _pairs_path(work, split).open("rb") as fh:
        pairs: list[FunctionPair] = pickle.load(fh)  # noqa: S301 - our own file
    return pairs


def eval_examples(pairs: list[FunctionPair]) -> list[Example]:
    """Held-out examples: every unmodified function and every buggy twin."""
    return [p.clean for p in pairs] + [p.buggy for p in pairs if p.buggy is not None]


def stage_data(work: Path, seed: int) -> dict[str, Any]:
    """Read the corpus, inject bugs, and store the pairs of each split."""
    from tqdm import tqdm

    work.mkdir(parents=True, exist_ok=True)
    by_split = files_by_split(seed)
    stats: dict[str, Any] = {"seed": seed, "excluded_projects": list(EXCLUDED_PROJECTS)}
    for split in SPLITS:
        packages = by_split[split]
        files = sum(len(v) for v in packages.values())
        with tqdm(total=files, desc=f"data {split}", mininterval=5.0) as bar:
            pairs = build_pairs(
                packages, per_package=PER_PACKAGE[split], seed=seed + SPLITS.index(split),
                progress=bar.update,
            )  # fmt: skip
        with _pairs_path(work, split).open("wb") as fh:
            pickle.dump(pairs, fh)
        kinds = Counter(p.buggy.kind for p in pairs if p.buggy is not None)
        stats[split] = {
            "packages": sorted(packages),
            "package_count": len(packages),
            "functions": len(pairs),
            "buggy_twins": sum(kinds.values()),
            "kinds": dict(sorted(kinds.items())),
        }
        _say(f"{split}: {len(pairs)} functions from {len(packages)} packages")
    (work / "data.json").write_text(json.dumps(stats, indent=1))
    return stats


def stage_neural(
    work: Path, seed: int, epochs: int, budget_s: float, *, resume: bool = False, lr: float = 2e-3
) -> dict[str, Any]:
    """Train the transformer, choose its threshold on validation, measure it on test, export."""
    import torch

    from pyforge.ml.evaluate import choose_threshold, summary
    from pyforge.ml.model import ModelConfig
    from pyforge.ml.train_neural import export_onnx, score, train

    torch.set_num_threads(1)  # the machine is shared; one core keeps the others usable
    random.seed(seed)
    config = ModelConfig()
    init = torch.load(work / "neural.pt", weights_only=True) if resume else None
    previous = json.loads((work / "neural.json").read_text()) if resume else None
    model, log = train(
        load_pairs(work, "train"), config, epochs=epochs, seed=seed, time_budget_s=budget_s,
        init_state=init, lr=lr,
    )  # fmt: skip
    if previous is not None:  # the card reports the whole history
        log["previous"] = previous["training"]
    torch.save(model.state_dict(), work / "neural.pt")
    val = score(model, eval_examples(load_pairs(work, "val")))
    threshold = choose_threshold(val)
    t0 = time.perf_counter()
    test_examples = eval_examples(load_pairs(work, "test"))
    test = score(model, test_examples)
    per_fn_ms = (time.perf_counter() - t0) * 1000 / max(1, len(test_examples))
    export_onnx(model, work / "bugs.onnx")
    result: dict[str, Any] = {
        "config": config.as_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "training": log,
        "threshold": threshold,
        "val": summary(val, threshold),
        "test": summary(test, threshold),
        "pytorch_scoring_ms_per_function_batched": round(per_fn_ms, 2),
    }
    (work / "neural.json").write_text(json.dumps(result, indent=1))
    _say(f"neural: test joint accuracy {result['test']['joint_accuracy']}")
    return result


def stage_baseline(work: Path, seed: int) -> dict[str, Any]:
    """Train and measure the gradient-boosting baseline."""
    from pyforge.ml.baseline import fit_baseline, score_baseline
    from pyforge.ml.evaluate import choose_threshold, summary

    t0 = time.monotonic()
    model = fit_baseline(load_pairs(work, "train"), seed=seed)
    train_s = time.monotonic() - t0
    val = score_baseline(model, eval_examples(load_pairs(work, "val")))
    threshold = choose_threshold(val)
    test = score_baseline(model, eval_examples(load_pairs(work, "test")))
    result: dict[str, Any] = {
        "model": "sklearn HistGradientBoostingClassifier over candidate features",
        "train_seconds": round(train_s, 1),
        "threshold": threshold,
        "val": summary(val, threshold),
        "test": summary(test, threshold),
    }
    (work / "baseline.json").write_text(json.dumps(result, indent=1))
    _say(f"baseline: test joint accuracy {result['test']['joint_accuracy']}")
    return result


def stage_card(work: Path, out_dir: Path) -> dict[str, Any]:
    """Copy the ONNX model into the package and write its metadata and both cards."""
    from pyforge.ml.cards import dataset_card, model_card
    from pyforge.ml.detector import BugDetector
    from pyforge.ml.heldback import heldback_check

    data = json.loads((work / "data.json").read_text())
    neural = json.loads((work / "neural.json").read_text())
    baseline_path = work / "baseline.json"
    baseline = json.loads(baseline_path.read_text()) if baseline_path.exists() else None
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_bytes = (work / "bugs.onnx").read_bytes()
    (out_dir / "bugs.onnx").write_bytes(onnx_bytes)
    meta = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "file": "bugs.onnx",
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "size_bytes": len(onnx_bytes),
        "threshold": neural["threshold"],
        "config": neural["config"],
        "test": neural["test"],
        "baseline_test": baseline["test"] if baseline else None,
    }
    (out_dir / "bugs.json").write_text(json.dumps(meta, indent=1) + "\n")
    _say("running the shipped model over released code of the held-back projects")
    heldback = heldback_check(BugDetector(out_dir))
    (work / "heldback.json").write_text(json.dumps(heldback, indent=1))
    (out_dir / "MODEL_CARD.md").write_text(model_card(meta, data, neural, baseline, heldback))
    (out_dir / "DATASET_CARD.md").write_text(dataset_card(data))
    _say(f"wrote {out_dir}")
    return meta


def run(
    stages: list[str],
    *,
    work: Path,
    out_dir: Path,
    seed: int,
    epochs: int,
    budget_s: float,
    resume: bool = False,
    lr: float = 2e-3,
) -> None:
    """Run the named stages in order."""
    for stage in STAGES:
        if stage not in stages:
            continue
        _say(f"stage {stage}")
        if stage == "data":
            stage_data(work, seed)
        elif stage == "baseline":
            stage_baseline(work, seed)
        elif stage == "neural":
            stage_neural(work, seed, epochs, budget_s, resume=resume, lr=lr)
        else:
            stage_card(work, out_dir)

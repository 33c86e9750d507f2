"""The non-neural baseline: gradient boosting over hand-made features of each candidate repair.

Every (location, repair) of a function's rewrite space is a row; the classifier says whether
it is the fix of a bug. The function's verdict is its highest-scoring candidate. Features are
what a reviewer would look at: how often the current and the proposed name occur, how far the
nearest other use is, which operator is there and which is proposed, and the neighbours.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import HistGradientBoostingClassifier
from tqdm import tqdm

from pyforge.ml.dataset import Example, FunctionPair
from pyforge.ml.evaluate import Scored
from pyforge.ml.features import Encoded

NEGATIVES_PER_FUNCTION = 16
F = npt.NDArray[np.float32]


def candidate_rows(enc: Encoded) -> tuple[F, list[tuple[int, int, int]]]:
    """Feature rows of every candidate, and each candidate's (location, repair, pointer sid)."""
    n = enc.length
    sid = enc.string_id
    counts = np.bincount(sid, minlength=int(sid.max()) + 1)
    positions: dict[int, npt.NDArray[np.intp]] = {}
    rows: list[list[float]] = []
    cands: list[tuple[int, int, int]] = []
    for i in np.nonzero(enc.loc_mask)[0]:
        own = int(sid[i])
        own_pos = positions.setdefault(own, np.nonzero(sid == own)[0])
        others = own_pos[own_pos != i]
        own_dist = float(np.abs(others - i).min()) if others.size else 999.0
        prev_kind = float(enc.kind[i - 1]) if i > 0 else -1.0
        next_kind = float(enc.kind[i + 1]) if i + 1 < n else -1.0
        common = [
            float(enc.kind[i]), float(enc.sub[i, 0] % 997), prev_kind, next_kind,
            float(enc.sub[i - 1, 0] % 997) if i > 0 else -1.0,
            float(enc.sub[i + 1, 0] % 997) if i + 1 < n else -1.0,
            i / n, float(n), float(counts[own]), own_dist,
            float(enc.repair_mask[i].sum()),
        ]  # fmt: skip
        for r in np.nonzero(enc.repair_mask[i])[0]:
            rows.append([*common, float(r), -1.0, -1.0, -1.0, -1.0])
            cands.append((int(i), int(r), 0))
        if enc.ptr_site[i]:
            targets = (enc.target_class[:n] == enc.ptr_site[i]) & (sid != own)
            for s in np.unique(sid[targets]):
                s_pos = positions.setdefault(int(s), np.nonzero(sid == s)[0])
                dist = float(np.abs(s_pos - i).min())
                before = float((s_pos < i).sum())
                rows.append([*common, 100.0 + float(enc.ptr_site[i]), float(counts[s]),
                             dist, before, float(own_pos.min() < i)])  # fmt: skip
                cands.append((int(i), -1, int(s)))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1), cands


def _is_fix(e: Example, cand: tuple[int, int, int]) -> bool:
    loc, rep, s = cand
    if loc != e.location:
        return False
    return rep == e.repair if e.repair >= 0 else rep < 0 and s == e.pointer_sid


def fit_baseline(pairs: Sequence[FunctionPair], *, seed: int) -> HistGradientBoostingClassifier:
    """Fit on candidates of clean functions and buggy twins (2 : 1, as the neural model)."""
    rng = random.Random(seed)  # noqa: S311 - data sampling, not security
    xs: list[F] = []
    ys: list[npt.NDArray[np.int8]] = []
    examples = [p.clean for p in pairs]
    examples += [p.buggy for p in pairs if p.buggy is not None and rng.random() < 0.5]
    for e in tqdm(examples, desc="baseline features", mininterval=5.0):
        x, cands = candidate_rows(e.enc)
        if not cands:
            continue
        labels = np.array([_is_fix(e, c) for c in cands], dtype=np.int8)
        neg = np.nonzero(labels == 0)[0].tolist()
        keep = rng.sample(neg, min(NEGATIVES_PER_FUNCTION, len(neg)))
        keep += np.nonzero(labels == 1)[0].tolist()
        xs.append(x[keep])
        ys.append(labels[keep])
    model = HistGradientBoostingClassifier(
        max_iter=300, learning_rate=0.1, max_leaf_nodes=63, random_state=seed,
        categorical_features=[0, 2, 3, 11],
    )  # fmt: skip
    model.fit(np.concatenate(xs), np.concatenate(ys))
    return model


def score_baseline(model: Any, examples: Sequence[Example]) -> list[Scored]:
    """Scored verdicts of the baseline (its probability: the best candidate's)."""
    out: list[Scored] = []
    for e in tqdm(examples, desc="baseline scoring", mininterval=5.0):
        x, cands = candidate_rows(e.enc)
        if not cands:
            out.append(Scored(e.kind, 0.0, False, False, False, e.location < 0))
            continue
        p = model.predict_proba(x)[:, 1]
        best = int(np.argmax(p))
        prob = float(p[best])
        if e.location < 0:
            out.append(Scored("clean", prob, prob >= 0.5, False, False, False))
            continue
        at = [k for k, c in enumerate(cands) if c[0] == e.location]
        repair_ok = bool(at) and _is_fix(e, cands[at[int(np.argmax(p[at]))]])
        out.append(
            Scored(
                e.kind,
                prob,
                prob >= 0.5,
                cands[best][0] == e.location,
                repair_ok,
                _is_fix(e, cands[best]),
            )
        )
    return out

"""Aspect sentiment for a fixed list: quality, delivery, price, size/fit.

A review is cut into clauses (sentences, and "but"/"and"/commas within them); a clause that
names an aspect's keywords is classified by the sentiment model, and the aspect gets the
mean probabilities of its clauses. Aspects a review does not mention are absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from shop.ml.sentiment.data import LABELS

ASPECTS: dict[str, tuple[str, ...]] = {
    "quality": ("quality", "material", "stitch", "seam", "made", "sturdy", "flimsy", "broke",
                "fell apart", "faded", "durable", "cheap and"),
    "delivery": ("deliver", "shipping", "shipped", "arrived", "courier", "parcel", "package",
                 "packaging", "box"),
    "price": ("price", "priced", "value", "money", "expensive", "cheap", "bargain", "penny",
              "cost", "overpriced"),
    "size_fit": ("size", "sizing", "fit", "fits", "small", "large", "tight", "loose", "sleeve"),
}  # fmt: skip

_SPLIT = re.compile(r"[.!?;,]+|\bbut\b|\band\b", re.IGNORECASE)


def clauses(text: str) -> list[str]:
    """The review's clauses, trimmed, empty ones dropped."""
    return [c.strip() for c in _SPLIT.split(text) if c.strip()]


def aspects_of(clause: str) -> list[str]:
    """The aspects a clause talks about."""
    low = clause.lower()
    return [name for name, words in ASPECTS.items() if any(w in low for w in words)]


def aspect_sentiment(
    text: str, classify: Callable[[Sequence[str]], np.ndarray]
) -> dict[str, dict[str, float | str]]:
    """Per mentioned aspect: label and the probability of each label.

    ``classify`` maps texts to (n, 3) probabilities in :data:`LABELS` order (the ONNX model
    or the pipeline).
    """
    parts = clauses(text)
    tagged = [(c, aspects_of(c)) for c in parts]
    mentioned = [c for c, names in tagged if names]
    if not mentioned:
        return {}
    proba = classify(mentioned)
    by_aspect: dict[str, list[np.ndarray]] = {}
    for row, clause in zip(proba, mentioned, strict=True):
        for name in aspects_of(clause):
            by_aspect.setdefault(name, []).append(row)
    out: dict[str, dict[str, float | str]] = {}
    for name, rows in by_aspect.items():
        mean = np.mean(rows, axis=0)
        entry: dict[str, float | str] = {
            label: round(float(v), 4) for label, v in zip(LABELS, mean, strict=True)
        }
        entry["label"] = LABELS[int(np.argmax(mean))]
        out[name] = entry
    return out

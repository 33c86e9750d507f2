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


def aspect_clauses(text: str) -> list[tuple[str, list[str]]]:
    """The clauses that name at least one aspect, with those aspects."""
    tagged = [(c, aspects_of(c)) for c in clauses(text)]
    return [(c, names) for c, names in tagged if names]


def aggregate(
    tagged: Sequence[tuple[str, list[str]]], proba: np.ndarray
) -> dict[str, dict[str, float | str]]:
    """Per aspect, the mean probabilities of its clauses (rows of ``proba``) and the label."""
    by_aspect: dict[str, list[np.ndarray]] = {}
    for row, (_, names) in zip(proba, tagged, strict=True):
        for name in names:
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


def aspect_sentiment(
    text: str, classify: Callable[[Sequence[str]], np.ndarray]
) -> dict[str, dict[str, float | str]]:
    """Per mentioned aspect: label and the probability of each label.

    ``classify`` maps texts to (n, 3) probabilities in :data:`LABELS` order (the pipeline);
    the API runs the ONNX model on the clauses itself and calls :func:`aggregate`.
    """
    tagged = aspect_clauses(text)
    if not tagged:
        return {}
    return aggregate(tagged, classify([c for c, _ in tagged]))

"""Reviews as sentiment sees them: text and star rating; labels derive from the stars."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


def label_of(stars: int) -> str:
    """1-2 stars negative, 3 neutral, 4-5 positive."""
    if not 1 <= stars <= 5:
        raise ValueError(f"stars must be within 1..5, got {stars}")
    return LABELS[0] if stars <= 2 else LABELS[1] if stars == 3 else LABELS[2]


def texts_and_labels(rows: Iterable[Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """Texts and labels of rows with ``text`` (or ``title`` + ``body``) and ``stars``."""
    texts, labels = [], []
    for row in rows:
        text = row.get("text")
        if text is None:
            text = f"{row.get('title') or ''}. {row.get('body') or ''}"
        texts.append(str(text))
        labels.append(label_of(int(row["stars"])))
    return texts, labels

"""The sentiment classifier: word and character n-gram TF-IDF into logistic regression.

Character n-grams catch misspellings and word pieces ("overpriced", "unimpressed"); word
bigrams catch short phrases and negations ("not worth"). Trained on review text labelled by
stars (1-2 negative, 3 neutral, 4-5 positive), balanced class weights since neutral is rare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from shop.ml.sentiment.data import LABELS

#: Words of two or more ASCII letters, digits or underscores.
WORD_PATTERN = "[a-zA-Z0-9_][a-zA-Z0-9_]+"


@dataclass(frozen=True)
class SentimentParams:
    """Vocabulary limits and regularisation."""

    word_features: int = 20_000
    char_features: int = 30_000
    c: float = 4.0
    seed: int = 0


def build_pipeline(p: SentimentParams = SentimentParams()) -> Pipeline:
    """An untrained pipeline (text in, class probabilities out)."""
    # Both vectorizers stay within what skl2onnx converts exactly: an explicit token pattern
    # that re2 (ONNX Runtime's regex engine) reads the same way, and ``char`` rather than
    # ``char_wb`` n-grams.
    features = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), max_features=p.word_features,
                                 sublinear_tf=True, token_pattern=WORD_PATTERN)),
        ("char", TfidfVectorizer(analyzer="char", ngram_range=(2, 4),
                                 max_features=p.char_features, sublinear_tf=True)),
    ])  # fmt: skip
    clf = LogisticRegression(C=p.c, max_iter=2000, class_weight="balanced", random_state=p.seed)
    return Pipeline([("features", features), ("clf", clf)])


def train_sentiment(
    texts: Sequence[str], labels: Sequence[str], p: SentimentParams = SentimentParams()
) -> Pipeline:
    """Fit the pipeline; every label must be one of :data:`LABELS`."""
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise ValueError(f"unknown labels {sorted(unknown)}")
    pipe = build_pipeline(p)
    pipe.fit(list(texts), list(labels))
    return pipe


def probabilities(pipe: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """(n, 3) probabilities in :data:`LABELS` order."""
    proba = pipe.predict_proba(list(texts))
    order = [list(pipe.classes_).index(label) for label in LABELS]
    return np.asarray(proba)[:, order]

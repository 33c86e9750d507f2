"""Sentiment: the TF-IDF model beats VADER on held-out reviews; aspects and language."""

from __future__ import annotations

import numpy as np
import pytest
from shop.ml.sentiment.aspects import aspect_sentiment, aspects_of, clauses
from shop.ml.sentiment.data import label_of, texts_and_labels
from shop.ml.sentiment.language import detect
from shop.ml.sentiment.model import probabilities, train_sentiment
from shop.ml.sentiment.synth import ReviewSynthConfig, generate
from shop.ml.sentiment.vader import vader_labels
from sklearn.metrics import f1_score


def test_star_labels() -> None:
    assert [label_of(s) for s in (1, 2, 3, 4, 5)] == ["negative"] * 2 + ["neutral"] + [
        "positive"
    ] * 2
    with pytest.raises(ValueError):
        label_of(6)


def test_model_beats_vader_on_held_out_reviews() -> None:
    texts, labels = texts_and_labels(generate(ReviewSynthConfig(reviews=1500, seed=2)))
    cut = 1200
    pipe = train_sentiment(texts[:cut], labels[:cut])
    pred = pipe.predict(texts[cut:])
    ours = f1_score(labels[cut:], pred, average="macro")
    vader = f1_score(labels[cut:], vader_labels(texts[cut:]), average="macro")
    assert ours > vader
    proba = probabilities(pipe, texts[cut : cut + 5])
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_aspects_split_by_clause() -> None:
    text = "The price is a bargain but it arrived two weeks late."
    assert clauses(text) == ["The price is a bargain", "it arrived two weeks late"]
    assert aspects_of("runs small") == ["size_fit"]

    def fake(texts: object) -> np.ndarray:
        # A stand-in classifier: "late" is negative, anything else positive.
        return np.array([[0.9, 0.05, 0.05] if "late" in t else [0.05, 0.05, 0.9] for t in texts])  # type: ignore[attr-defined]

    out = aspect_sentiment(text, fake)
    assert out["price"]["label"] == "positive"
    assert out["delivery"]["label"] == "negative"
    assert "quality" not in out


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The quality is excellent and delivery was fast", "en"),
        ("Die Qualität ist sehr gut und die Lieferung war schnell", "de"),
        ("La calidad es excelente y llegó muy rápido", "es"),
        ("La qualité est excellente et la livraison rapide", "fr"),
    ],
)
def test_language_detection(text: str, lang: str) -> None:
    code, prob = detect(text)
    assert code == lang and prob > 0.5


def test_language_of_no_letters() -> None:
    assert detect("12345 !!!") == ("und", 0.0)

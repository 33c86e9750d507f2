"""Texts scored by the served sentiment model: label, aspects and language in one model call.

The API's ``POST /sentiment``, the review consumer and the batch command all go through
:func:`analyse`, so a review stored by the worker carries exactly what the endpoint answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shop.ml.sentiment.aspects import aggregate, aspect_clauses
from shop.ml.sentiment.data import LABELS
from shop.ml.sentiment.language import detect

if TYPE_CHECKING:
    from shop.ml.serving import SentimentModel


@dataclass(frozen=True)
class TextSentiment:
    """One text's overall label with its probabilities, aspect sentiment and language."""

    label: str
    probability: float
    probabilities: dict[str, float]
    aspects: dict[str, dict[str, float | str]]
    language: str
    language_probability: float


async def analyse(model: SentimentModel, texts: Sequence[str]) -> list[TextSentiment]:
    """Score ``texts`` (in order): each text and its aspect clauses go in one model call."""
    tagged = [aspect_clauses(t) for t in texts]
    batch = [*texts, *(clause for tags in tagged for clause, _ in tags)]
    if not batch:
        return []
    proba = await model.probabilities(batch)
    out: list[TextSentiment] = []
    offset = len(texts)
    for i, text in enumerate(texts):
        overall = {label: round(float(v), 4) for label, v in zip(LABELS, proba[i], strict=True)}
        label = max(overall, key=lambda k: overall[k])
        n = len(tagged[i])
        aspects = aggregate(tagged[i], proba[offset : offset + n]) if n else {}
        offset += n
        lang, lang_p = detect(text)
        out.append(TextSentiment(label, overall[label], overall, aspects, lang, round(lang_p, 4)))
    return out

"""Language of a review, by py3langid (a trained n-gram model shipped in the package)."""

from __future__ import annotations

from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    # Normalised probabilities, so the answer carries a usable confidence.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str, float]:
    """ISO 639-1 code and its probability; ``("und", 0.0)`` for text without letters."""
    if not any(ch.isalpha() for ch in text):
        return "und", 0.0
    lang, prob = _identifier().classify(text)
    return str(lang), float(prob)

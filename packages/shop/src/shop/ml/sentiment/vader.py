"""The lexicon baseline: VADER's compound score with its authors' ±0.05 thresholds."""

from __future__ import annotations

from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def vader_labels(texts: Sequence[str]) -> list[str]:
    """negative / neutral / positive by VADER."""
    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        label = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
        out.append(label)
    return out

"""Maintainability index (radon's variant) and the letter ranks radon uses."""

from __future__ import annotations

import math


def maintainability_index(
    halstead_volume: float, complexity: int, lloc: int, comment_lines: int, sloc: int
) -> float:
    """radon's ``mi_visit(code, multi=True)`` from its ingredients.

    ``comment_lines`` is comments plus multi-line string lines (radon's ``multi=True``); the
    comment percentage is taken over SLOC and the size term over logical lines, as radon does.
    """
    if halstead_volume <= 0 or lloc <= 0:
        return 100.0
    comments_pct = comment_lines / sloc * 100 if sloc else 0.0
    nn_mi = (
        171
        - 5.2 * math.log(halstead_volume)
        - 0.23 * complexity
        - 16.2 * math.log(lloc)
        + 50 * math.sin(math.sqrt(2.46 * math.radians(comments_pct)))
    )
    return min(max(0.0, nn_mi * 100 / 171.0), 100.0)


def mi_rank(score: float) -> str:
    """A (> 19), B (10-19), C (<= 9), as ``radon mi`` ranks files."""
    if score > 19:
        return "A"
    return "B" if score > 9 else "C"


def cc_rank(complexity: float) -> str:
    """radon's cyclomatic complexity rank: A (1-5) ... F (41+)."""
    if complexity <= 5:
        return "A"
    return "ABCDEF"[min(math.ceil(complexity / 10.0), 5)]

"""A seeded generator of shop reviews labelled by stars (the figures on it are synthetic).

Reviews are built from clauses about the fixed aspects (quality, delivery, price, size/fit)
in shop language ("runs small", "fell apart", "worth every penny"), with negations, mixed
opinions and a share of off-topic filler. The star rating follows the clauses' balance with
noise, as real ratings do, so text does not determine the label exactly. A few reviews are
in German, Spanish or French.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PHRASES: dict[str, dict[str, tuple[str, ...]]] = {
    "quality": {
        "pos": (
            "the material feels solid",
            "stitching is excellent",
            "well made and sturdy",
            "still like new after months",
            "quality exceeded what I expected",
        ),
        "neg": (
            "it fell apart after a week",
            "the seams came undone",
            "feels cheap and flimsy",
            "broke on the second use",
            "the colour faded after one wash",
        ),
        "neu": (
            "the material is as described",
            "quality is what you would expect",
            "build is okay for daily use",
        ),
    },
    "delivery": {
        "pos": (
            "arrived a day early",
            "shipping was fast",
            "came well packaged",
            "the courier was quick",
        ),
        "neg": (
            "arrived two weeks late",
            "the parcel was damaged",
            "delivery was not on time",
            "had to chase the courier",
            "box was crushed on arrival",
        ),
        "neu": (
            "delivery took the usual time",
            "arrived in standard packaging",
            "shipping was as scheduled",
        ),
    },
    "price": {
        "pos": (
            "worth every penny",
            "great value for money",
            "cheaper than elsewhere",
            "a bargain at this price",
        ),
        "neg": (
            "overpriced for what it is",
            "not worth the money",
            "way too expensive",
            "you pay for the brand only",
        ),
        "neu": (
            "the price is average",
            "priced like similar items",
            "costs about what I paid before",
        ),
    },
    "size": {
        "pos": ("fits perfectly", "true to size", "the fit is spot on", "size chart was accurate"),
        "neg": (
            "runs small, had to return it",
            "way too tight",
            "the sizing is off",
            "sleeves are far too long",
            "returned it because of the fit",
        ),
        "neu": ("fits as expected", "the size is standard", "ordered my usual size"),
    },
}
FILLER = ("bought this for my sister", "ordered it last month", "this is my second order",
          "I use it at work", "my partner picked the colour")  # fmt: skip
NEGATED = {"pos": ("not great", "not as good as hoped", "wasn't impressed"),
           "neg": ("not bad at all", "can't complain", "no problems whatsoever")}  # fmt: skip
FOREIGN = {
    "de": ("Die Qualität ist sehr gut und die Lieferung war schnell",
           "Leider zu klein und die Lieferung kam zu spät", "Preis und Leistung sind in Ordnung"),
    "es": ("La calidad es excelente y llegó muy rápido",
           "Llegó tarde y la talla es demasiado pequeña", "El precio es normal para este producto"),
    "fr": ("La qualité est excellente et la livraison rapide",
           "Arrivé en retard et la taille est trop petite", "Le prix est correct pour ce produit"),
}  # fmt: skip
_FOREIGN_STARS = (5, 1, 3)


@dataclass(frozen=True)
class ReviewSynthConfig:
    """How many reviews, and the share not in English."""

    reviews: int = 3000
    foreign_share: float = 0.05
    seed: int = 0


def _clause(rng: np.random.Generator, mood: float) -> str:
    aspect = str(rng.choice(list(PHRASES)))
    r = rng.random()
    if r < 0.1:
        # Negations say the opposite of their words.
        key = "neg" if mood > 0 else "pos"
        return str(rng.choice(NEGATED[key]))
    polarity = "pos" if r < 0.1 + 0.9 * mood else "neg"
    if rng.random() < 0.2:
        polarity = "neu"
    return str(rng.choice(PHRASES[aspect][polarity]))


def _english(rng: np.random.Generator) -> tuple[str, int]:
    mood = float(rng.beta(0.8, 0.8))  # the customer's overall satisfaction, 0..1
    clauses = [_clause(rng, mood) for _ in range(int(rng.integers(1, 4)))]
    if rng.random() < 0.3:
        clauses.insert(0, str(rng.choice(FILLER)))
    stars = int(np.clip(np.rint(1 + 4 * mood + rng.normal(0, 0.6)), 1, 5))
    joiners = [", ", " and ", ". ", " but "]
    text = clauses[0]
    for c in clauses[1:]:
        text += str(rng.choice(joiners)) + c
    return text[0].upper() + text[1:] + ".", stars


def generate(cfg: ReviewSynthConfig = ReviewSynthConfig()) -> list[dict[str, object]]:
    """Rows with ``text``, ``stars`` and ``language``, reproducible from ``cfg.seed``."""
    rng = np.random.default_rng(cfg.seed)
    rows: list[dict[str, object]] = []
    for _ in range(cfg.reviews):
        if rng.random() < cfg.foreign_share:
            lang = str(rng.choice(list(FOREIGN)))
            i = int(rng.integers(0, 3))
            rows.append({"text": FOREIGN[lang][i], "stars": _FOREIGN_STARS[i], "language": lang})
        else:
            text, stars = _english(rng)
            rows.append({"text": text, "stars": stars, "language": "en"})
    return rows

"""A seeded generator of synthetic fish photographs (numpy + Pillow drawing).

No fish data set can be downloaded here, so the shipped default model learns species that
exist only in this module. Species differ the way real ones do to a camera: body shape
(aspect, roundness), fin layout (dorsal, anal, tail form), colour and pattern (stripes, spots,
bands) and texture (scales, noise). Each image is then "photographed": a background of water,
sand or plants, lighting and colour cast, scale, rotation, blur and occlusion.

Images come from **sources** (cameras): a source fixes the background palette and lighting
bias, so a held-out split by source tests generalisation to a camera never seen in training,
not to a near-duplicate row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Species:
    """How one synthetic species looks."""

    name: str
    #: Body length as a share of the frame, and height over length.
    length: float
    aspect: float
    #: Body outline exponent: < 1 rounder, > 1 more pointed.
    pointed: float
    tail: str  # forked | square | round | none
    dorsal: str  # low | tall | double | none
    pattern: str  # stripes | spots | bands | plain | mottled
    body: RGB
    accent: RGB


SPECIES: tuple[Species, ...] = (
    Species(
        "silver_striper", 0.70, 0.32, 1.0, "forked", "low", "stripes", (170, 175, 185), (60, 65, 80)
    ),
    Species(
        "spotted_trout", 0.68, 0.28, 1.1, "square", "double", "spots", (120, 130, 70), (40, 35, 25)
    ),
    Species(
        "banded_angel", 0.45, 0.95, 1.6, "round", "tall", "bands", (225, 215, 170), (30, 30, 30)
    ),
    Species(
        "golden_puffer", 0.45, 0.80, 0.6, "round", "none", "spots", (225, 190, 60), (90, 70, 20)
    ),
    Species("ribbon_eel", 0.88, 0.10, 1.0, "none", "low", "plain", (70, 80, 60), (40, 45, 30)),
    Species(
        "ember_clown", 0.55, 0.45, 0.9, "round", "low", "bands", (235, 110, 30), (245, 245, 245)
    ),
)
SPECIES_NAMES = tuple(s.name for s in SPECIES)

_SUPERSAMPLE = 2


def _jitter(rng: np.random.Generator, colour: RGB, amount: int) -> RGB:
    r, g, b = (int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)
    return r, g, b


def _source_style(source: int) -> tuple[RGB, RGB, float]:
    """A source's (camera's) water colour, floor colour and brightness bias."""
    srng = np.random.default_rng(10_000 + source)
    water = (int(srng.integers(10, 90)), int(srng.integers(60, 160)), int(srng.integers(90, 200)))
    floor = (
        int(srng.integers(120, 210)),
        int(srng.integers(100, 180)),
        int(srng.integers(60, 140)),
    )
    return water, floor, float(srng.uniform(0.75, 1.2))


def _background(rng: np.random.Generator, side: int, source: int) -> Image.Image:
    water, floor, _ = _source_style(source)
    water, floor = _jitter(rng, water, 20), _jitter(rng, floor, 20)
    t = np.linspace(0.0, 1.0, side)[:, None, None]
    horizon = rng.uniform(0.6, 1.1)
    mix = np.clip((t - horizon + 0.3) / 0.3, 0.0, 1.0)
    img = (1 - mix) * np.array(water) * (1.2 - 0.5 * t) + mix * np.array(floor)
    img = np.broadcast_to(img, (side, side, 3)) + rng.normal(0, rng.uniform(3, 14), (side, side, 3))
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(0, 5))):  # weeds and rocks
        x = int(rng.integers(0, side))
        colour = _jitter(rng, (40, 110, 50) if rng.random() < 0.6 else (90, 90, 90), 30)
        draw.line(
            [
                (x, side),
                (x + int(rng.integers(-side // 6, side // 6)), int(rng.integers(side // 3, side))),
            ],
            fill=colour,
            width=int(rng.integers(2, max(3, side // 25))),
        )
    return canvas


def _body_polygon(cx: float, cy: float, a: float, b: float, p: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(48):
        t = 2 * math.pi * i / 48
        c, s = math.cos(t), math.sin(t)
        # Narrower towards the tail (x < 0) so the body reads as a fish, not an ellipse.
        taper = 1.0 if c > 0 else 1.0 - 0.35 * abs(c)
        pts.append(
            (
                cx + a * math.copysign(abs(c) ** (1 / p), c),
                cy + b * taper * math.copysign(abs(s) ** p, s),
            )
        )
    return pts


def _tail(sp: Species, cx: float, cy: float, a: float, b: float) -> list[tuple[float, float]]:
    x0, span = cx - a * 0.95, max(b * 1.1, a * 0.25)
    if sp.tail == "forked":
        return [
            (x0, cy),
            (x0 - a * 0.45, cy - span),
            (x0 - a * 0.25, cy),
            (x0 - a * 0.45, cy + span),
        ]
    if sp.tail == "square":
        return [
            (x0, cy - b * 0.2),
            (x0 - a * 0.35, cy - span * 0.8),
            (x0 - a * 0.35, cy + span * 0.8),
            (x0, cy + b * 0.2),
        ]
    if sp.tail == "round":
        return [
            (x0 + a * 0.05, cy),
            *[
                (x0 - a * 0.3 * math.cos(t), cy + span * 0.7 * math.sin(t))
                for t in np.linspace(-math.pi / 2, math.pi / 2, 9)
            ],
        ]
    return []


def _fins(sp: Species, cx: float, cy: float, a: float, b: float) -> list[list[tuple[float, float]]]:
    top = cy - b * 0.9
    fins: list[list[tuple[float, float]]] = []
    if sp.dorsal == "tall":
        fins.append(
            [(cx - a * 0.4, top), (cx + a * 0.05, top - b * 1.1), (cx + a * 0.3, top + b * 0.1)]
        )
        fins.append(
            [
                (cx - a * 0.4, cy + b * 0.9),
                (cx + a * 0.05, cy + b * 2.0),
                (cx + a * 0.3, cy + b * 0.8),
            ]
        )
    elif sp.dorsal == "double":
        fins.append(
            [(cx - a * 0.1, top), (cx + a * 0.05, top - b * 0.6), (cx + a * 0.3, top + b * 0.1)]
        )
        fins.append(
            [
                (cx - a * 0.6, top + b * 0.2),
                (cx - a * 0.5, top - b * 0.4),
                (cx - a * 0.35, top + b * 0.2),
            ]
        )
    elif sp.dorsal == "low":
        fins.append(
            [
                (cx - a * 0.6, top + b * 0.1),
                (cx - a * 0.1, top - b * 0.45),
                (cx + a * 0.4, top + b * 0.2),
            ]
        )
    if sp.dorsal != "none":  # pectoral fin
        fins.append(
            [(cx + a * 0.35, cy), (cx + a * 0.05, cy + b * 0.55), (cx + a * 0.15, cy + b * 0.05)]
        )
    return fins


def _pattern(
    sp: Species, rng: np.random.Generator, side: int, box: tuple[float, ...]
) -> Image.Image:
    """The species' markings on a transparent layer (masked to the body by the caller)."""
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    x0, y0, x1, y1 = box
    accent = (*_jitter(rng, sp.accent, 20), 230)
    if sp.pattern == "stripes":
        n = int(rng.integers(3, 6))
        for i in range(n):
            y = y0 + (i + 0.5) * (y1 - y0) / n
            draw.line([(x0, y), (x1, y)], fill=accent, width=max(1, int((y1 - y0) / (n * 3))))
    elif sp.pattern == "bands":
        n = int(rng.integers(2, 4))
        for i in range(n):
            x = x0 + (i + 0.7) * (x1 - x0) / (n + 0.5)
            draw.rectangle([x, y0, x + (x1 - x0) / (n * 3.5), y1], fill=accent)
    elif sp.pattern == "spots":
        for _ in range(int(rng.integers(8, 20))):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            r = rng.uniform(0.02, 0.05) * (x1 - x0)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=accent)
    elif sp.pattern == "mottled":
        for _ in range(30):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            draw.point((x, y), fill=accent)
    return layer


def _fish_layer(sp: Species, rng: np.random.Generator, side: int) -> Image.Image:
    scale = rng.uniform(0.7, 1.15)
    a = side * sp.length * scale / 2
    b = a * sp.aspect * rng.uniform(0.9, 1.1)
    cx = side / 2 + rng.uniform(-0.12, 0.12) * side + a * 0.15
    cy = side / 2 + rng.uniform(-0.15, 0.15) * side
    body_colour = _jitter(rng, sp.body, 25)
    fin_colour = tuple(int(c * 0.8) for c in body_colour)
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for fin in [_tail(sp, cx, cy, a, b), *_fins(sp, cx, cy, a, b)]:
        if fin:
            draw.polygon(fin, fill=(*fin_colour, 235))
    body = _body_polygon(cx, cy, a, b, sp.pointed)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).polygon(body, fill=255)
    draw.polygon(body, fill=(*body_colour, 255))
    # Scale texture: fine noise modulating the body, so texture is a cue as well as colour.
    noise = rng.normal(0, rng.uniform(4, 12), (side, side, 1)).repeat(3, axis=2)
    shaded = np.asarray(layer, dtype=np.float32)
    shaded[..., :3] = np.clip(shaded[..., :3] + noise, 0, 255)
    layer = Image.fromarray(shaded.astype(np.uint8), "RGBA")
    markings = _pattern(sp, rng, side, (cx - a, cy - b, cx + a, cy + b))
    layer.paste(markings, (0, 0), Image.composite(markings, Image.new("RGBA", (side, side)), mask))
    eye_r = max(1.5, b * 0.12 if sp.aspect > 0.2 else a * 0.03)
    ex, ey = cx + a * 0.7, cy - b * 0.2
    ImageDraw.Draw(layer).ellipse(
        [ex - eye_r, ey - eye_r, ex + eye_r, ey + eye_r], fill=(10, 10, 10, 255)
    )
    return layer


def _photograph(img: Image.Image, rng: np.random.Generator, source: int) -> Image.Image:
    _, _, bias = _source_style(source)
    img = ImageEnhance.Brightness(img).enhance(bias * rng.uniform(0.75, 1.25))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.7, 1.3))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.6, 1.3))
    if rng.random() < 0.7:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.2)))
    return img


def _occlude(img: Image.Image, rng: np.random.Generator) -> None:
    side = img.width
    draw = ImageDraw.Draw(img, "RGBA")
    for _ in range(int(rng.integers(0, 3))):
        x, y = rng.uniform(0, side, 2)
        w, h = rng.uniform(0.08, 0.3, 2) * side
        colour = (*_jitter(rng, (40, 90, 60), 40), int(rng.integers(120, 255)))
        draw.ellipse([x, y, x + w, y + h], fill=colour)


def render(
    species: Species, rng: np.random.Generator, size: int = 64, source: int = 0
) -> Image.Image:
    """One photograph of ``species`` by camera ``source``, ``size`` pixels square (RGB)."""
    side = size * _SUPERSAMPLE
    canvas = _background(rng, side, source)
    fish = _fish_layer(species, rng, side)
    fish = fish.rotate(rng.uniform(-25, 25), resample=Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        fish = fish.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    canvas.paste(fish, (0, 0), fish)
    _occlude(canvas, rng)
    return _photograph(canvas, rng, source).resize((size, size), Image.Resampling.LANCZOS)


def write_dataset(
    out: Path, *, per_class: int, size: int = 64, seed: int = 0, sources: int = 12
) -> dict[str, int]:
    """Write ``per_class`` PNGs per species to ``out/<species>/src-<k>__<i>.png``.

    The ``src-<k>__`` prefix names the camera, so the trainer splits by source. Returns the
    count per species.
    """
    counts: dict[str, int] = {}
    for index, species in enumerate(SPECIES):
        folder = out / species.name
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([seed, index])
        for i in range(per_class):
            source = i % sources
            render(species, rng, size, source).save(folder / f"src-{source:02d}__{i:05d}.png")
        counts[species.name] = per_class
    return counts

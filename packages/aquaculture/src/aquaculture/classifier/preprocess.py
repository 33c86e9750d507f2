"""The one preprocessing both training and serving apply (so they never drift apart)."""

from __future__ import annotations

import numpy as np
from PIL import Image


def to_rgb_square(img: Image.Image, size: int) -> np.ndarray:
    """``img`` as RGB, centre-cropped to a square and resized: (size, size, 3) uint8."""
    rgb = img.convert("RGB")
    side = min(rgb.size)
    left, top = (rgb.width - side) // 2, (rgb.height - side) // 2
    square = rgb.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.uint8)


def to_input(batch: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float32 in [0, 1]: the model's ``image`` input
    (normalisation is inside the exported model)."""
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0

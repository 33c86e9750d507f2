"""An ImageFolder tree read into memory, and its split by source (numpy + Pillow; no torch).

``root/<species>/<file>``: JPEG, PNG or WebP files, one folder per class. A file named
``src-<name>__<rest>`` comes from source ``<name>`` (a camera, a site, a generator seed); all
the images of a source land in the same split, so the held-out score is measured on sources
the model never saw, not on near-duplicates of training rows. Files without the marker are
each their own source.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from aquaculture.classifier.preprocess import to_rgb_square

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass
class ImageSet:
    """Images (N, S, S, 3 uint8), labels (N,), source of each image, class names."""

    images: np.ndarray
    labels: np.ndarray
    sources: list[str]
    classes: list[str]

    def subset(self, index: np.ndarray) -> ImageSet:
        """The images at ``index``."""
        return ImageSet(
            self.images[index], self.labels[index], [self.sources[i] for i in index], self.classes
        )


def source_of(path: Path) -> str:
    """The source a file's name declares (``src-<name>__``), else the file itself."""
    name = path.name
    if name.startswith("src-") and "__" in name:
        return name[4 : name.index("__")]
    return f"{path.parent.name}/{name}"


def load_image_folder(root: Path, size: int) -> ImageSet:
    """Read every image of ``root`` resized to ``size`` square; ``ValueError`` when empty."""
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    images, labels, sources = [], [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            with Image.open(path) as img:
                images.append(to_rgb_square(ImageOps.exif_transpose(img), size))
            labels.append(label)
            sources.append(source_of(path))
    if len(classes) < 2 or not images:
        raise ValueError(f"{root}: need at least two class folders with images")
    return ImageSet(np.stack(images), np.array(labels, dtype=np.int64), sources, classes)


def _bucket(source: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{source}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_source(
    data: ImageSet, seed: int, val: float = 0.15, test: float = 0.15
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train, validation and test: whole sources, ordered by a seeded hash.

    With few sources the shares are rounded to whole sources, at least one each for
    validation and test (three sources or more).
    """
    names = sorted(set(data.sources), key=lambda s: _bucket(s, seed))
    n = len(names)
    n_test = max(1, round(n * test)) if n >= 3 else 0
    n_val = max(1, round(n * val)) if n >= 3 else 0
    test_s, val_s = set(names[:n_test]), set(names[n_test : n_test + n_val])
    where = np.array(
        [0 if s not in test_s | val_s else (1 if s in val_s else 2) for s in data.sources]
    )
    return np.flatnonzero(where == 0), np.flatnonzero(where == 1), np.flatnonzero(where == 2)

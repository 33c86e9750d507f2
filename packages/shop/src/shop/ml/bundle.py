"""A trained model as files (ONNX graph, numpy side arrays, JSON card) and how to read them.

Side arrays are ``.npz`` read with ``allow_pickle=False``: a stored model can never run code
when it is loaded, unlike a pickle.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def npz_bytes(**arrays: np.ndarray) -> bytes:
    """Arrays as one compressed ``.npz`` file."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file (object arrays refused)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


@dataclass
class Candidate:
    """A freshly trained model with its held-out figures, before the registry sees it."""

    kind: str
    files: dict[str, bytes]
    card: dict[str, Any]
    metrics: dict[str, float]
    #: The metric promotion compares, and whether higher is better.
    primary: str
    higher_is_better: bool
    window: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """The primary metric."""
        return float(self.metrics[self.primary])

    def card_bytes(self) -> bytes:
        """The card as the ``card.json`` file."""
        return json.dumps(self.card, indent=2, sort_keys=True).encode()

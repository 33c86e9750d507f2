"""From the model's logits to one verdict per function (numpy; shared by training and serving).

The probability of a detection is joint: P(the bug is at this token) * P(this repair | there),
so a threshold on it bounds how often the *whole* answer (place and fix) is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pyforge.ml.features import Encoded

NEG = -1e4


@dataclass(frozen=True, slots=True)
class Verdict:
    """A function's most likely bug: where, which repair, and how sure.

    ``repair`` is an index into :data:`~pyforge.ml.rewrites.REPAIRS`, or -1 with ``pointer``
    the index of a token whose text is the replacement.
    """

    p_nobug: float
    location: int
    repair: int
    pointer: int
    probability: float
    argmax_location: int  # -1 when "no bug" is the single most likely answer


def _softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max())
    return e / e.sum()  # type: ignore[no-any-return]


def repair_distribution(
    enc: Encoded,
    repair_logits: npt.NDArray[np.float32],
    pointer_logits: npt.NDArray[np.float32],
    at: int,
) -> tuple[npt.NDArray[np.float64], dict[int, float]]:
    """P(fixed repair | at) and P(replacement string id | at), pointer mass summed by string."""
    n = enc.length
    rep = np.where(enc.repair_mask[at], repair_logits[at, : repair_logits.shape[1]], NEG)
    valid = (enc.target_class[:n] == enc.ptr_site[at]) & (enc.ptr_site[at] > 0)
    valid &= enc.string_id[:n] != enc.string_id[at]
    ptr = np.where(valid, pointer_logits[at, :n], NEG)
    probs = _softmax(np.concatenate([rep, ptr]).astype(np.float32))
    fixed = probs[: rep.shape[0]]
    by_string: dict[int, float] = {}
    for j in np.nonzero(valid)[0]:
        sid = int(enc.string_id[j])
        by_string[sid] = by_string.get(sid, 0.0) + float(probs[rep.shape[0] + j])
    return fixed, by_string


def decide(
    enc: Encoded,
    loc_logits: npt.NDArray[np.float32],
    nobug_logit: float,
    repair_logits: npt.NDArray[np.float32],
    pointer_logits: npt.NDArray[np.float32],
) -> Verdict:
    """The best (location, repair) of one function, given its unpadded logits."""
    n = enc.length
    loc = np.where(enc.loc_mask, loc_logits[:n], NEG)
    p = _softmax(np.concatenate([[nobug_logit], loc]).astype(np.float32))
    p_nobug, p_loc = float(p[0]), p[1:]
    argmax = int(np.argmax(p)) - 1
    best = Verdict(p_nobug, -1, -1, -1, 0.0, argmax)
    # Only the few most likely locations can win the joint product.
    for at in np.argsort(-p_loc)[:8]:
        if not enc.loc_mask[at]:
            continue
        fixed, by_string = repair_distribution(enc, repair_logits, pointer_logits, int(at))
        r = int(np.argmax(fixed)) if fixed.size else -1
        pr = float(fixed[r]) if r >= 0 else 0.0
        ptr = -1
        if by_string:
            sid, ps = max(by_string.items(), key=lambda kv: kv[1])
            if ps > pr:
                r, pr = -1, ps
                ptr = int(np.nonzero(enc.string_id[:n] == sid)[0][0])
        joint = float(p_loc[at]) * pr
        if joint > best.probability:
            best = Verdict(p_nobug, int(at), r, ptr, joint, argmax)
    return best

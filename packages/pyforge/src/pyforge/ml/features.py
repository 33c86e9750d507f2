"""Tensors of a function for the model: hashed subtokens, token kinds, and the rewrite masks.

Identifiers are split into subtokens (``get_payload`` → ``get``, ``payload``; ``camelCase`` →
``camel``, ``case``) and hashed into a fixed number of buckets, as GREAT does with its subtoken
vocabulary; hashing needs no vocabulary file and never meets an unknown word.
"""

from __future__ import annotations

import keyword
import re
import tokenize
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pyforge.ml.rewrites import PTR_NONE, REPAIR_INDEX, REPAIRS, RewriteSpace
from pyforge.ml.units import Unit

VOCAB = 8192
SUBTOKENS = 4
MAX_TOKENS = 256
KIND_SLOTS = 16 * 10  # token kind x site pointer class x target class
_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_WORD = re.compile(r"[A-Za-z]+")

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
B = npt.NDArray[np.bool_]


def _hash(s: str) -> int:
    return zlib.crc32(s.encode("utf-8", "replace")) % (VOCAB - 1) + 1


def subtokens(tok_type: int, s: str) -> list[str]:
    """The subtokens a token is embedded from (at most :data:`SUBTOKENS`)."""
    if tok_type == tokenize.NAME and not keyword.iskeyword(s):
        parts = [p.lower() for p in _SPLIT.findall(s)] or [s]
    elif tok_type == tokenize.STRING:
        parts = ["<str>", *[w.lower() for w in _WORD.findall(s[:40])][: SUBTOKENS - 1]]
    elif tok_type == tokenize.NUMBER:
        parts = [s if len(s) <= 4 else "<num>"]
    elif tok_type == tokenize.NEWLINE:
        parts = ["<nl>"]
    elif tok_type == tokenize.INDENT:
        parts = ["<indent>"]
    elif tok_type == tokenize.DEDENT:
        parts = ["<dedent>"]
    else:
        parts = [s]
    return parts[:SUBTOKENS]


def _kind(tok_type: int, s: str) -> int:
    if tok_type == tokenize.NAME:
        return 2 if keyword.iskeyword(s) or s in ("True", "False", "None") else 1
    return {tokenize.OP: 3, tokenize.NUMBER: 4, tokenize.STRING: 5, tokenize.NEWLINE: 6,
            tokenize.INDENT: 7, tokenize.DEDENT: 8}.get(tok_type, 9)  # fmt: skip


@dataclass(slots=True)
class Encoded:
    """One function as arrays of length ``n`` (its tokens, truncated to :data:`MAX_TOKENS`)."""

    sub: I64  # [n, SUBTOKENS] hashed subtokens, 0 = padding
    kind: I64  # [n] kind slot
    loc_mask: B  # [n] a bug may sit here
    repair_mask: B  # [n, len(REPAIRS)] fixed repairs allowed here
    ptr_site: I64  # [n] pointer class of the site (0: none)
    target_class: I64  # [n] pointer class as a target (0: none)
    string_id: I64  # [n] id of the token's text within the function

    @property
    def length(self) -> int:
        """Number of tokens."""
        return int(self.kind.shape[0])


def encode(unit: Unit, space: RewriteSpace) -> Encoded:
    """The arrays of a unit (tokens past :data:`MAX_TOKENS` are cut off)."""
    tokens = unit.tokens[:MAX_TOKENS]
    n = len(tokens)
    sub = np.zeros((n, SUBTOKENS), dtype=np.int64)
    kind = np.zeros(n, dtype=np.int64)
    loc = np.zeros(n, dtype=np.bool_)
    rep = np.zeros((n, len(REPAIRS)), dtype=np.bool_)
    ptr = np.zeros(n, dtype=np.int64)
    tcls = np.zeros(n, dtype=np.int64)
    sid = np.zeros(n, dtype=np.int64)
    ids: dict[str, int] = {}
    strings_by_class: dict[int, set[str]] = {}
    for i, tok in enumerate(tokens):
        tcls[i] = space.target_class[i]
        if tcls[i]:
            strings_by_class.setdefault(int(tcls[i]), set()).add(tok.string)
    for i, tok in enumerate(tokens):
        for k, s in enumerate(subtokens(tok.type, tok.string)):
            sub[i, k] = _hash(s)
        sid[i] = ids.setdefault(tok.string, len(ids) + 1)
        site = space.sites.get(i)
        if site is not None:
            for r in site.repairs:
                rep[i, REPAIR_INDEX[r]] = True
            if site.ptr_class != PTR_NONE and strings_by_class.get(site.ptr_class, set()) - {
                tok.string
            }:
                ptr[i] = site.ptr_class
            loc[i] = bool(site.repairs) or ptr[i] != 0
        kind[i] = _kind(tok.type, tok.string) * 16 + ptr[i] * 4 + tcls[i]
    return Encoded(sub, kind, loc, rep, ptr, tcls, sid)


@dataclass(slots=True)
class Batch:
    """Padded arrays of several functions (the ONNX model's inputs plus the masks)."""

    sub: I64  # [b, t, SUBTOKENS]
    kind: I64  # [b, t]
    pad: F32  # [b, t] 1.0 for real tokens
    loc_mask: B
    repair_mask: B
    ptr_mask: B  # [b, t, t] pointer j is a valid repair for site i


def collate(items: list[Encoded]) -> Batch:
    """Pad a list of encoded functions to the longest one."""
    b, t = len(items), max(1, max(e.length for e in items))
    sub = np.zeros((b, t, SUBTOKENS), dtype=np.int64)
    kind = np.zeros((b, t), dtype=np.int64)
    pad = np.zeros((b, t), dtype=np.float32)
    loc = np.zeros((b, t), dtype=np.bool_)
    rep = np.zeros((b, t, len(REPAIRS)), dtype=np.bool_)
    ptr = np.zeros((b, t, t), dtype=np.bool_)
    for k, e in enumerate(items):
        n = e.length
        sub[k, :n], kind[k, :n], pad[k, :n] = e.sub, e.kind, 1.0
        loc[k, :n], rep[k, :n] = e.loc_mask, e.repair_mask
        same_class = (e.ptr_site[:, None] == e.target_class[None, :]) & (e.ptr_site[:, None] > 0)
        ptr[k, :n, :n] = same_class & (e.string_id[:, None] != e.string_id[None, :])
    return Batch(sub, kind, pad, loc, rep, ptr)

"""Raw line metrics (radon-compatible), suppression comments and duplication units.

Everything here comes from one ``tokenize`` pass over the whole file. radon tokenises each
stripped line on its own and grows the buffer until the tokens are complete; those buffers are
exactly the logical lines of a whole-file tokenisation, so the counts agree with radon's
``raw.analyze`` while costing a single pass (radon's approach is quadratic in long statements).
"""

from __future__ import annotations

import hashlib
import importlib
import io
import re
import sys
import tokenize
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

_COMMENT = tokenize.COMMENT
_NL = tokenize.NL
_NEWLINE = tokenize.NEWLINE
_STRING = tokenize.STRING
_OP = tokenize.OP
_NAME = tokenize.NAME
_SKIP = frozenset({tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, _NL, _NEWLINE, _COMMENT})

_C_TOKENIZER: Any = None
if sys.version_info[:2] == (3, 11):  # the only C tokenizer interface this module knows
    try:
        _C_TOKENIZER = importlib.import_module("_tokenize").TokenizerIter
    except (ImportError, AttributeError):
        _C_TOKENIZER = None

_SUPPRESS = re.compile(r"pyforge:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"noqa(?::\s*([\w\-, ]+))?", re.IGNORECASE)
ALL_RULES = "*"


@dataclass(frozen=True, slots=True)
class RawMetrics:
    """radon's raw counts. ``loc == sloc + blank + multi + single_comments`` always holds."""

    loc: int = 0
    lloc: int = 0
    sloc: int = 0
    comments: int = 0
    multi: int = 0
    blank: int = 0
    single_comments: int = 0


@dataclass(slots=True)
class TokenScan:
    """What one tokenize pass yields: raw metrics, suppressions and duplication units."""

    raw: RawMetrics
    #: line -> rule ids suppressed there (``ALL_RULES`` for a blanket ``pyforge: ignore``).
    suppressions: dict[int, list[str]] = field(default_factory=dict)
    #: logical lines usable for duplicate detection: (first line, last line, token count, hash).
    units: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: occurrences of private identifiers (``_name``), in code and in identifier-like strings,
    #: so that unused private functions can be found across the project.
    private_names: dict[str, int] = field(default_factory=dict)


def _unit_hash(text: str) -> int:
    # A stable hash (not ``hash()``, which is salted per process) so units compare across
    # worker processes and across runs through the cache.
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def _count_private(counts: dict[str, int], name: str) -> None:
    # Private (single-underscore) names mentioned anywhere, strings included: a function whose
    # name is never mentioned again is dead code (see the deadcode analyzer).
    if name[:1] == "_" and name[1:2] != "_" and name.isidentifier():
        counts[name] = counts.get(name, 0) + 1


def _raw_metrics(
    *, sloc: int, blank: int, multi: int, single: int, lloc: int, comments: int
) -> RawMetrics:
    """Radon's raw metrics from the counts either tokenizer path collects."""
    return RawMetrics(
        loc=sloc + blank + multi + single,
        lloc=lloc,
        sloc=sloc,
        comments=comments,
        multi=multi,
        blank=blank,
        single_comments=single,
    )


def _parse_suppression(comment: str) -> list[str] | None:
    match = _SUPPRESS.search(comment)
    if match is not None:
        if match.group(1) is None:
            return [ALL_RULES]
        return [r.strip() for r in match.group(1).split(",") if r.strip()]
    match = _NOQA.search(comment)
    if match is not None and match.group(1):
        # Only explicit codes: ruff itself honours its own suppression comments, and a bare one
        # must not silently hide PyForge's own findings.
        return [r.strip() for r in match.group(1).replace(" ", ",").split(",") if r.strip()]
    return None


def _logical_count(sig: list[tokenize.TokenInfo]) -> int:
    """radon's ``_logical``: statements split on ';', a non-final ':' makes a second line."""
    total = 0
    subs: list[list[tokenize.TokenInfo]] = [[]]
    for tok in sig:
        if tok.type == _OP and tok.string == ";":
            subs.append([])
        else:
            subs[-1].append(tok)
    last = len(subs) - 1
    for i, sub in enumerate(subs):
        # radon's last piece still carries the ENDMARKER token, which shifts the comparison.
        length = len(sub) + (1 if i == last else 0)
        colon = -1
        for j in range(len(sub) - 1, -1, -1):
            if sub[j].type == _OP and sub[j].string == ":":
                colon = j
                break
        if colon >= 0:
            total += 2 - (colon == length - 2)
        elif sub:
            total += 1
    return total


def scan_tokens(text: str, *, want_units: bool = True) -> TokenScan:
    """Tokenize ``text`` once; raise ``tokenize.TokenError``/``SyntaxError`` on broken input.

    On Python 3.11 the C tokenizer is used (about seven times faster than ``tokenize``, whose
    3.11 implementation is pure Python); it skips comments and blank lines, which are then
    recovered from the gaps between tokens. Python 3.12+ ``tokenize`` is C-based already.
    """
    if _C_TOKENIZER is not None:
        return _scan_c(text, want_units=want_units)
    return _scan_py(text, want_units=want_units)


def _scan_py(text: str, *, want_units: bool = True) -> TokenScan:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    empty = [not line.strip() for line in lines]
    n_lines = len(lines)

    sloc = blank = multi = single = comments = lloc = 0
    suppressions: dict[int, list[str]] = {}
    units: list[tuple[int, int, int, int]] = []
    private_names: dict[str, int] = {}

    group_start = 1  # first physical line of the current logical line
    sig: list[tokenize.TokenInfo] = []
    group_comments = 0
    depth = 0
    first_is_comment = False
    seen_any = False

    def close(end_row: int) -> None:
        nonlocal sloc, blank, multi, single, comments, lloc, group_start
        nonlocal sig, group_comments, first_is_comment, seen_any
        end_row = min(end_row, n_lines)
        if end_row >= group_start:
            comments += group_comments
            rows = range(group_start - 1, end_row)
            if not sig and first_is_comment and group_comments == 1 and end_row == group_start:
                single += 1
            elif len(sig) == 1 and sig[0].type == _STRING and group_comments == 0:
                if sig[0].start[0] == sig[0].end[0]:
                    single += 1
                else:
                    n_empty = sum(1 for r in rows if empty[r])
                    blank += n_empty
                    multi += len(rows) - n_empty
            else:
                n_empty = sum(1 for r in rows if empty[r])
                blank += n_empty
                sloc += len(rows) - n_empty
                if want_units and sig and sig[0].string not in ("import", "from", "@"):
                    units.append(
                        (
                            sig[0].start[0],
                            sig[-1].end[0],
                            len(sig),
                            _unit_hash(" ".join(t.string for t in sig)),
                        )
                    )
            lloc += _logical_count(sig)
            group_start = end_row + 1
        sig = []
        group_comments = 0
        first_is_comment = False
        seen_any = False

    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        ttype = tok.type
        if ttype == _COMMENT:
            group_comments += 1
            if not seen_any:
                first_is_comment = True
            seen_any = True
            rules = _parse_suppression(tok.string)
            if rules:
                suppressions.setdefault(tok.start[0], []).extend(rules)
            continue
        if ttype == _NEWLINE:
            close(tok.start[0])
            continue
        if ttype == _NL:
            if depth == 0:
                close(tok.start[0])
            continue
        if ttype in _SKIP:
            continue
        if ttype == _OP:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth = max(0, depth - 1)
        elif ttype in (_NAME, _STRING):
            name = tok.string if ttype == _NAME else tok.string.strip("'\"")
            _count_private(private_names, name)
        seen_any = True
        sig.append(tok)
    close(n_lines)
    raw = _raw_metrics(sloc=sloc, blank=blank, multi=multi, single=single, lloc=lloc,
                       comments=comments)  # fmt: skip
    return TokenScan(raw=raw, suppressions=suppressions, units=units, private_names=private_names)


# Exact token types of the C tokenizer (``token`` module numbering).
_C_NEWLINE, _C_INDENT, _C_DEDENT, _C_ENDMARKER = 4, 5, 6, 0
_C_NAME, _C_STRING, _C_COLON, _C_SEMI = 1, 3, 11, 13
_C_SKIP = frozenset({_C_INDENT, _C_DEDENT, _C_ENDMARKER})


def _logical_count_c(sig: list[Any]) -> int:
    """:func:`_logical_count` for C tokenizer tuples (string, type, row, end_row, col, end_col)."""
    total = 0
    subs: list[list[Any]] = [[]]
    for tok in sig:
        if tok[1] == _C_SEMI:
            subs.append([])
        else:
            subs[-1].append(tok)
    last = len(subs) - 1
    for i, sub in enumerate(subs):
        length = len(sub) + (1 if i == last else 0)
        colon = -1
        for j in range(len(sub) - 1, -1, -1):
            if sub[j][1] == _C_COLON:
                colon = j
                break
        if colon >= 0:
            total += 2 - (colon == length - 2)
        elif sub:
            total += 1
    return total


def _comment_rows(lines: list[str], strings: list[tuple[int, int, int, int]]) -> dict[int, str]:
    """Rows holding a comment, with its text: the first '#' outside every string token."""
    hash_rows = [i + 1 for i, line in enumerate(lines) if "#" in line]
    if not hash_rows:
        return {}
    hash_set = set(hash_rows)
    spans: dict[int, list[tuple[int, int]]] = {}
    inside: set[int] = set()
    for start_row, start_col, end_row, end_col in strings:
        if start_row == end_row:
            if start_row in hash_set:
                spans.setdefault(start_row, []).append((start_col, end_col))
            continue
        if start_row in hash_set:
            spans.setdefault(start_row, []).append((start_col, 1 << 40))
        lo, hi = bisect_right(hash_rows, start_row), bisect_left(hash_rows, end_row)
        inside.update(hash_rows[lo:hi])
        if end_row in hash_set:
            spans.setdefault(end_row, []).append((-1, end_col))
    found: dict[int, str] = {}
    for row in hash_rows:
        if row in inside:
            continue
        data = lines[row - 1].encode("utf-8")  # token columns are byte offsets
        row_spans = spans.get(row, ())
        pos = data.find(b"#")
        while pos >= 0:
            if not any(a <= pos < b for a, b in row_spans):
                found[row] = data[pos:].decode("utf-8", "replace").rstrip("\r")
                break
            pos = data.find(b"#", pos + 1)
    return found


def _scan_c(text: str, *, want_units: bool = True) -> TokenScan:
    """:func:`_scan_py`'s results from the C tokenizer (see :func:`scan_tokens`)."""
    assert _C_TOKENIZER is not None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n_lines = len(lines)
    empty = [not line.strip() for line in lines]

    groups: list[tuple[int, int, list[Any]]] = []
    strings: list[tuple[int, int, int, int]] = []
    sig: list[Any] = []
    for tok in _C_TOKENIZER(text):
        ttype = tok[1]
        if ttype == _C_NEWLINE:
            if sig:
                groups.append((sig[0][2], tok[2], sig))
                sig = []
            continue
        if ttype in _C_SKIP:
            continue
        if ttype == _C_STRING:
            strings.append((tok[2], tok[4], tok[3], tok[5]))
        sig.append(tok)
    if sig:
        groups.append((sig[0][2], sig[-1][3], sig))

    comment_text = _comment_rows(lines, strings)
    suppressions: dict[int, list[str]] = {}
    for row, comment in comment_text.items():
        rules = _parse_suppression(comment)
        if rules:
            suppressions[row] = rules
    # comments_upto[r]: comment rows among the first r rows, to count any range in O(1).
    comments_upto = [0] * (n_lines + 1)
    running = 0
    for r in range(1, n_lines + 1):
        running += r in comment_text
        comments_upto[r] = running

    sloc = blank = multi = single = lloc = 0
    units: list[tuple[int, int, int, int]] = []
    private_names: dict[str, int] = {}
    next_row = 1

    def standalone(upto: int) -> None:
        # Rows outside every statement: blank lines and comment-only lines, one group each.
        nonlocal blank, single, sloc
        for r in range(next_row, upto):
            if empty[r - 1]:
                blank += 1
            elif r in comment_text:
                single += 1
            else:
                sloc += 1

    for first, last, toks in groups:
        last = min(last, n_lines)
        standalone(first)
        n_comments = comments_upto[last] - comments_upto[first - 1]
        n_empty = sum(empty[first - 1 : last])
        if len(toks) == 1 and toks[0][1] == _C_STRING and n_comments == 0:
            if toks[0][2] == toks[0][3]:
                single += 1
            else:
                blank += n_empty
                multi += last - first + 1 - n_empty
        else:
            blank += n_empty
            sloc += last - first + 1 - n_empty
            if want_units and toks[0][0] not in ("import", "from", "@"):
                units.append(
                    (first, toks[-1][3], len(toks), _unit_hash(" ".join(t[0] for t in toks)))
                )
        for tok in toks:
            if tok[1] == _C_NAME or tok[1] == _C_STRING:
                name = tok[0] if tok[1] == _C_NAME else tok[0].strip("'\"")
                _count_private(private_names, name)
        lloc += _logical_count_c(toks)
        next_row = last + 1
    standalone(n_lines + 1)

    comments = comments_upto[n_lines] if n_lines else 0
    raw = _raw_metrics(sloc=sloc, blank=blank, multi=multi, single=single, lloc=lloc,
                       comments=comments)  # fmt: skip
    return TokenScan(raw=raw, suppressions=suppressions, units=units, private_names=private_names)

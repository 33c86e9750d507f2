"""Raw line metrics (radon-compatible), suppression comments and duplication units.

Everything here comes from one ``tokenize`` pass over the whole file. radon tokenises each
stripped line on its own and grows the buffer until the tokens are complete; those buffers are
exactly the logical lines of a whole-file tokenisation, so the counts agree with radon's
``raw.analyze`` while costing a single pass (radon's approach is quadratic in long statements).
"""

from __future__ import annotations

import importlib
import io
import re
import sys
import tokenize
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter, not_
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
#: What either pattern above needs: one search rules out most comments.
_MAY_SUPPRESS = re.compile(r"pyforge|noqa", re.IGNORECASE)
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
    # worker processes and across runs through the cache. 32 bits are plenty: duplicates are
    # windows of several consecutive units, which would all have to collide.
    return zlib.crc32(text.encode("utf-8"))


def _count_private(counts: dict[str, int], name: str) -> None:
    # Private (single-underscore) names mentioned anywhere, strings included: a function whose
    # name is never mentioned again is dead code (see the deadcode analyzer).
    if name[:1] == "_" and name[1:2] != "_" and name.isidentifier():
        counts[name] = counts.get(name, 0) + 1


# A private name inside a string: a getattr() name, an f-string's ``{_helper()}``, or code a
# generator writes out (``"runtime._decorate(%s)"``).
_PRIVATE_IN_STRING = re.compile(r"(?<!\w)_[A-Za-z0-9]\w*")


def _count_private_in_string(counts: dict[str, int], token: str) -> None:
    if "_" in token:
        for name in _PRIVATE_IN_STRING.findall(token):
            _count_private(counts, name)


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
    if _MAY_SUPPRESS.search(comment) is None:
        return None
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


# Exact token types, numbered as in the ``token`` module (which the C tokenizer uses too).
_C_NEWLINE, _C_INDENT, _C_DEDENT, _C_ENDMARKER = 4, 5, 6, 0
_C_NAME, _C_STRING, _C_COLON, _C_SEMI = 1, 3, 11, 13
_C_SKIP = frozenset({_C_INDENT, _C_DEDENT, _C_ENDMARKER})
#: Statements that are never reported as duplicated code.
_NO_UNIT = frozenset({"import", "from", "@"})


def _logical_count(kinds: list[int]) -> int:
    """radon's ``_logical`` over a statement's exact token types.

    Statements split on ';'; a piece with a ':' that is not its last token counts twice.
    """
    if _C_SEMI not in kinds:
        return _logical_piece(kinds, True)
    total = start = 0
    for i, kind in enumerate(kinds):
        if kind == _C_SEMI:
            total += _logical_piece(kinds[start:i], False)
            start = i + 1
    return total + _logical_piece(kinds[start:], True)


def _logical_piece(piece: list[int], last: bool) -> int:
    if _C_COLON in piece:
        colon = len(piece) - 1 - piece[::-1].index(_C_COLON)
        # radon's last piece still carries the ENDMARKER token, which shifts the comparison.
        return 2 - (colon == len(piece) + last - 2)
    return 1 if piece else 0


_ANY_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _source_lines(text: str) -> list[str]:
    # Rows as the tokenizer numbers them: a lone "\r" ends a line too (old Mac files; atheris
    # found that counting only "\n" left token rows past the last line, an IndexError).
    lines = text.split("\n") if "\r" not in text else _ANY_LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _unit(first: int, last: int, strings: list[str]) -> tuple[int, int, int, int]:
    """A duplication unit: (first line, last line, token count, hash of the tokens)."""
    return (first, last, len(strings), _unit_hash(" ".join(strings)))


class _LineCounts:
    """radon's line categories, added up statement by statement."""

    __slots__ = ("blank", "comments", "lloc", "multi", "single", "sloc")

    def __init__(self) -> None:
        self.sloc = self.blank = self.multi = self.single = self.lloc = self.comments = 0

    def code(self, rows: int, empty: int) -> None:
        """A statement over ``rows`` lines, ``empty`` of them blank."""
        self.blank += empty
        self.sloc += rows - empty

    def string(self, one_line: bool, rows: int, empty: int) -> None:
        """A statement that is a lone string: a one-line comment or a multi-line string."""
        if one_line:
            self.single += 1
        else:
            self.blank += empty
            self.multi += rows - empty

    def raw(self) -> RawMetrics:
        """The totals as :class:`RawMetrics`."""
        return _raw_metrics(sloc=self.sloc, blank=self.blank, multi=self.multi,
                            single=self.single, lloc=self.lloc, comments=self.comments)  # fmt: skip


def scan_tokens(
    text: str, *, want_units: bool = True, want_private: bool = True,
    lines: list[str] | None = None,
) -> TokenScan:  # fmt: skip
    """Tokenize ``text`` once; raise ``tokenize.TokenError``/``SyntaxError`` on broken input.

    On Python 3.11 the C tokenizer is used (about seven times faster than ``tokenize``, whose
    3.11 implementation is pure Python); it skips comments and blank lines, which are then
    recovered from the gaps between tokens. Python 3.12+ ``tokenize`` is C-based already.
    ``lines`` is the text cut at every line break (``\n``, ``\r\n``, ``\r``), when the
    caller has it already.
    """
    if _C_TOKENIZER is not None:
        rows = None if lines is None else lines[:-1] if lines and lines[-1] == "" else lines
        return _scan_c(text, want_units=want_units, want_private=want_private, lines=rows)
    return _scan_py(text, want_units=want_units, want_private=want_private)


def _scan_py(text: str, *, want_units: bool = True, want_private: bool = True) -> TokenScan:
    """The portable scan, over :mod:`tokenize`'s tokens."""
    return _PyScan(text, want_units, want_private).run()


class _PyScan:
    """One :func:`_scan_py`: tokens are grouped into logical lines, each counted on closing."""

    def __init__(self, text: str, want_units: bool, want_private: bool) -> None:
        self.text = text
        self.want_units = want_units
        self.want_private = want_private
        lines = _source_lines(text)
        self.empty = [not line.strip() for line in lines]
        self.n_lines = len(lines)
        self.counts = _LineCounts()
        self.suppressions: dict[int, list[str]] = {}
        self.units: list[tuple[int, int, int, int]] = []
        self.private_names: dict[str, int] = {}
        self.group_start = 1  # first physical line of the current logical line
        self.sig: list[tokenize.TokenInfo] = []
        self.group_comments = 0
        self.first_is_comment = False
        self.seen_any = False
        self.depth = 0

    def run(self) -> TokenScan:
        """Scan the whole text."""
        for tok in tokenize.generate_tokens(io.StringIO(self.text).readline):
            self._token(tok)
        self._close(self.n_lines)
        return TokenScan(raw=self.counts.raw(), suppressions=self.suppressions,
                         units=self.units, private_names=self.private_names)  # fmt: skip

    def _token(self, tok: tokenize.TokenInfo) -> None:
        ttype = tok.type
        if ttype == _COMMENT:
            self._comment(tok)
        elif ttype == _NEWLINE or (ttype == _NL and self.depth == 0):
            self._close(tok.start[0])
        elif ttype not in _SKIP:
            self._significant(tok)

    def _comment(self, tok: tokenize.TokenInfo) -> None:
        self.group_comments += 1
        self.first_is_comment = self.first_is_comment or not self.seen_any
        self.seen_any = True
        rules = _parse_suppression(tok.string)
        if rules:
            self.suppressions.setdefault(tok.start[0], []).extend(rules)

    def _significant(self, tok: tokenize.TokenInfo) -> None:
        ttype = tok.type
        if ttype == _OP:
            if tok.string in "([{":
                self.depth += 1
            elif tok.string in ")]}":
                self.depth = max(0, self.depth - 1)
        elif ttype == _NAME and self.want_private:
            _count_private(self.private_names, tok.string)
        elif ttype == _STRING and self.want_private:
            _count_private_in_string(self.private_names, tok.string)
        self.seen_any = True
        self.sig.append(tok)

    def _close(self, end_row: int) -> None:
        end_row = min(end_row, self.n_lines)
        if end_row >= self.group_start:
            self._count_group(end_row)
            self.group_start = end_row + 1
        self.sig = []
        self.group_comments = 0
        self.first_is_comment = False
        self.seen_any = False

    def _count_group(self, end_row: int) -> None:
        counts, sig, start = self.counts, self.sig, self.group_start
        counts.comments += self.group_comments
        rows = end_row - start + 1
        empty = sum(self.empty[start - 1 : end_row])
        if not sig and self.first_is_comment and self.group_comments == 1 and rows == 1:
            counts.single += 1
        elif len(sig) == 1 and sig[0].type == _STRING and self.group_comments == 0:
            counts.string(sig[0].start[0] == sig[0].end[0], rows, empty)
        else:
            counts.code(rows, empty)
            if self.want_units and sig and sig[0].string not in _NO_UNIT:
                self.units.append(_unit(sig[0].start[0], sig[-1].end[0], [t.string for t in sig]))
        counts.lloc += _logical_count([t.exact_type for t in sig])


def _comment_rows(lines: list[str], strings: list[tuple[int, int, int, int]]) -> dict[int, str]:
    """Rows holding a comment, with its text: the first '#' outside every string token."""
    hash_rows = [i + 1 for i, line in enumerate(lines) if "#" in line]
    if not hash_rows:
        return {}
    spans, inside = _string_spans(hash_rows, strings)
    found: dict[int, str] = {}
    for row in hash_rows:
        if row not in inside:
            comment = _comment_in(lines[row - 1], spans.get(row, ()))
            if comment is not None:
                found[row] = comment
    return found


def _string_spans(
    hash_rows: list[int], strings: list[tuple[int, int, int, int]]
) -> tuple[dict[int, list[tuple[int, int]]], set[int]]:
    """Per row with a '#': the column spans strings cover; and the rows inside a string."""
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
    return spans, inside


def _comment_in(line: str, string_spans: Sequence[tuple[int, int]]) -> str | None:
    """The comment on ``line``: from the first '#' that no string covers, if any."""
    if not string_spans:
        # No string on the line: the first '#' starts the comment ('#' is one byte in UTF-8,
        # never part of another character's, so no byte offsets are needed).
        return line[line.index("#") :].rstrip("\r")
    data = line.encode("utf-8")  # token columns are byte offsets
    pos = data.find(b"#")
    while pos >= 0:
        if not any(a <= pos < b for a, b in string_spans):
            return data[pos:].decode("utf-8", "replace").rstrip("\r")
        pos = data.find(b"#", pos + 1)
    return None


def _c_statements(types: list[int], toks: list[Any]) -> Iterator[tuple[int, int, int]]:
    """(first token, end token, last row) of each statement in the C tokenizer's tokens.

    Tokens are tuples (string, type, row, end_row, col, end_col); comments are not among them,
    and INDENT/DEDENT/ENDMARKER only ever stand between statements. Statement ends are found
    with ``list.index``, so no Python code runs per token.
    """
    n = len(types)
    i = 0
    while i < n:
        while i < n and types[i] in _C_SKIP:
            i += 1
        if i >= n:
            return
        try:
            j = types.index(_C_NEWLINE, i)
            last_row = toks[j][2]
        except ValueError:  # no NEWLINE before the end
            j = n
            while types[j - 1] in _C_SKIP:
                j -= 1
            last_row = toks[j - 1][3]
        if j > i:
            yield i, j, last_row
        i = j + 1


#: A private (not dunder) identifier among NUL-joined token strings: only NAME tokens start
#: with '_' (strings start with a quote or prefix letter), and no token holds a NUL.
_PRIVATE_TOKEN = re.compile(r"\0(_(?!_)[^\0]*)")


def _c_private_names(strs: list[str], strings: list[Any]) -> dict[str, int]:
    """Private names among the tokens: identifiers, and mentions inside string tokens."""
    # One search over all token strings instead of a comprehension over every token; the
    # names come out in token order, as _count_private would see them.
    counts: dict[str, int] = dict(Counter(_PRIVATE_TOKEN.findall("\0" + "\0".join(strs))))
    for string in [t[0] for t in strings if "_" in t[0]]:
        _count_private_in_string(counts, string)
    return counts


class _CGaps:
    """Counts the rows between the C tokenizer's statements, which it does not report."""

    def __init__(self, lines: list[str], comment_text: dict[int, str]) -> None:
        self.empty = [not line.strip() for line in lines]
        self.comment_text = comment_text
        self.counts = _LineCounts()
        self.counts.comments = len(comment_text)
        # comments_upto[r]: comment rows among the first r rows, to count any range in O(1).
        self.comments_upto = _comments_upto(comment_text, len(lines))
        self.next_row = 1

    def standalone(self, upto: int) -> None:
        """Rows outside every statement: blank lines and comment-only lines, one group each."""
        counts = self.counts
        for r in range(self.next_row, upto):
            if self.empty[r - 1]:
                counts.blank += 1
            elif r in self.comment_text:
                counts.single += 1
            else:
                counts.sloc += 1


def _c_count_statements(
    gaps: _CGaps, types: list[int], toks: list[Any], strs: list[str], *, n_lines: int,
    want_units: bool,
) -> list[tuple[int, int, int, int]]:  # fmt: skip
    """Count every statement's rows and logical lines; its duplication units.

    The loop runs once per statement of the file, so the usual case (a one-line statement
    right after the previous one) is spelled out here rather than in method calls.
    """
    counts = gaps.counts
    empty, comments_upto = gaps.empty, gaps.comments_upto
    units: list[tuple[int, int, int, int]] = []
    lloc = 0
    for i, j, last_row in _c_statements(types, toks):
        first, last = toks[i][2], min(last_row, n_lines)
        if first > gaps.next_row:
            gaps.standalone(first)
        gaps.next_row = last + 1
        rows = last - first + 1
        n_empty = sum(empty[first - 1 : last]) if rows > 1 else 0  # a token's row is not blank
        if j - i == 1 and types[i] == _C_STRING and comments_upto[last] == comments_upto[first - 1]:
            counts.string(toks[i][2] == toks[i][3], rows, n_empty)
        else:
            counts.code(rows, n_empty)
            if want_units and strs[i] not in _NO_UNIT:
                # _unit's tuple, built in place: this runs for nearly every statement.
                units.append((first, toks[j - 1][3], j - i, _unit_hash(" ".join(strs[i:j]))))
        kinds = types[i:j]
        lloc += _logical_count(kinds) if _C_SEMI in kinds or _C_COLON in kinds else 1
    counts.lloc = lloc
    return units


def _comments_upto(comment_text: dict[int, str], n_lines: int) -> list[int]:
    """``upto[r]``: how many of the first ``r`` rows hold a comment (``upto[0] == 0``)."""
    return list(accumulate(map(comment_text.__contains__, range(1, n_lines + 1)), initial=0))


#: One statement among the C tokenizer's token types written as bytes (one byte per token):
#: its tokens up to the next NEWLINE, the INDENT/DEDENT/ENDMARKER tokens before it left out.
_C_STATEMENT = re.compile(rb"[\x00\x05\x06]*+([^\x04]+)")
#: A statement with a ':' that is not its last token, up to its NEWLINE: radon's ``_logical``
#: counts it twice (at most one match per statement: a match ends at the NEWLINE).
_C_INNER_COLON = re.compile(rb"\x0b[^\x04]*[^\x04\x0b]\x04")
_C_SEMIS = re.compile(rb"\x0d")
#: A STRING token right before a NEWLINE: a statement of its own (a docstring, or a string
#: used as a comment) when what precedes it ends a statement. (A look-behind first would be
#: tried at every position; a literal first is searched for.)
_C_STRING_END = re.compile(rb"\x03(?=\x04)")
_C_BETWEEN_STATEMENTS = frozenset({0, 4, 5, 6})  # ENDMARKER, NEWLINE, INDENT, DEDENT
_STRING_OF, _TYPE, _ROW = itemgetter(0), itemgetter(1), itemgetter(2)


def _c_spans(
    kinds: bytes, toks: list[Any], n_lines: int
) -> tuple[list[tuple[int, int]], list[int], list[int]] | None:
    """Each statement's (first token, NEWLINE token), first row and last row; None unless
    every statement ends with a NEWLINE on a row of its own within the lines."""
    spans = [m.span(1) for m in _C_STATEMENT.finditer(kinds)]
    if not spans or spans[-1][1] >= len(kinds):
        return None
    firsts = [toks[i][2] for i, _ in spans]
    lasts = list(map(_ROW, map(toks.__getitem__, [j for _, j in spans])))  # NEWLINE rows
    if firsts[0] < 1 or lasts[-1] > n_lines or any(map(int.__le__, firsts[1:], lasts)):
        return None
    return spans, firsts, lasts


def _c_row_counts(
    lines: list[str], firsts: list[int], lasts: list[int], comment_text: dict[int, str]
) -> tuple[_LineCounts, list[int], list[int]]:
    """The counts as if every statement were code, from running totals over the rows; and
    those running totals (blank rows, comment rows among the first ``r``)."""
    n_lines = len(lines)
    empty_upto = list(accumulate(map(not_, map(str.strip, lines)), initial=0))
    comments_upto = _comments_upto(comment_text, n_lines)
    rows = list(zip(firsts, lasts, strict=True))
    covered = sum(lasts) - sum(firsts) + len(rows)
    covered_empty = sum([empty_upto[b] - empty_upto[a - 1] for a, b in rows])
    covered_comments = sum([comments_upto[b] - comments_upto[a - 1] for a, b in rows])
    gap_empty = empty_upto[n_lines] - covered_empty
    gap_comments = comments_upto[n_lines] - covered_comments
    counts = _LineCounts()
    counts.comments = len(comment_text)
    counts.blank = empty_upto[n_lines]
    # Rows outside every statement are blank, comment-only, or (rarely) code.
    counts.single = gap_comments
    counts.sloc = (n_lines - covered - gap_empty - gap_comments) + (covered - covered_empty)
    return counts, empty_upto, comments_upto


def _c_lone_strings(
    kinds: bytes, toks: list[Any], counts: _LineCounts, empty_upto: list[int],
    comments_upto: list[int],
) -> set[int]:  # fmt: skip
    """Recount the statements that are one string token with no comment on their rows: a
    comment (one line) or a multi-line string, not code. Their first tokens."""
    lone: set[int] = set()
    for m in _C_STRING_END.finditer(kinds):
        i = m.start()
        if i and kinds[i - 1] not in _C_BETWEEN_STATEMENTS:
            continue
        first, last = toks[i][2], toks[i + 1][2]
        if comments_upto[last] != comments_upto[first - 1]:
            continue
        lone.add(i)
        rows = last - first + 1
        n_empty = empty_upto[last] - empty_upto[first - 1]
        counts.sloc -= rows - n_empty
        if toks[i][2] == toks[i][3]:
            counts.single += 1
            counts.blank -= n_empty
        else:
            counts.multi += rows - n_empty
    return lone


def _c_lloc(kinds: bytes, types: list[int], spans: list[tuple[int, int]]) -> int | None:
    """radon's logical lines: one per statement, two for a ':' before the end, and each
    piece between ';' on its own (None for a ';' outside every statement)."""
    lloc = len(spans) + len(_C_INNER_COLON.findall(kinds))
    if b"\x0d" not in kinds:
        return lloc
    starts = [i for i, _ in spans]
    semis = {bisect_right(starts, m.start()) - 1: m.start() for m in _C_SEMIS.finditer(kinds)}
    for k, at in sorted(semis.items()):
        i, j = spans[k]
        if k < 0 or not i <= at < j:
            return None  # not valid Python anyway
        inner = _C_INNER_COLON.search(kinds, i, j + 1) is not None
        lloc += _logical_count(types[i:j]) - 1 - inner
    return lloc


def _c_bulk_counts(
    lines: list[str], types: list[int], kinds: bytes, toks: list[Any], strs: list[str],
    comment_text: dict[int, str], *, want_units: bool,
) -> tuple[RawMetrics, list[tuple[int, int, int, int]]] | None:  # fmt: skip
    """:func:`_c_count_statements`' results without a Python loop over the statements.

    Every count is a difference of running totals over the rows, summed over all statements
    at once; only lone-string statements (docstrings), statements with a ';' and the
    duplication units are looked at one by one. None when the tokens break an assumption
    this relies on (no statement at all, statements sharing a row, a row past the last
    line): the statement-by-statement count then runs instead.
    """
    found = _c_spans(kinds, toks, len(lines))
    if found is None:
        return None
    spans, firsts, lasts = found
    counts, empty_upto, comments_upto = _c_row_counts(lines, firsts, lasts, comment_text)
    lone = _c_lone_strings(kinds, toks, counts, empty_upto, comments_upto)
    lloc = _c_lloc(kinds, types, spans)
    if lloc is None:
        return None
    counts.lloc = lloc
    if not want_units:
        return counts.raw(), []
    crc32 = zlib.crc32
    units = [(toks[i][2], toks[j - 1][3], j - i, crc32(" ".join(strs[i:j]).encode()))
             for i, j in spans if i not in lone and strs[i] not in _NO_UNIT]  # fmt: skip
    return counts.raw(), units


def _suppressions(comment_text: dict[int, str]) -> dict[int, list[str]]:
    """Rule ids suppressed per row, from the comments' ``pyforge: ignore``/``noqa``."""
    # One look at all the comments together rules out most files (a case-insensitive search
    # of the whole text costs more than the token scan's statement counts).
    joined = "\n".join(comment_text.values()).lower()
    if "noqa" not in joined and "pyforge" not in joined:
        return {}
    out: dict[int, list[str]] = {}
    for row, comment in comment_text.items():
        rules = _parse_suppression(comment)
        if rules:
            out[row] = rules
    return out


def _scan_c(
    text: str, *, want_units: bool = True, want_private: bool = True,
    lines: list[str] | None = None,
) -> TokenScan:  # fmt: skip
    """:func:`_scan_py`'s results from the C tokenizer (see :func:`scan_tokens`); ``lines``
    as :func:`_source_lines` cuts the text, when the caller has them."""
    assert _C_TOKENIZER is not None
    if lines is None:
        lines = _source_lines(text)
    toks = list(_C_TOKENIZER(text))
    types = list(map(_TYPE, toks))
    kinds = bytes(types)  # token types are below 256: one byte each, searched in C
    # The token strings listed once: slicing this list is twice as fast as a comprehension
    # over each statement's slice of tokens.
    strs = list(map(_STRING_OF, toks)) if want_units or want_private else []
    string_toks = [t for t in toks if t[1] == _C_STRING] if b"\x03" in kinds else []
    strings = [(t[2], t[4], t[3], t[5]) for t in string_toks]
    comment_text = _comment_rows(lines, strings)
    suppressions = _suppressions(comment_text)
    bulk = _c_bulk_counts(lines, types, kinds, toks, strs, comment_text, want_units=want_units)
    if bulk is not None:
        raw, units = bulk
    else:
        gaps = _CGaps(lines, comment_text)
        units = _c_count_statements(gaps, types, toks, strs, n_lines=len(lines),
                                    want_units=want_units)  # fmt: skip
        gaps.standalone(len(lines) + 1)
        raw = gaps.counts.raw()
    private = _c_private_names(strs, string_toks) if want_private else {}
    return TokenScan(raw=raw, suppressions=suppressions, units=units,
                     private_names=private)  # fmt: skip

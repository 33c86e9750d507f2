"""Safe full-text query terms for PostgreSQL (``to_tsquery``) and SQLite (FTS5), and pg_trgm's
similarity for typo-tolerant fallbacks, shared by every product's search.

User input never reaches a query language as syntax: it is reduced to words (runs of letters
and digits), and each word is quoted (FTS5) or passed as a plain lexeme (``to_tsquery``). So
``foo"``, ``*``, ``AND (`` or ``a:b & !c`` search for their words and can never be a syntax
error. Every word must match, as a prefix, case-insensitively.
"""

from __future__ import annotations

import re

#: At most this many words are used: a search box, not a document.
MAX_TERMS = 16

# Letters and digits only: underscore and punctuation separate words, as both FTS engines'
# tokenizers treat them.
_WORD = re.compile(r"[^\W_]+")


def search_terms(query: str) -> list[str]:
    """The words of ``query``, lower-cased, de-duplicated in order, at most :data:`MAX_TERMS`."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every term as a quoted prefix (``"foo"* "bar"*``)."""
    # Terms hold no quotes (letters and digits only); doubling them anyway keeps this safe if
    # the tokenisation above ever changes.
    return " ".join('"' + t.replace('"', '""') + '"*' for t in terms)


def tsquery(terms: list[str]) -> str:
    """A ``to_tsquery`` expression: every term as a prefix, all required."""
    # Quoting each lexeme makes to_tsquery read it literally whatever it contains.
    return " & ".join("'" + t.replace("'", "''") + "':*" for t in terms)


def trigrams(text: str) -> set[str]:
    """The trigrams pg_trgm extracts from ``text``: per word (letters and digits, lower-cased),
    padded with two spaces before and one after."""
    out: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        out.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


def similarity(a: str, b: str) -> float:
    """pg_trgm's ``similarity(a, b)``: shared trigrams over all trigrams (0 to 1).

    Computed here for SQLite, which has no pg_trgm, so that a typo finds the same models on
    both databases.
    """
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)

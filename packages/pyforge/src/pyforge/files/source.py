"""Syntax highlighting by line, with Pygments' lexers (regular expressions: the code is
tokenised, never run).

Pygments' HTML formatter wraps the whole file, and a token such as a triple-quoted string
spans lines; the file view needs one HTML string per line so findings can sit between them, so
each token is split at newlines here and every piece escaped.
"""

from __future__ import annotations

from html import escape

from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer, get_lexer_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound


def _lexer(path: str) -> Lexer:
    # stripnl=False: the default drops leading blank lines, which would shift every line number.
    lexer: Lexer
    if path.endswith((".py", ".pyi")):
        lexer = PythonLexer(stripnl=False)
        return lexer
    try:
        lexer = get_lexer_for_filename(path, stripnl=False)
    except ClassNotFound:
        lexer = TextLexer(stripnl=False)
    return lexer


def _css_class(ttype: _TokenType) -> str:
    # The most specific standard class (``kn`` for Keyword.Namespace, else ``k``...).
    current: _TokenType | None = ttype
    while current is not None and current not in STANDARD_TYPES:
        current = current.parent
    return "" if current is None else str(STANDARD_TYPES[current])


def highlight(path: str, text: str) -> tuple[str, list[str]]:
    """``(language, lines)``: each line of ``text`` as escaped HTML with token spans."""
    lexer = _lexer(path)
    lines: list[str] = []
    current: list[str] = []
    for ttype, value in lexer.get_tokens(text):
        css = _css_class(ttype)
        pieces = value.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                lines.append("".join(current))
                current = []
            if piece:
                current.append(f'<span class="tok-{css}">{escape(piece)}</span>' if css
                               else escape(piece))  # fmt: skip
    if current:
        lines.append("".join(current))
    # get_tokens ends the text with a newline; a file that ends with one has no extra line.
    count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return lexer.name, lines[:count]

"""Function units: one function's source, its tokens and the place it came from.

A unit is the text of one outermost function (from its ``def`` line to its last line, no
decorators). A method is indented, so its text alone does not parse; it is parsed behind an
``if 1:`` line, which keeps every column as in the file (no dedent, so the columns we report
are the file's). Functions are parsed, never executed.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field

WRAPPER = "if 1:\n"
# Tokens the model never sees: comments and blank-line breaks carry no data-flow.
_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}


@dataclass(frozen=True, slots=True)
class Token:
    """One source token of a unit; ``start``/``end`` are (line, column) in the unit's text."""

    type: int
    string: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass(slots=True)
class Unit:
    """One function: its text, tokens and AST, and where it lies in its file."""

    name: str
    text: str
    first_line: int  # the file's line number of the unit's first line
    wrapped: bool
    tokens: list[Token] = field(default_factory=list)
    func: ast.FunctionDef | ast.AsyncFunctionDef | None = None

    def file_position(self, pos: tuple[int, int]) -> tuple[int, int]:
        """A unit (line, column) as the file's 1-based (line, column)."""
        line = pos[0] - (1 if self.wrapped else 0)
        return self.first_line + line - 1, pos[1] + 1


def parse_unit(name: str, text: str, first_line: int) -> Unit | None:
    """Parse and tokenize one function's text; ``None`` when it does not parse."""
    wrapped = text[:1] in (" ", "\t")
    source = WRAPPER + text if wrapped else text
    try:
        tree = ast.parse(source)
        tokens = [
            Token(tok.type, tok.string, tok.start, tok.end)
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type not in _SKIPPED
        ]
    except (SyntaxError, tokenize.TokenError, ValueError, IndentationError):
        return None
    body = tree.body[0]
    if wrapped:
        assert isinstance(body, ast.If)
        body = body.body[0]
        tokens = tokens[5:]  # drop "if 1 : NEWLINE INDENT" of the wrapper
    if not isinstance(body, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    unit = Unit(name, source, first_line, wrapped, tokens, body)
    return unit


def unit_source(unit: Unit) -> str:
    """The unit's text as it would appear in the file (without the parsing wrapper)."""
    return unit.text[len(WRAPPER) :] if unit.wrapped else unit.text


def iter_functions(source: str) -> Iterator[Unit]:
    """Every outermost function and method of a module's source, in file order.

    Raises ``SyntaxError`` when the module does not parse (the caller reports it).
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    yield from _walk(tree, lines, "")


def _walk(node: ast.AST, lines: list[str], prefix: str) -> Iterator[Unit]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            end = child.end_lineno or child.lineno
            text = "".join(lines[child.lineno - 1 : end])
            if not text.endswith("\n"):
                text += "\n"
            unit = parse_unit(prefix + child.name, text, child.lineno)
            if unit is not None:
                yield unit
        elif isinstance(child, ast.ClassDef):
            yield from _walk(child, lines, prefix + child.name + ".")
        elif not isinstance(child, ast.Lambda | ast.expr):
            # Functions under if/try/with at module or class level are still outermost.
            yield from _walk(child, lines, prefix)

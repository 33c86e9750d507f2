"""Suggestions without an automatic fix: extract-method candidates, and the analysis
engine's performance hints (run through the engine itself, not re-implemented)."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pyforge.refactor.model import Suggestion, rule_info

#: A function is "long" from this many lines; a block worth extracting spans this many.
LONG_FUNCTION_LINES = 30
MIN_BLOCK_LINES = 6
MIN_BLOCK_STATEMENTS = 3
MAX_INPUTS, MAX_OUTPUTS = 3, 1
MAX_PER_FUNCTION = 2
_EXITS = (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)


@dataclass(frozen=True)
class _Uses:
    reads: frozenset[str]
    writes: frozenset[str]
    exits: bool


def _uses(stmt: ast.stmt) -> _Uses:
    reads: set[str] = set()
    writes: set[str] = set()
    exits = False
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            writes.add(node.name)
        elif isinstance(node, ast.alias):
            writes.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, _EXITS) or _loop_exit(stmt, node):
            exits = True
    return _Uses(frozenset(reads), frozenset(writes), exits)


def _loop_exit(stmt: ast.stmt, node: ast.AST) -> bool:
    # A break/continue is fine inside a loop of the block; at its top level it would leave
    # a loop outside the extracted function.
    return isinstance(node, ast.Break | ast.Continue) and node in getattr(stmt, "body", ())


@dataclass(frozen=True)
class _Block:
    start: int  # statement indexes, end exclusive
    end: int
    lines: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def _candidates(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[_Block]:
    uses = [_uses(s) for s in fn.body]
    args = fn.args
    defined = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    defined |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for start, use in enumerate(uses):
        yield from _blocks_from(fn.body, uses, start, frozenset(defined))
        defined |= use.writes


def _blocks_from(
    body: Sequence[ast.stmt], uses: Sequence[_Uses], start: int, before: frozenset[str]
) -> Iterator[_Block]:
    """The extractable blocks that begin at statement ``start``."""
    reads: set[str] = set()
    writes: set[str] = set()
    for end in range(start + 1, len(body) + 1):
        use = uses[end - 1]
        if use.exits:
            return
        reads |= use.reads
        writes |= use.writes
        lines = (body[end - 1].end_lineno or body[end - 1].lineno) - body[start].lineno + 1
        if end - start < MIN_BLOCK_STATEMENTS or lines < MIN_BLOCK_LINES:
            continue
        if end - start >= len(body) - 1:
            return  # (nearly) the whole function: nothing to extract from
        after = frozenset().union(*(u.reads for u in uses[end:]))
        inputs, outputs = reads & before, writes & after
        if len(inputs) <= MAX_INPUTS and len(outputs) <= MAX_OUTPUTS:
            yield _Block(start, end, lines, tuple(sorted(inputs)), tuple(sorted(outputs)))


def _best_blocks(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[_Block]:
    chosen: list[_Block] = []
    for block in sorted(_candidates(fn), key=lambda b: (-b.lines, b.start)):
        if all(block.end <= c.start or block.start >= c.end for c in chosen):
            chosen.append(block)
        if len(chosen) == MAX_PER_FUNCTION:
            break
    return sorted(chosen, key=lambda b: b.start)


def extract_method(tree: ast.Module, lines: Sequence[str], path: str) -> list[Suggestion]:
    """REF101: cohesive blocks of long functions (few inputs, at most one output)."""
    out: list[Suggestion] = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if (fn.end_lineno or fn.lineno) - fn.lineno + 1 < LONG_FUNCTION_LINES:
            continue
        for block in _best_blocks(fn):
            out.append(_extract_suggestion(fn, block, lines, path))
    return out


def _extract_suggestion(
    fn: ast.FunctionDef | ast.AsyncFunctionDef, block: _Block, lines: Sequence[str], path: str
) -> Suggestion:
    first, last = fn.body[block.start], fn.body[block.end - 1]
    end_line = last.end_lineno or last.lineno
    text = _dedent(lines[first.lineno - 1 : end_line])
    name = f"_{fn.name.strip('_')}_part"
    args = ", ".join(block.inputs)
    call = f"{name}({args})"
    body = "\n".join("    " + line if line else line for line in text.splitlines())
    after = f"def {name}({args}):\n{body}\n"
    if block.outputs:
        after += f"    return {block.outputs[0]}\n\n{block.outputs[0]} = {call}"
    else:
        after += f"\n{call}"
    inputs = ", ".join(block.inputs) or "nothing"
    outputs = ", ".join(block.outputs) or "nothing"
    message = (
        f"Lines {first.lineno}-{end_line} of '{fn.name}' ({block.lines} lines) read {inputs} "
        f"from before and hand {outputs} to the rest: extract them into a function."
    )
    return Suggestion(
        "REF101", rule_info("REF101").title, message, path, first.lineno,
        first.col_offset + 1, end_line, (last.end_col_offset or 0) + 1, text, after,
        safe=False, fix=False,
    )  # fmt: skip


def _dedent(lines: Sequence[str]) -> str:
    import textwrap

    return textwrap.dedent("\n".join(lines)).rstrip("\n")


#: The engine's rule -> the id it is reported under here (PRF102 is the set-membership
#: suggestion; PRF105 is reported, with a fix where safe, as REF104 by the codemods).
_ENGINE_RULES = {"PRF101": "PRF101", "PRF102": "REF108", "PRF103": "PRF103", "PRF104": "PRF104"}
_SKETCHES = {
    "PRF101": "parts = []\n... parts.append(piece) ...\ntext = ''.join(parts)",
    "PRF103": "lookup = a.b.c  # bound once, before the loop",
}


def performance_hints(source: str, path: str, lines: Sequence[str]) -> list[Suggestion]:
    """The engine's performance analyzer, every rule on, as suggestions."""
    from pyforge.analysis.analyzers.performance import ANALYZER
    from pyforge.analysis.config import RuleSettings
    from pyforge.analysis.engine import analyze_text, build_plan

    settings = RuleSettings(select=tuple(r.id for r in ANALYZER.known_rules()))
    report = analyze_text(source, path, settings, build_plan([ANALYZER], settings))
    out = []
    for f in report.findings:
        rule = _ENGINE_RULES.get(f.rule)
        if rule is None:
            continue
        end_line = f.end_line or f.line
        before = _segment(lines, f.line, f.column, end_line, f.end_column)
        out.append(Suggestion(
            rule, rule_info(rule).title, f.message, path, f.line, f.column, end_line,
            f.end_column, before, f.fix if f.fix is not None else _SKETCHES.get(f.rule, ""),
            safe=False, fix=False,
        ))  # fmt: skip
    return out


def _segment(lines: Sequence[str], line: int, column: int, end_line: int, end_column: int) -> str:
    """The source text of a 1-based, end-exclusive range (whole lines when it is open)."""
    chunk = list(lines[line - 1 : end_line])
    if not chunk:
        return ""
    if end_column > 0 and end_line == line:
        return chunk[0][column - 1 : end_column - 1]
    if end_column > 0:
        chunk[-1] = chunk[-1][: end_column - 1]
    chunk[0] = chunk[0][column - 1 :]
    return "\n".join(chunk)

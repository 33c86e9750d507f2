"""Security: ruff's ``S`` rules (the flake8-bandit port), run once over all files.

Severities follow the kind of weakness: code and command injection, disabled TLS checks and
unsafe deserialisation are critical; hard-coded secrets, weak cryptography and other suspicious
calls are major; ``assert`` and pseudo-random generators are minor or informational.
"""

from __future__ import annotations

from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.registry import Analyzer

_CRITICAL = ("S102", "S307", "S301", "S302", "S501", "S506", "S602", "S604", "S605", "S608",
             "S610", "S611", "S701", "S702")  # fmt: skip
_MINOR = ("S110", "S112", "S311", "S4")
_INFO = ("S101",)


def _classify(code: str) -> tuple[Category, Severity]:
    if code.startswith(_CRITICAL):
        return Category.SECURITY, Severity.CRITICAL
    if code.startswith(_INFO):
        return Category.SECURITY, Severity.INFO
    if code.startswith(_MINOR):
        return Category.SECURITY, Severity.MINOR
    return Category.SECURITY, Severity.MAJOR


ANALYZER = Analyzer(
    id="security",
    version="1",
    description="Security weaknesses: ruff's flake8-bandit (S) rules.",
    ruff_select=("S",),
    ruff_classify=_classify,
)

"""Code metrics: raw line counts, Halstead, cyclomatic and cognitive complexity, MI, typing.

The numbers follow radon's definitions (cyclomatic complexity, Halstead, raw counts and the
maintainability index) so that they can be checked against radon, and SonarSource's definition
for cognitive complexity.
"""

from pyforge.analysis.metrics.halstead import HalsteadCounter, HalsteadMetrics
from pyforge.analysis.metrics.mi import cc_rank, maintainability_index, mi_rank
from pyforge.analysis.metrics.model import ClassMetrics, FileMetrics, FunctionMetrics
from pyforge.analysis.metrics.raw import RawMetrics, TokenScan, scan_tokens

__all__ = [
    "ClassMetrics",
    "FileMetrics",
    "FunctionMetrics",
    "HalsteadCounter",
    "HalsteadMetrics",
    "RawMetrics",
    "TokenScan",
    "cc_rank",
    "maintainability_index",
    "mi_rank",
    "scan_tokens",
]

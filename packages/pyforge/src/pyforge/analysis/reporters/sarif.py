"""SARIF 2.1.0 output, in the shape GitHub code scanning accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from pyforge import __version__
from pyforge.analysis.engine import ENGINE_RULES
from pyforge.analysis.findings import Category, Severity
from pyforge.analysis.registry import Rule, get_registry
from pyforge.analysis.report import AnalysisReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {
    Severity.BLOCKER: "error",
    Severity.CRITICAL: "error",
    Severity.MAJOR: "warning",
    Severity.MINOR: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by this CVSS-like score.
_SECURITY_SEVERITY = {
    Severity.BLOCKER: "9.5",
    Severity.CRITICAL: "9.0",
    Severity.MAJOR: "7.0",
    Severity.MINOR: "4.0",
    Severity.INFO: "2.0",
}


def _rule_descriptor(rule_id: str, rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"id": rule_id, "shortDescription": {"text": rule_id}}
    props: dict[str, Any] = {"tags": [rule.category.value], "precision": {
        "high": "high", "medium": "medium", "low": "low"}[rule.confidence.value]}  # fmt: skip
    if rule.category is Category.SECURITY:
        props["tags"].append("security")
        props["security-severity"] = _SECURITY_SEVERITY[rule.severity]
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.description or rule.name},
        "fullDescription": {"text": rule.description or rule.name},
        "help": {"text": rule.help or rule.description, "markdown": rule.help or rule.description},
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": props,
    }
    if rule.url:
        descriptor["helpUri"] = rule.url
    return descriptor


def to_sarif(report: AnalysisReport) -> dict[str, Any]:
    """The SARIF log as a dict."""
    registry = get_registry()
    engine_rules = {r.id: r for r in ENGINE_RULES}
    rule_ids = sorted({f.rule for f in report.findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    rules = [_rule_descriptor(rid, engine_rules.get(rid) or registry.rule(rid)) for rid in rule_ids]
    results = []
    for f in report.findings:
        region: dict[str, Any] = {"startLine": f.line, "startColumn": max(1, f.column)}
        if f.end_line and f.end_line >= f.line:
            region["endLine"] = f.end_line
            if f.end_column and (f.end_line > f.line or f.end_column > f.column):
                region["endColumn"] = f.end_column
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {"pyforgeFingerprint/v1": f.fingerprint},
            "properties": {"category": f.category.value, "severity": f.severity.value},
        }
        if f.scope:
            result["locations"][0]["logicalLocations"] = [{"fullyQualifiedName": f.scope}]
        results.append(result)
    root_uri = Path(report.root).resolve().as_uri() + "/"
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "PyForge",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": "https://github.com/pyforge/pyforge",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render_sarif(report: AnalysisReport, out: TextIO) -> None:
    """Write the report as SARIF 2.1.0."""
    out.write(json.dumps(to_sarif(report), ensure_ascii=False))
    out.write("\n")

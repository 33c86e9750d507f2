"""Renderings of ``ml detect`` results: a table, JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
from typing import Any

from pyforge.ml.detector import Detection
from pyforge.ml.modelinfo import ModelInfo
from pyforge.ml.rewrites import KINDS

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def as_json(info: ModelInfo, detections: list[Detection]) -> dict[str, Any]:
    """``{"model": {"name", "version"}, "detections": [...]}``."""
    return {
        "model": {"name": info.name, "version": info.version},
        "detections": [d.as_dict() for d in detections],
    }


def as_sarif(info: ModelInfo, detections: list[Detection]) -> dict[str, Any]:
    """One SARIF run; each bug kind is a rule, the probability a result property."""
    rules = [{"id": kind, "name": kind, "shortDescription": {"text": f"Likely {kind} bug"}}
             for kind in KINDS]  # fmt: skip
    results = [
        {
            "ruleId": d.kind,
            "level": "warning",
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": d.path},
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": d.end_line,
                            "endColumn": d.end_column,
                        },
                    }
                }
            ],
            "properties": {
                "probability": d.probability,
                "repair": d.repair,
                "function": d.function,
            },
        }
        for d in detections
    ]
    driver = {"name": "pyforge-ml", "version": info.version,
              "informationUri": "https://pyforge.dev", "rules": rules}  # fmt: skip
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": driver}, "results": results}]}  # fmt: skip


def as_table(info: ModelInfo, detections: list[Detection]) -> str:
    """Plain text, one detection a line, most probable first."""
    lines = [f"{info.name} {info.version}: {len(detections)} detection(s)"]
    for d in detections:
        lines.append(f"{d.path}:{d.line}:{d.column}  {d.probability:.2f}  {d.kind:<22} "
                     f"{d.function}: {d.repair}")  # fmt: skip
    return "\n".join(lines) + "\n"


def render(fmt: str, info: ModelInfo, detections: list[Detection]) -> str:
    """The detections in ``fmt`` (table, json or sarif)."""
    if fmt == "json":
        return json.dumps(as_json(info, detections), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(as_sarif(info, detections), indent=2) + "\n"
    return as_table(info, detections)

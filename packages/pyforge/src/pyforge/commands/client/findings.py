"""``pyforge findings``, and the tables and summaries the client commands print."""

from __future__ import annotations

from typing import Any

import typer

from pyforge.commands.client.api import (
    _SEVERITY_STYLE,
    SEVERITIES,
    _client,
    _handle_errors,
    _parse_uuid,
    _print_json,
    _stdout,
)


def _render_summary(analysis: dict[str, Any], findings: list[dict[str, Any]]) -> None:
    """Gate verdict, finding counts by severity and the most severe findings, on stdout."""
    console = _stdout()
    summary = analysis.get("summary") or {}
    duration = analysis.get("duration_s")
    took = f" in {duration:.1f} s" if isinstance(duration, int | float) else ""
    console.print(f"analysis {analysis.get('id')} {analysis.get('status')}{took}")
    gate = analysis.get("quality_gate") or {}
    gate_status = str(gate.get("status", "unknown"))
    style = "bold green" if gate_status == "passed" else "bold red"
    console.print(f"quality gate: [{style}]{gate_status.upper()}[/{style}]")
    for condition in gate.get("conditions") or []:
        if isinstance(condition, dict):
            ok = condition.get("passed", condition.get("status") == "passed")
            name = condition.get("name") or condition.get("condition") or condition
            detail = condition.get("detail")
            if detail is None and "actual" in condition:
                # The service reports the measured value and the limit rather than prose.
                detail = f"{condition['actual']} found, limit {condition.get('threshold', '?')}"
            mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
            console.print(f"  {mark} {name}" + (f" ({detail})" if detail else ""))
        else:
            console.print(f"  - {condition}")
    by_severity = summary.get("findings_by_severity")
    if isinstance(by_severity, dict):
        parts = [
            f"[{_SEVERITY_STYLE[s]}]{s}[/{_SEVERITY_STYLE[s]}] {by_severity.get(s, 0)}"
            for s in SEVERITIES
        ]
        total = summary.get("findings", sum(int(v) for v in by_severity.values()))
        console.print(f"findings: {total}  (" + ", ".join(parts) + ")")
    if findings:
        console.print(_findings_table(findings, title="Top findings"))


def _severity_rank(finding: dict[str, Any]) -> int:
    severity = finding.get("severity")
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _findings_table(findings: list[dict[str, Any]], *, title: str) -> Any:
    from rich.table import Table

    table = Table("Severity", "Rule", "Location", "Message", "Status", title=title)
    for f in findings:
        severity = str(f.get("severity", ""))
        style = _SEVERITY_STYLE.get(severity, "")
        location = f"{f.get('path', '')}:{f.get('line')}" if f.get("line") else str(f.get("path"))
        table.add_row(
            f"[{style}]{severity}[/{style}]" if style else severity,
            str(f.get("rule", "")),
            location,
            str(f.get("message", "")),
            str(f.get("status", "")),
        )
    return table


@_handle_errors
def findings(
    analysis_id: str = typer.Argument(..., metavar="ANALYSIS_ID"),
    severity: str | None = typer.Option(None, "--severity", "-s", help="e.g. critical"),
    status: str | None = typer.Option(None, "--status", help="e.g. open"),
    new_code: str | None = typer.Option(
        None, "--new-code", help="new, inherited or fixed (a branch: against its target)."
    ),
    limit: int = typer.Option(50, min=1, max=500, help="Findings per page."),
    offset: int = typer.Option(0, min=0, help="Findings to skip."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List an analysis's findings."""
    aid = _parse_uuid(analysis_id, "analysis id")
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if severity:
        params["severity"] = severity
    if status:
        params["status"] = status
    if new_code:
        params["new_code"] = new_code
    with _client() as api:
        page = api.json("GET", f"/api/v1/analyses/{aid}/findings", params=params)
    if as_json:
        _print_json(page)
        return
    items = page.get("items", [])
    console = _stdout()
    console.print(_findings_table(items, title=f"Findings of {aid}"))
    total = page.get("total", len(items))
    console.print(f"{len(items)} of {total} finding(s) (offset {offset})")

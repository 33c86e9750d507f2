"""What a notification says: email view models and Slack Block Kit payloads.

Payloads come from other services, so every value is normalised here (numbers coerced,
strings bounded, lists capped) before a template sees it: a template never fails on a
missing field, and a huge finding message cannot produce a huge email.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from forgekit.events import Event
from forgekit.mail import MailTemplates, RenderedMail
from pyforge.notify import events as ev

SEVERITIES = ("blocker", "critical", "major", "minor", "info")
_MAX_FINDINGS = 10
_MAX_TEXT = 300

_templates = MailTemplates("pyforge.notify")


@dataclass(frozen=True)
class ProjectRef:
    """The project an event is about, as notifications name it."""

    id: uuid.UUID
    name: str


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _findings(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        return []
    out = []
    for item in items[:_MAX_FINDINGS]:
        if isinstance(item, dict):
            out.append({
                "rule": _text(item.get("rule"), 64),
                "severity": _text(item.get("severity"), 16),
                "message": _text(item.get("message")),
                "path": _text(item.get("path"), 200),
                "line": _int(item.get("line")),
            })
    return out


def links(base_url: str, project_id: uuid.UUID, analysis_id: str | None) -> dict[str, str]:
    """The project page and (when the event has one) the analysis page."""
    base = base_url.rstrip("/")
    project = f"{base}/projects/{project_id}"
    return {"project": project, "analysis": f"{project}/analyses/{analysis_id}"
            if analysis_id else project}


def view(event: Event, project: ProjectRef, base_url: str) -> dict[str, Any]:
    """Template context for ``event``: normalised payload, project and links."""
    p = event.payload
    analysis_id = _text(p.get("analysis_id"), 64) or None
    summary = _dict(p.get("summary"))
    counts = _dict(summary.get("findings"))
    gate = _dict(p.get("quality_gate"))
    conditions = [
        {
            "name": _text(c.get("name"), 80),
            "status": _text(c.get("status"), 16),
            "actual": _text(c.get("actual"), 32),
            "threshold": _text(c.get("threshold"), 32),
        }
        for c in (gate.get("conditions") or [])[:_MAX_FINDINGS]
        if isinstance(c, dict)
    ]
    duration = p.get("duration_s")
    return {
        "app_name": "PyForge",
        "event_type": event.type,
        "project": {"id": str(project.id), "name": _text(project.name, 120)},
        "analysis_id": analysis_id,
        "link": links(base_url, project.id, analysis_id)[
            "analysis" if analysis_id else "project"
        ],
        "duration_s": round(float(duration), 1) if isinstance(duration, int | float) else None,
        "files": _int(summary.get("files")),
        "functions": _int(summary.get("functions")),
        "counts": {s: _int(counts.get(s)) for s in SEVERITIES},
        "gate_status": _text(gate.get("status") or "unknown", 16),
        "conditions": conditions,
        "top_findings": _findings(p.get("top_findings")),
        "new_findings": _int(p.get("new_findings")),
        "fixed_findings": _int(p.get("fixed_findings")),
        "reason": _text(p.get("reason"), 1000),
        "previous": _text(p.get("previous") or "none", 16),
        "current": _text(p.get("current") or "unknown", 16),
        "critical_findings": _findings(p.get("findings")),
    }


def render_email(event: Event, project: ProjectRef, base_url: str, username: str) -> RenderedMail:
    """The email for ``event`` (subject, text and HTML parts)."""
    context = view(event, project, base_url)
    return _templates.render(event.type.replace(".", "_"), username=username, **context)


def _slack_escape(text: str) -> str:
    # Slack mrkdwn treats &, < and > as control characters (links, mentions).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_TITLES = {
    ev.ANALYSIS_COMPLETED: "Analysis completed",
    ev.ANALYSIS_FAILED: "Analysis failed",
    ev.QUALITY_GATE_CHANGED: "Quality gate changed",
    ev.FINDING_NEW_CRITICAL: "New critical findings",
    ev.PROJECT_CREATED: "Project created",
}


def slack_payload(event: Event, project: ProjectRef, base_url: str) -> dict[str, Any]:
    """An incoming-webhook payload: header, gate status, top findings and a link."""
    ctx = view(event, project, base_url)
    title = f"{_TITLES.get(event.type, event.type)}: {ctx['project']['name']}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}
    ]
    lines: list[str] = []
    if event.type == ev.ANALYSIS_COMPLETED:
        icon = ":white_check_mark:" if ctx["gate_status"] == "passed" else ":x:"
        lines.append(f"{icon} Quality gate *{_slack_escape(ctx['gate_status'])}*")
        failed = [c for c in ctx["conditions"] if c["status"] != "passed"]
        lines += [
            f"• {_slack_escape(c['name'])}: {_slack_escape(c['actual'])} "
            f"(threshold {_slack_escape(c['threshold'])})"
            for c in failed
        ]
        counts = ctx["counts"]
        lines.append(
            f"{ctx['files']} files · {counts['blocker']} blocker · {counts['critical']} critical"
            f" · {counts['major']} major · {ctx['new_findings']} new · "
            f"{ctx['fixed_findings']} fixed"
        )
    elif event.type == ev.QUALITY_GATE_CHANGED:
        icon = ":white_check_mark:" if ctx["current"] == "passed" else ":x:"
        lines.append(
            f"{icon} Quality gate {_slack_escape(ctx['previous'])} → "
            f"*{_slack_escape(ctx['current'])}*"
        )
    elif event.type == ev.ANALYSIS_FAILED:
        lines.append(f":warning: {_slack_escape(ctx['reason'] or 'The analysis failed.')}")
    if lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}})
    findings = ctx["top_findings"] or ctx["critical_findings"]
    if findings:
        items = "\n".join(
            f"• *{_slack_escape(f['severity'])}* `{_slack_escape(f['rule'])}` "
            f"{_slack_escape(f['message'])} — {_slack_escape(f['path'])}:{f['line']}"
            for f in findings[:5]
        )
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Top findings*\n{items}"[:3000]},
        })
    blocks.append({
        "type": "actions",
        "elements": [{
            "type": "button",
            "text": {"type": "plain_text", "text": "Open in PyForge"},
            "url": ctx["link"],
        }],
    })
    return {"text": title, "blocks": blocks}

"""Notification messages without servers: email and Slack payloads. (Signatures, the SSRF
address policy, backoff and secret encryption are the kit's: forgekit/tests/test_webhooks_units.py.)"""

from __future__ import annotations

import uuid

from forgekit.events import Event
from pyforge.notify.messages import ProjectRef, render_email, slack_payload


def _completed() -> Event:
    return Event(type="analysis.completed", payload={
        "project_id": str(uuid.uuid4()), "analysis_id": "a1", "status": "succeeded",
        "duration_s": 3.21,
        "summary": {"files": 12, "functions": 40,
                    "findings": {"blocker": 1, "critical": 2, "major": 3, "minor": 0, "info": 5}},
        "quality_gate": {"status": "failed", "conditions": [
            {"name": "new_critical", "status": "failed", "actual": 2, "threshold": 0}]},
        "top_findings": [{"rule": "S101", "severity": "critical", "message": "<script>x</script>",
                          "path": "app/main.py", "line": 7}],
        "new_findings": 4, "fixed_findings": 1,
    })


def test_email_has_text_and_escaped_html_with_the_analysis_link() -> None:
    event = _completed()
    project = ProjectRef(uuid.UUID(event.payload["project_id"]), "Shop <API>")
    mail = render_email(event, project, "https://forge.example.com/", "ada")
    link = f"https://forge.example.com/projects/{project.id}/analyses/a1"
    assert "quality gate failed" in mail.subject and "\n" not in mail.subject
    assert link in mail.text and "S101" in mail.text
    assert mail.html is not None and link in mail.html
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "Shop &lt;API&gt;" in mail.html


def test_email_tolerates_a_sparse_payload() -> None:
    for event_type in ("analysis.completed", "analysis.failed", "quality_gate.changed",
                       "finding.new_critical", "project.created"):
        event = Event(type=event_type, payload={"project_id": str(uuid.uuid4()), "summary": None})
        mail = render_email(event, ProjectRef(uuid.uuid4(), "p"), "http://x", "u")
        assert mail.subject and mail.text and mail.html


def test_slack_payload_has_header_gate_and_top_findings() -> None:
    event = _completed()
    payload = slack_payload(event, ProjectRef(uuid.uuid4(), "shop"), "http://x")
    types = [b["type"] for b in payload["blocks"]]
    assert types[0] == "header" and "actions" in types
    text = "\n".join(b["text"]["text"] for b in payload["blocks"] if b["type"] == "section")
    assert ":x: Quality gate *failed*" in text
    assert "S101" in text and "&lt;script&gt;" in text
    assert payload["text"].startswith("Analysis completed: shop")

"""Across domains: a real analysis (API → outbox → runner) notifies by e-mail and WebSocket hub.

The notification tests emit contract-shaped events themselves; this one checks that the events
the analyses service really emits reach the owner's inbox with the default preferences.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy import update

from forgekit.identity.models import User
from forgekit.identity.testing import message_text, register_and_login, sink_messages
from forgekit.runtime import Runtime
from pyforge.projects.testing import new_project, zip_bytes

PROJECTS = "/api/v1/projects"
BAD = {"app.py": b"def check(x):\n    return eval(x)\n"}  # a critical finding: the gate fails


async def test_failed_gate_of_a_real_analysis_emails_the_owner(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    # Only verified addresses receive e-mail; verify this one directly.
    async with runtime.db.transaction() as s:
        await s.execute(update(User).where(User.username == owner.username).values(is_verified=True))
    pid = (await new_project(client, owner, name="gated"))["id"]
    resp = await client.post(
        f"{PROJECTS}/{pid}/files", files={"file": ("t.zip", zip_bytes(BAD))},
        data={"replace": "true"}, headers=owner.headers,
    )
    assert resp.status_code == 201, resp.text
    queued = await client.post(f"{PROJECTS}/{pid}/analyses", headers=owner.headers)
    assert queued.status_code == 202, queued.text
    aid = queued.json()["id"]

    mail_dir = Path(runtime.settings.mail_sink_dir)
    deadline = asyncio.get_running_loop().time() + 60
    subjects: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        messages = [m for m in sink_messages(mail_dir) if "gated" in str(m["Subject"])]
        subjects = [str(m["Subject"]) for m in messages]
        # Two events, two deliveries, in no fixed order: wait for both before judging.
        if any("quality gate failed" in s for s in subjects) and any(
            "critical" in s.lower() for s in subjects
        ):
            break
    gate_mails = [m for m in sink_messages(mail_dir) if "quality gate failed" in str(m["Subject"])]
    assert len(gate_mails) == 1, subjects
    assert gate_mails[0]["To"] == f"{owner.username}@example.com"
    assert f"/projects/{pid}/analyses/{aid}" in message_text(gate_mails[0])
    # The critical finding is news of its own (default: e-mail on new critical findings).
    assert any("critical" in s.lower() for s in subjects), subjects

"""Preferences, email and Slack, on both backends: a real SMTP server (aiosmtpd) and a real
HTTP receiver on loopback read what was delivered; the file sink when no SMTP host is set;
a duplicate event sends one email; team members and opt-outs are respected."""

from __future__ import annotations

import asyncio
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from forgekit.identity.models import Team, TeamMember, User
from forgekit.identity.testing import register_and_login, sink_messages
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings
from forgekit.testing.loopback import HttpReceiver, serve_asgi
from forgekit.testing.servers import free_port
from pyforge.app import create_app
from pyforge.notify.models import Delivery
from pyforge.notify.tasks import DISPATCH_CONSUMER
from pyforge.notify.testing import make_project
from pyforge.settings import PyForgeSettings

PUBLIC_URL = "https://forge.example.com"


class Inbox:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def notifications(self) -> list[tuple[list[str], EmailMessage]]:
        return [(to, m) for to, m in self.messages if m["Subject"].startswith("[PyForge]")]

    async def wait(self, count: int, timeout: float = 60.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        while len(self.notifications()) < count:
            assert time.monotonic() < deadline, self.notifications()
            await asyncio.sleep(0.05)
        return self.notifications()


@pytest.fixture
def smtp_inbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def forge_settings(forge_settings: ForgeSettings, request: pytest.FixtureRequest) -> ForgeSettings:
    update_: dict[str, Any] = {"public_url": PUBLIC_URL}
    if "smtp_inbox" in request.fixturenames:
        _, port = request.getfixturevalue("smtp_inbox")
        update_.update(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False)
    return forge_settings.model_copy(update=update_)


@pytest.fixture
def app_factory():
    # A generous HTTP timeout: the Slack receiver shares the test's event loop, and a timeout
    # would make a second (unwanted) delivery attempt.
    notify = PyForgeSettings(_env_file=None, webhooks_allow_private_networks=True,
                             notify_delivery_poll_s=0.05, notify_retry_base_s=0.2,
                             notify_http_timeout_s=30.0)
    return lambda settings: create_app(settings, notify)


async def verified_user(client: httpx.AsyncClient, runtime: Runtime, verified: bool = True):
    user = await register_and_login(client)
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_verified=verified))
    return user


def gate_failed_payload(project_id: uuid.UUID, analysis_id: str) -> dict[str, Any]:
    return {
        "project_id": str(project_id), "analysis_id": analysis_id, "status": "succeeded",
        "duration_s": 4.2,
        "summary": {"files": 10, "functions": 31,
                    "findings": {"blocker": 1, "critical": 2, "major": 0, "minor": 4, "info": 1}},
        "quality_gate": {"status": "failed", "conditions": [
            {"name": "blocker_findings", "status": "failed", "actual": 1, "threshold": 0}]},
        "top_findings": [
            {"rule": "PF-S101", "severity": "blocker", "message": "eval() on request data",
             "path": "app/views.py", "line": 42},
            {"rule": "PF-B002", "severity": "critical", "message": "mutable default",
             "path": "app/util.py", "line": 7},
        ],
        "new_findings": 3, "fixed_findings": 1,
    }


async def test_preferences_api(client: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await register_and_login(client)
    base = "/api/v1/notifications/preferences"
    assert (await client.get(base)).status_code == 401
    resp = await client.get(base, headers=user.headers)
    assert resp.status_code == 200, resp.text
    defaults = resp.json()
    assert defaults["inherited"] is True and defaults["project_id"] is None
    assert defaults["events"]["quality_gate.changed"] == ["email"]
    assert defaults["events"]["analysis.failed"] == ["email"]
    assert defaults["events"]["analysis.completed"] == []
    assert defaults["slack_webhook_configured"] is False

    resp = await client.put(base, json={"events": {"analysis.completed": ["email", "slack"]}},
                            headers=user.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["inherited"] is False
    assert body["events"]["analysis.completed"] == ["email", "slack"]
    assert body["events"]["analysis.failed"] == ["email"]  # left out: default kept

    async with runtime.db.session() as session:
        project = await make_project(session, user.id)
    scoped = f"{base}?project_id={project.id}"
    inherited = (await client.get(scoped, headers=user.headers)).json()
    assert inherited["inherited"] is True
    assert inherited["events"]["analysis.completed"] == ["email", "slack"]
    slack_url = "https://hooks.slack.example.com/services/T000/B000/XXXX"
    resp = await client.put(scoped, json={"events": {"analysis.failed": []},
                                          "slack_webhook_url": slack_url}, headers=user.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["events"]["analysis.failed"] == [] and body["slack_webhook_configured"] is True
    assert body["events"]["analysis.completed"] == ["email", "slack"]
    assert slack_url not in resp.text
    assert (await client.get(base, headers=user.headers)).json()["slack_webhook_configured"] is False

    for bad in ({"events": {"analysis.exploded": ["email"]}},
                {"events": {"analysis.failed": ["pager"]}},
                {"events": {}, "slack_webhook_url": "ftp://x"},
                {"events": {}, "surprise": 1}):
        resp = await client.put(base, json=bad, headers=user.headers)
        assert resp.status_code == 422, (bad, resp.text)

    stranger = await register_and_login(client)
    assert (await client.get(scoped, headers=stranger.headers)).status_code == 404
    assert (await client.put(scoped, json={"events": {}}, headers=stranger.headers)).status_code == 404

    assert (await client.delete(scoped, headers=user.headers)).status_code == 204
    assert (await client.get(scoped, headers=user.headers)).json()["inherited"] is True


async def test_email_over_smtp_with_text_html_and_link_once_per_event(
    client: httpx.AsyncClient, runtime: Runtime, smtp_inbox
) -> None:
    inbox, _ = smtp_inbox
    owner = await verified_user(client, runtime)
    member = await verified_user(client, runtime)
    unverified = await verified_user(client, runtime, verified=False)
    opted_out = await verified_user(client, runtime)
    async with runtime.db.transaction() as session:
        team = Team(id=uuid.uuid4(), name="core")
        session.add(team)
        await session.flush()
        for u in (member, unverified, opted_out):
            session.add(TeamMember(team_id=team.id, user_id=u.id, role="developer"))
    async with runtime.db.session() as session:
        project = await make_project(session, owner.id, name="Shop API", team_id=team.id)
    resp = await client.put(
        f"/api/v1/notifications/preferences?project_id={project.id}",
        json={"events": {"quality_gate.changed": []}}, headers=opted_out.headers,
    )
    assert resp.status_code == 200, resp.text

    analysis_id = str(uuid.uuid4())
    event = await runtime.events.emit(
        "quality_gate.changed",
        {"project_id": str(project.id), "analysis_id": analysis_id,
         "previous": "passed", "current": "failed"},
    )
    messages = await inbox.wait(2)
    await runtime.events.drain()
    # Handled again past the bus's idempotency record: the delivery log still holds one row
    # per (event, channel, recipient), so nobody gets a second email.
    handler = runtime.events.subscriptions[DISPATCH_CONSUMER].handler
    async with runtime.db.transaction() as session:
        await handler(event, session)
    await asyncio.sleep(0.6)  # a second e-mail, if the re-handling sent one, would be here

    messages = inbox.notifications()
    assert sorted(to[0] for to, _ in messages) == sorted([owner.email, member.email])
    _, msg = messages[0]
    assert msg["Subject"] == "[PyForge] Shop API: quality gate failed (was passed)"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    link = f"{PUBLIC_URL}/projects/{project.id}/analyses/{analysis_id}"
    assert link in text and f'href="{link}"' in html
    assert "changed from passed to failed" in text
    # The inbox has the messages before the delivery loop records them as sent: wait for that.
    deadline = time.monotonic() + 60
    while True:
        async with runtime.db.session() as session:
            rows = (
                await session.scalars(select(Delivery).where(Delivery.event_id == event.id))
            ).all()
        if len(rows) == 2 and all(r.status != "pending" for r in rows):
            break
        assert time.monotonic() < deadline, [(r.recipient, r.status) for r in rows]
        await asyncio.sleep(0.05)
    assert len(rows) == 2 and {r.status for r in rows} == {"succeeded"}
    assert {r.channel for r in rows} == {"email"}


async def test_embedded_mail_goes_to_the_file_sink(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings
) -> None:
    owner = await verified_user(client, runtime)
    async with runtime.db.session() as session:
        project = await make_project(session, owner.id, name="sinky")
    await runtime.events.emit("analysis.failed", {
        "project_id": str(project.id), "analysis_id": "a-1", "reason": "parser crashed"})
    deadline = time.monotonic() + 60
    while True:
        mails = [m for m in sink_messages(forge_settings.mail_sink_dir)
                 if m["Subject"].startswith("[PyForge]")]
        if mails:
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    [mail] = mails
    assert mail["To"] == owner.email and mail["Subject"] == "[PyForge] sinky: analysis failed"
    assert "parser crashed" in mail.get_body(preferencelist=("plain",)).get_content()


async def test_slack_blocks_with_gate_status_and_top_findings(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    receiver = HttpReceiver()
    async with serve_asgi(receiver) as url:
        owner = await verified_user(client, runtime)
        mate = await verified_user(client, runtime)
        async with runtime.db.transaction() as session:
            team = Team(id=uuid.uuid4(), name="shop-team")
            session.add(team)
            await session.flush()
            session.add(TeamMember(team_id=team.id, user_id=mate.id, role="developer"))
        async with runtime.db.session() as session:
            project = await make_project(session, owner.id, name="shop", team_id=team.id)
        for user in (owner, mate):  # both point at the same channel: it gets one message
            resp = await client.put(
                "/api/v1/notifications/preferences",
                json={"events": {"analysis.completed": ["slack"]},
                      "slack_webhook_url": f"{url}/services/T1/B2/secret"},
                headers=user.headers,
            )
            assert resp.status_code == 200, resp.text
        analysis_id = str(uuid.uuid4())
        await runtime.events.emit("analysis.completed",
                                  gate_failed_payload(project.id, analysis_id))
        [request] = await receiver.wait_for(1)
        await runtime.events.drain()
        await asyncio.sleep(0.3)
        assert len(receiver.requests) == 1

    assert request.path == "/services/T1/B2/secret"
    payload = request.json()
    blocks = payload["blocks"]
    assert blocks[0] == {"type": "header",
                         "text": {"type": "plain_text", "text": "Analysis completed: shop"}}
    sections = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert ":x: Quality gate *failed*" in sections
    assert "blocker_findings: 1 (threshold 0)" in sections
    assert "*Top findings*" in sections and "`PF-S101`" in sections
    assert "app/views.py:42" in sections
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["elements"][0]["url"].endswith(f"/projects/{project.id}/analyses/{analysis_id}")
    assert payload["text"] == "Analysis completed: shop"


async def test_project_created_through_the_api_notifies_an_opted_in_owner(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings
) -> None:
    owner = await verified_user(client, runtime)
    resp = await client.put("/api/v1/notifications/preferences",
                            json={"events": {"project.created": ["email"]}}, headers=owner.headers)
    assert resp.status_code == 200, resp.text
    resp = await client.post("/api/v1/projects", json={"name": "Billing"}, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    project_id = resp.json()["id"]
    deadline = time.monotonic() + 60
    while not (mails := [m for m in sink_messages(forge_settings.mail_sink_dir)
                         if m["Subject"].startswith("[PyForge]")]):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    [mail] = mails
    assert mail["Subject"] == "[PyForge] Project Billing created"
    assert f"{PUBLIC_URL}/projects/{project_id}" in mail.get_body(
        preferencelist=("plain",)).get_content()

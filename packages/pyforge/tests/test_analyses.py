"""Analyses API: access rules, the runner, the issue lifecycle, metrics, SARIF, badge, failures.

Every test runs on both backends (embedded SQLite/in-process, and PostgreSQL/Redis/RabbitMQ):
the ``client`` fixture's app consumes its own events, so queued analyses run in-process.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from pyforge.analyses import tasks
from pyforge.projects.testing import (
    PROJECTS,
    new_project,
    outbox_payloads,
    outbox_types,
    team_with,
    two_users,
    zip_bytes,
)

V1 = {
    "pkg/app.py": b"def run(cmd, items=[]):\n    items.append(cmd)\n    return items\n\n\n"
    b"def check(x):\n    return eval(x)\n",
    "pkg/util.py": b"def add(a: int, b: int) -> int:\n    return a + b\n",
}
# eval removed (fixed), the mutable default stays (unchanged), a bare except appears (new).
V2 = {
    "pkg/app.py": b"def run(cmd, items=[]):\n    items.append(cmd)\n    return items\n\n\n"
    b"def check(x):\n    try:\n        return int(x)\n    except:\n        return 0\n",
    "pkg/util.py": V1["pkg/util.py"],
}


async def upload(client: httpx.AsyncClient, headers: dict[str, str], pid: str,
                 tree: dict[str, bytes]) -> None:  # fmt: skip
    resp = await client.post(
        f"{PROJECTS}/{pid}/files", files={"file": ("t.zip", zip_bytes(tree))},
        data={"replace": "true"}, headers=headers,
    )  # fmt: skip
    assert resp.status_code == 201, resp.text


async def run_analysis(
    client: httpx.AsyncClient, headers: dict[str, str], pid: str, *, within_s: float = 60
) -> dict[str, Any]:
    resp = await client.post(f"{PROJECTS}/{pid}/analyses", headers=headers)
    assert resp.status_code == 202, resp.text
    assert resp.json()["status"] == "queued"
    return await wait_done(client, headers, resp.json()["id"], within_s=within_s)


async def wait_done(
    client: httpx.AsyncClient, headers: dict[str, str], aid: str, *, within_s: float = 60
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        resp = await client.get(f"/api/v1/analyses/{aid}", headers=headers)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def findings(
    client: httpx.AsyncClient, headers: dict[str, str], aid: str, **params: Any
) -> list[dict[str, Any]]:
    resp = await client.get(f"/api/v1/analyses/{aid}/findings", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def by_rule(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in items}


async def test_access_rules(client: httpx.AsyncClient) -> None:
    owner, stranger = await two_users(client)
    viewer = await register_and_login(client)
    team = await team_with(client, owner, viewer=viewer)
    project = await new_project(client, owner, team_id=team)
    pid = project["id"]
    await upload(client, owner.headers, pid, V1)
    done = await run_analysis(client, owner.headers, pid)
    aid = done["id"]
    fid = (await findings(client, owner.headers, aid))[0]["id"]

    reads = [
        f"{PROJECTS}/{pid}/analyses", f"/api/v1/analyses/{aid}",
        f"/api/v1/analyses/{aid}/findings", f"/api/v1/analyses/{aid}/sarif",
        f"{PROJECTS}/{pid}/metrics", f"{PROJECTS}/{pid}/metrics/history?metric=loc",
        f"/api/v1/analyze/metrics/{pid}",
    ]  # fmt: skip
    for url in reads:
        assert (await client.get(url)).status_code == 401, url
        assert (await client.get(url, headers=stranger.headers)).status_code == 404, url
        assert (await client.get(url, headers=viewer.headers)).status_code == 200, url
    writes = [
        ("POST", f"{PROJECTS}/{pid}/analyses", None),
        ("POST", "/api/v1/analyze/project", {"project_id": pid}),
        ("PATCH", f"/api/v1/findings/{fid}", {"resolution": "accepted", "reason": "ok"}),
        ("POST", f"/api/v1/analyses/{aid}/findings/{fid}/resolution",
         {"resolution": "false_positive"}),
    ]  # fmt: skip
    for method, url, body in writes:
        assert (await client.request(method, url, json=body)).status_code == 401, url
        resp = await client.request(method, url, json=body, headers=stranger.headers)
        assert resp.status_code == 404, (url, resp.text)
        resp = await client.request(method, url, json=body, headers=viewer.headers)
        assert resp.status_code == 403, (url, resp.text)
    resp = await client.post("/api/v1/analyze/project", json={"project_id": pid},
                             headers=owner.headers)  # fmt: skip
    assert resp.status_code == 202 and resp.json()["status"] == "queued"
    await wait_done(client, owner.headers, resp.json()["id"])
    listing = (await client.get(f"{PROJECTS}/{pid}/analyses?limit=1", headers=owner.headers)).json()
    assert listing["total"] == 2 and len(listing["items"]) == 1
    assert listing["items"][0]["id"] == resp.json()["id"]  # newest first
    assert (await client.get(f"/api/v1/analyses/{uuid.uuid4()}", headers=owner.headers)
            ).status_code == 404  # fmt: skip


async def test_lifecycle_metrics_sarif_and_events(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    await upload(client, h, pid, V1)
    first = await run_analysis(client, h, pid)
    assert first["status"] == "succeeded", first
    assert first["progress"]["files_done"] == first["progress"]["files_total"] == 2
    assert first["quality_gate"]["status"] == "failed"  # eval() is critical
    assert first["duration_s"] is not None and first["summary"]["files"] == 2
    one = by_rule(await findings(client, h, first["id"]))
    assert one["BUG101"]["status"] == "new" and "SEC-S307" in one

    await upload(client, h, pid, V2)
    second = await run_analysis(client, h, pid)
    two = await findings(client, h, second["id"])
    rules = {(f["rule"], f["status"]) for f in two}
    assert ("BUG101", "unchanged") in rules and ("BUG103", "new") in rules
    assert ("SEC-S307", "fixed") in rules
    fixed = await findings(client, h, second["id"], status="fixed")
    assert [f["rule"] for f in fixed] == ["SEC-S307"]
    assert second["fixed_findings"] == 1 and second["quality_gate"]["status"] == "passed"
    majors = await findings(client, h, second["id"], severity="major", path="pkg/app.py")
    assert {f["rule"] for f in majors} == {"BUG101", "BUG103"}
    assert await findings(client, h, second["id"], path="other/") == []
    assert len(await findings(client, h, second["id"], rule="BUG103", category="bug-risk")) == 1

    # A developer accepts the mutable default: the decision sticks to the next analysis.
    bug = by_rule(two)["BUG101"]
    resp = await client.patch(
        f"/api/v1/findings/{bug['id']}",
        json={"resolution": "accepted", "reason": "by design"},
        headers=h,
    )
    assert resp.status_code == 200 and resp.json()["resolution"] == "accepted", resp.text
    third = await run_analysis(client, h, pid)
    three = by_rule(await findings(client, h, third["id"]))
    assert three["BUG101"]["status"] == "unchanged"
    assert three["BUG101"]["resolution"] == "accepted"
    assert three["BUG101"]["resolution_reason"] == "by design"
    assert three["BUG103"]["status"] == "unchanged" and "SEC-S307" not in three
    accepted = await findings(client, h, third["id"], status="accepted")
    assert [f["rule"] for f in accepted] == ["BUG101"]
    bad = await client.patch(f"/api/v1/findings/{bug['id']}",
                             json={"resolution": "accepted"}, headers=h)  # fmt: skip
    assert bad.status_code == 422  # accepting needs a reason

    # Metrics: latest, ratings, history over the three analyses.
    metrics = (await client.get(f"{PROJECTS}/{pid}/metrics", headers=h)).json()
    assert metrics["analysis_id"] == third["id"], metrics
    assert metrics["ratings"]["security"] == "A" and metrics["metrics"]["bugs"] == 1
    assert metrics["ratings"]["reliability"] == "C"  # the bare except (major) is open
    resp = await client.get(f"{PROJECTS}/{pid}/metrics/history",
                            params={"metric": "findings_critical"}, headers=h)  # fmt: skip
    assert [p["value"] for p in resp.json()["points"]] == [1.0, 0.0, 0.0]
    resp = await client.get(f"{PROJECTS}/{pid}/metrics/history",
                            params={"metric": "security_rating"}, headers=h)  # fmt: skip
    assert [p["value"] for p in resp.json()["points"]] == [4.0, 1.0, 1.0]  # D, A, A
    resp = await client.get(f"{PROJECTS}/{pid}/metrics/history", params={"metric": "nope"},
                            headers=h)  # fmt: skip
    assert resp.status_code == 422 and "type_coverage" in resp.json()["valid_metrics"]
    seed = await client.get(f"/api/v1/analyze/metrics/{pid}", headers=h)
    assert seed.json()["analysis_id"] == third["id"]

    # SARIF of the first analysis.
    resp = await client.get(f"/api/v1/analyses/{first['id']}/sarif", headers=h)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith(
        "application/sarif+json")  # fmt: skip
    log = resp.json()
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"BUG101", "SEC-S307"}
    rule_ids = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    for r in results:
        assert rule_ids[r["ruleIndex"]] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "pkg/app.py" and loc["region"]["startLine"] >= 1

    # Events: the contract shared with notifications.
    await runtime.events.drain(timeout_s=60)
    types = await outbox_types(runtime)
    for t in ("analysis.requested", "analysis.started", "analysis.completed",
              "quality_gate.changed", "finding.new_critical"):  # fmt: skip
        assert t in types, t
    completed = await outbox_payloads(runtime, "analysis.completed")
    assert len(completed) == 3
    c = completed[0]
    assert c["project_id"] == pid and c["analysis_id"] == first["id"]
    assert c["status"] == "succeeded" and c["summary"]["findings"]["critical"] == 1
    assert set(c["summary"]) == {"files", "functions", "findings"}
    assert c["quality_gate"]["status"] == "failed"
    assert set(c["quality_gate"]["conditions"][0]) == {"name", "status", "actual", "threshold"}
    assert c["top_findings"][0]["rule"] == "SEC-S307" and c["new_findings"] >= 2
    assert completed[1]["fixed_findings"] == 1
    gate = await outbox_payloads(runtime, "quality_gate.changed")
    assert gate == [
        # The first analysis fails its gate: news even without a previous status.
        {"project_id": pid, "analysis_id": first["id"], "previous": None, "current": "failed"},
        {"project_id": pid, "analysis_id": second["id"], "previous": "failed", "current": "passed"},
    ]
    crit = await outbox_payloads(runtime, "finding.new_critical")
    assert crit[0]["analysis_id"] == first["id"] and crit[0]["findings"][0]["rule"] == "SEC-S307"


async def test_badge(client: httpx.AsyncClient) -> None:
    owner = await register_and_login(client)
    public = (await new_project(client, owner, is_public=True))["id"]
    private = (await new_project(client, owner))["id"]
    resp = await client.get(f"{PROJECTS}/{public}/badge.svg")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert "unknown" in resp.text
    await upload(client, owner.headers, public, V2)
    await run_analysis(client, owner.headers, public)
    resp = await client.get(f"{PROJECTS}/{public}/badge.svg")
    assert "passed" in resp.text and resp.text.startswith("<svg")
    assert (await client.get(f"{PROJECTS}/{private}/badge.svg")).status_code == 404
    resp = await client.get(f"{PROJECTS}/{private}/badge.svg", headers=owner.headers)
    assert resp.status_code == 404  # badges are for public projects only
    assert (await client.get(f"{PROJECTS}/{uuid.uuid4()}/badge.svg")).status_code == 404


async def test_analyze_code(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    url = "/api/v1/analyze/code"
    assert (await client.post(url, json={"code": "x = 1\n"})).status_code == 401
    resp = await client.post(url, json={"code": "def f(x=[]):\n    return x\n"},
                             headers=user.headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "BUG101" in {f["rule"] for f in body["findings"]} and body["metrics"] is not None
    again = await client.post(url, json={"code": "def f(x=[]):\n    return x\n"},
                              headers=user.headers)  # fmt: skip
    assert again.json() == body  # served from the cache
    for r in (resp, again):  # both answers carry the rate-limit headers and a correct length
        assert int(r.headers["ratelimit-remaining"]) >= 0
        assert int(r.headers["content-length"]) == len(r.content)
    assert int(again.headers["ratelimit-remaining"]) < int(resp.headers["ratelimit-remaining"])
    resp = await client.post(url, json={"code": "def f(:\n", "filename": "bad.py"},
                             headers=user.headers)  # fmt: skip
    assert resp.status_code == 200
    assert resp.json()["findings"][0]["rule"] == "BUG001"  # the syntax error is a finding
    big = "x = 1\n" * 40_000  # 240 KB
    resp = await client.post(url, json={"code": big}, headers=user.headers)
    assert resp.status_code == 413, resp.text
    resp = await client.post(url, content=b"{not json", headers={**user.headers,
                             "Content-Type": "application/json"})  # fmt: skip
    assert resp.status_code == 400
    resp = await client.post(url, json={"source": "x"}, headers=user.headers)
    assert resp.status_code == 422
    resp = await client.post(url, json={"code": "x", "filename": "../etc/x.py"},
                             headers=user.headers)  # fmt: skip
    assert resp.status_code == 422


async def test_engine_failure_retries_then_fails(
    client: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def explode(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(tasks, "analyze_paths", explode)
    owner = await register_and_login(client)
    pid = (await new_project(client, owner))["id"]
    await upload(client, owner.headers, pid, V1)
    done = await run_analysis(client, owner.headers, pid, within_s=60)
    assert done["status"] == "failed" and "engine exploded" in done["error"], done
    attempts = runtime.settings.consumer_max_retries + 1
    assert done["attempts"] == attempts and len(calls) == attempts
    failed = await outbox_payloads(runtime, "analysis.failed")
    assert failed == [{"project_id": pid, "analysis_id": done["id"], "reason": done["error"]}]
    # A bad configuration is not retried.
    monkeypatch.undo()
    resp = await client.patch(f"{PROJECTS}/{pid}", json={"settings": {"analysis": {}}},
                              headers=owner.headers)  # fmt: skip
    assert resp.status_code == 200, resp.text
    await upload(client, owner.headers, pid, {"pyforge.toml": b"bogus = 1\n", **V1})
    done = await run_analysis(client, owner.headers, pid)
    assert done["status"] == "failed" and done["attempts"] == 1, done
    assert "ConfigError" in done["error"]

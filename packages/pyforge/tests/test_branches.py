"""Branches and pull requests: findings against the target branch, the gate on new code, the
new-code period, the overview, deletion, retention, events and access (both backends)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx

from forgekit.db.base import utcnow
from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from pyforge.analyses.models import Analysis, AnalysisFinding
from pyforge.branches.models import Branch
from pyforge.branches.tasks import BranchRetention
from pyforge.projects.testing import (
    PROJECTS,
    new_project,
    outbox_payloads,
    team_with,
    two_users,
    zip_bytes,
)

APP = (
    b"def run(cmd, items=[]):\n    items.append(cmd)\n    return items\n\n\n"
    b"def check(x):\n    return eval(x)\n"
)
UTIL = b"def add(a: int, b: int) -> int:\n    return a + b\n"
MAIN = {"pkg/app.py": APP, "pkg/util.py": UTIL}
# Each feature branch adds one file with one finding of its own.
BARE_EXCEPT = (
    b"def parse(x: str) -> int:\n    try:\n        return int(x)\n    except:\n        return 0\n"
)
MUTABLE = (
    b"def keep(v: int, seen: dict[int, int] = {}) -> dict[int, int]:\n"
    b"    seen[v] = 1\n    return seen\n"
)
CLEAN = b"def twice(a: int) -> int:\n    return 2 * a\n"


async def upload_main(client: httpx.AsyncClient, h: dict[str, str], pid: str,
                      tree: dict[str, bytes]) -> None:  # fmt: skip
    resp = await client.post(f"{PROJECTS}/{pid}/files", files={"file": ("t.zip", zip_bytes(tree))},
                             data={"replace": "true"}, headers=h)  # fmt: skip
    assert resp.status_code == 201, resp.text


async def wait_done(client: httpx.AsyncClient, h: dict[str, str], aid: str) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        resp = await client.get(f"/api/v1/analyses/{aid}", headers=h)
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["status"] in ("succeeded", "failed"):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def analyse_main(client: httpx.AsyncClient, h: dict[str, str], pid: str,
                       **body: Any) -> dict[str, Any]:  # fmt: skip
    resp = await client.post(f"{PROJECTS}/{pid}/analyses", json=body or None, headers=h)
    assert resp.status_code == 202, resp.text
    done = await wait_done(client, h, resp.json()["id"])
    assert done["status"] == "succeeded", done
    return done


async def push_branch(
    client: httpx.AsyncClient, h: dict[str, str], pid: str, tree: dict[str, bytes], **form: str
) -> dict[str, Any]:
    resp = await client.post(f"{PROJECTS}/{pid}/branch-analyses", data=form,
                             files={"file": ("t.zip", zip_bytes(tree))}, headers=h)  # fmt: skip
    assert resp.status_code == 202, resp.text
    done = await wait_done(client, h, resp.json()["id"])
    assert done["status"] == "succeeded", done
    return done


async def findings(client: httpx.AsyncClient, h: dict[str, str], aid: str,
                   **params: Any) -> list[dict[str, Any]]:  # fmt: skip
    resp = await client.get(f"/api/v1/analyses/{aid}/findings",
                            params={"limit": 500, **params}, headers=h)  # fmt: skip
    assert resp.status_code == 200, resp.text
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


def rules_at(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["rule"], f["path"]) for f in items}


async def test_two_branches_diverge_from_main(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    await upload_main(client, h, pid, MAIN)
    main = await analyse_main(client, h, pid)
    assert main["quality_gate"]["status"] == "failed"  # eval() is critical: old code

    a = await push_branch(client, h, pid, {**MAIN, "pkg/a.py": BARE_EXCEPT}, branch="feature/a")
    b = await push_branch(client, h, pid, {**MAIN, "pkg/b.py": MUTABLE}, branch="feature/b",
                          target="main")  # fmt: skip
    for done, path, rule in ((a, "pkg/a.py", "BUG103"), (b, "pkg/b.py", "BUG101")):
        assert done["baseline_analysis_id"] == main["id"]
        new = await findings(client, h, done["id"], new_code="new")
        assert rules_at(new) == {(rule, path)}, new
        inherited = await findings(client, h, done["id"], new_code="inherited")
        assert rules_at(inherited) == rules_at(await findings(client, h, main["id"]))
        assert await findings(client, h, done["id"], new_code="fixed") == []
        assert done["new_code"]["findings"] == {"new": 1, "inherited": len(inherited), "fixed": 0}
        # A major bug on new code: reliability C on new code, the gate (new code) fails.
        assert done["new_code"]["ratings"]["reliability"] == "C"
        assert done["quality_gate"]["status"] == "failed"
        assert done["new_code"]["files_changed"] == 1
    # The project's files, metrics and badge stay the default branch's.
    tree = (await client.get(f"{PROJECTS}/{pid}/files", headers=h)).json()
    assert {f["path"] for f in tree["items"]} == set(MAIN)
    metrics = (await client.get(f"{PROJECTS}/{pid}/metrics", headers=h)).json()
    assert metrics["analysis_id"] == main["id"]
    listing = (await client.get(f"{PROJECTS}/{pid}/branches", headers=h)).json()
    assert [(br["name"], br["is_default"], br["target"]) for br in listing["items"]] == [
        ("main", True, None), ("feature/a", False, "main"), ("feature/b", False, "main")]  # fmt: skip
    assert [br["quality_gate_status"] for br in listing["items"]] == ["failed"] * 3
    only_a = (await client.get(f"{PROJECTS}/{pid}/analyses", params={"branch": "feature/a"},
                               headers=h)).json()  # fmt: skip
    assert [x["id"] for x in only_a["items"]] == [a["id"]]

    await runtime.events.drain(timeout_s=60)
    created = await outbox_payloads(runtime, "branch.created")
    assert [(e["name"], e["target"]) for e in created] == [("feature/a", "main"),
                                                           ("feature/b", "main")]  # fmt: skip
    completed = {e["analysis_id"]: e for e in await outbox_payloads(runtime, "analysis.completed")}
    assert completed[a["id"]]["branch"] == "feature/a"
    assert completed[a["id"]]["new_code"]["findings"]["new"] == 1
    assert completed[main["id"]]["branch"] == "main"


async def test_pull_request_fixes_one_adds_two_and_gates_on_new_code(
    client: httpx.AsyncClient,
) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    await upload_main(client, h, pid, MAIN)
    main = await analyse_main(client, h, pid)
    main_rules = rules_at(await findings(client, h, main["id"]))

    fixed_app = APP.replace(b"return eval(x)", b"return x")
    pr_tree = {
        "pkg/app.py": fixed_app,
        "pkg/util.py": UTIL,
        "pkg/c.py": BARE_EXCEPT + b"\n\n" + MUTABLE,
    }
    pr = await push_branch(client, h, pid, pr_tree, branch="feature/x", target="main",
                           pull_request="123")  # fmt: skip
    assert pr["pull_request"] == "123" and pr["target_branch"] == "main"
    new = await findings(client, h, pr["id"], new_code="new")
    fixed = await findings(client, h, pr["id"], new_code="fixed")
    assert rules_at(new) == {("BUG103", "pkg/c.py"), ("BUG101", "pkg/c.py")}
    assert rules_at(fixed) == {("SEC-S307", "pkg/app.py")}
    assert pr["new_code"]["findings"]["new"] == 2 and pr["new_code"]["findings"]["fixed"] == 1
    inherited = await findings(client, h, pr["id"], new_code="inherited")
    assert rules_at(inherited) == main_rules - {("SEC-S307", "pkg/app.py")}
    assert pr["quality_gate"]["status"] == "failed"  # two new major bugs
    resp = await client.get(f"/api/v1/analyses/{pr['id']}/sarif", params={"new_code": "true"},
                            headers=h)  # fmt: skip
    results = resp.json()["runs"][0]["results"]
    from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif

    Sarif.model_validate(resp.json())  # models generated from the SARIF 2.1.0 schema
    assert {r["ruleId"] for r in results} == {"BUG103", "BUG101"}
    assert all(r["partialFingerprints"]["pyforgeFingerprint/v1"] for r in results)
    failed = {c["name"] for c in pr["quality_gate"]["conditions"] if c["status"] == "failed"}
    assert failed == {"new_reliability_rating"}

    # Clean as You Code: a change that adds clean code passes, the old critical notwithstanding.
    clean = await push_branch(client, h, pid, {**MAIN, "pkg/clean.py": CLEAN},
                              branch="feature/clean", pull_request="124")  # fmt: skip
    assert clean["quality_gate"]["status"] == "passed", clean["quality_gate"]
    assert clean["summary"]["findings_by_severity"]["critical"] == 1  # overall: old critical
    assert clean["new_code"]["findings"]["new"] == 0
    overview = (await client.get(f"{PROJECTS}/{pid}/overview", params={"branch": "feature/clean"},
                                 headers=h)).json()  # fmt: skip
    assert overview["gate_on"] == "new_code" and overview["pull_request"] == "124"
    assert overview["overall"]["ratings"]["security"] == "D"
    assert overview["new_code"]["ratings"] == {"reliability": "A", "security": "A",
                                               "maintainability": "A"}  # fmt: skip
    assert overview["new_code"]["quality_gate"]["status"] == "passed"
    assert overview["overall"]["metrics"]["findings_critical"] == 1
    assert overview["new_code"]["metrics"]["findings_total"] == 0

    # Pushing the pull request again compares with its previous analysis too.
    again = await push_branch(client, h, pid, pr_tree, branch="feature/x", pull_request="123")
    assert again["new_findings"] == 0 and again["new_code"]["findings"]["new"] == 2


async def test_new_code_period_on_the_default_branch(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    url = f"{PROJECTS}/{pid}/new-code-period"
    resp = await client.get(url, headers=h)
    assert resp.json()["kind"] == "previous_analysis" and resp.json()["is_default"] is True
    await upload_main(client, h, pid, MAIN)
    v1 = await analyse_main(client, h, pid, version="1.0")
    assert v1["version"] == "1.0" and v1["new_code"]["findings"]["new"] == len(
        await findings(client, h, v1["id"]))  # no baseline yet: everything is new  # fmt: skip
    resp = await client.put(url, json={"kind": "version", "value": "1.0"}, headers=h)
    assert resp.status_code == 200 and resp.json()["value"] == "1.0", resp.text

    await upload_main(client, h, pid, {**MAIN, "pkg/a.py": BARE_EXCEPT})
    second = await analyse_main(client, h, pid)
    await upload_main(client, h, pid, {**MAIN, "pkg/a.py": BARE_EXCEPT, "pkg/b.py": MUTABLE})
    third = await analyse_main(client, h, pid)
    # Since version 1.0, both added findings are new code; since the previous analysis, one.
    assert third["baseline_analysis_id"] == v1["id"]
    assert rules_at(await findings(client, h, third["id"], new_code="new")) == {
        ("BUG103", "pkg/a.py"), ("BUG101", "pkg/b.py")}  # fmt: skip
    assert third["new_findings"] == 1
    assert third["quality_gate"]["status"] == "failed"  # the default branch: the overall gate
    assert third["new_code"]["period"] == {"kind": "version", "value": "1.0",
                                           "baseline_analysis_id": v1["id"]}  # fmt: skip
    overview = (await client.get(f"{PROJECTS}/{pid}/overview", headers=h)).json()
    assert overview["gate_on"] == "overall" and overview["analysis_id"] == third["id"]
    metrics = (await client.get(f"{PROJECTS}/{pid}/metrics", headers=h)).json()
    assert metrics["metrics"]["bugs"] == 3 and metrics["new_code"]["metrics"]["bugs"] == 2
    assert metrics["new_code"]["ratings"]["reliability"] == "C"
    assert (
        overview["new_code"]["metrics"]["bugs"] == 2 and overview["overall"]["metrics"]["bugs"] == 3
    )

    resp = await client.put(url, json={"kind": "previous_analysis"}, headers=h)
    assert resp.status_code == 200
    fourth = await analyse_main(client, h, pid)
    assert (
        fourth["baseline_analysis_id"] == third["id"] and fourth["new_code"]["findings"]["new"] == 0
    )
    assert second["baseline_analysis_id"] == v1["id"]

    # N days: the newest analysis at least that old (none here: falls back to the previous).
    assert (
        await client.put(url, json={"kind": "days", "value": "30"}, headers=h)
    ).status_code == 200
    fifth = await analyse_main(client, h, pid)
    assert fifth["new_code"]["period"]["kind"] == "days"
    assert fifth["baseline_analysis_id"] == fourth["id"]
    # Once the second analysis is 40 days old, it is the newest one 30 days old: new code is
    # what was added since (pkg/b.py's finding; pkg/a.py's was there already).
    async with runtime.db.transaction() as s:
        row = await s.get(Analysis, uuid.UUID(second["id"]))
        assert row is not None
        row.finished_at = utcnow() - timedelta(days=40)
    days = await analyse_main(client, h, pid)
    assert days["baseline_analysis_id"] == second["id"]
    new_since = await findings(client, h, days["id"], new_code="new")
    assert rules_at(new_since) == {("BUG101", "pkg/b.py")}
    # A reference branch: new code is what differs from that branch's latest analysis.
    ref = await push_branch(client, h, pid, MAIN, branch="release")
    resp = await client.put(url, json={"kind": "reference_branch", "value": "release"}, headers=h)
    assert resp.status_code == 200
    sixth = await analyse_main(client, h, pid)
    assert sixth["baseline_analysis_id"] == ref["id"]
    assert sixth["new_code"]["findings"]["new"] == 2  # a.py and b.py are not on release

    for bad in ({"kind": "days", "value": "0"}, {"kind": "days", "value": "x"},
                {"kind": "version"}, {"kind": "reference_branch", "value": "a..b"},
                {"kind": "sometimes"}):  # fmt: skip
        resp = await client.put(url, json=bad, headers=h)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")


async def test_delete_branch_takes_its_data(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    await upload_main(client, h, pid, MAIN)
    await analyse_main(client, h, pid)
    done = await push_branch(client, h, pid, {**MAIN, "pkg/a.py": BARE_EXCEPT}, branch="gone")
    branches = (await client.get(f"{PROJECTS}/{pid}/branches", headers=h)).json()["items"]
    default, gone = branches[0], branches[1]
    assert (await client.delete(f"{PROJECTS}/{pid}/branches/{default['id']}",
                                headers=h)).status_code == 409  # fmt: skip
    resp = await client.delete(f"{PROJECTS}/{pid}/branches/{gone['id']}", headers=h)
    assert resp.status_code == 204, resp.text
    assert (await client.get(f"/api/v1/analyses/{done['id']}", headers=h)).status_code == 404
    assert (
        await client.get(f"{PROJECTS}/{pid}/branches/{gone['id']}", headers=h)
    ).status_code == 404
    async with runtime.db.session() as s:
        assert await s.get(Analysis, uuid.UUID(done["id"])) is None
        from sqlalchemy import func, select

        left = await s.scalar(select(func.count()).select_from(AnalysisFinding).where(
            AnalysisFinding.analysis_id == uuid.UUID(done["id"])))  # fmt: skip
        assert left == 0
    deleted = await outbox_payloads(runtime, "branch.deleted")
    assert [(e["name"], e["reason"]) for e in deleted] == [("gone", "user")]


async def test_retention_purges_old_branch_analyses(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    await upload_main(client, h, pid, MAIN)
    main = await analyse_main(client, h, pid)
    old = await push_branch(client, h, pid, MAIN, branch="old")
    fresh = await push_branch(client, h, pid, MAIN, branch="fresh")
    # Age the "old" branch and its analysis (and main's: the default branch is never purged).
    long_ago = utcnow() - timedelta(days=90)
    async with runtime.db.transaction() as s:
        for aid in (old["id"], main["id"]):
            row = await s.get(Analysis, uuid.UUID(aid))
            assert row is not None
            row.created_at = long_ago
        from sqlalchemy import select

        for br in (
            await s.execute(select(Branch).where(Branch.name.in_(("old", "main"))))
        ).scalars():
            br.last_analysis_at = long_ago
    job = BranchRetention(runtime)  # type: ignore[arg-type]
    purged = await job.run_once()  # the default age: 30 days
    assert (purged.analyses, purged.branches) == ([uuid.UUID(old["id"])], 1)
    assert (await client.get(f"/api/v1/analyses/{old['id']}", headers=h)).status_code == 404
    for kept in (main, fresh):
        assert (await client.get(f"/api/v1/analyses/{kept['id']}", headers=h)).status_code == 200
    names = [
        b["name"]
        for b in (await client.get(f"{PROJECTS}/{pid}/branches", headers=h)).json()["items"]
    ]
    assert names == ["main", "fresh"]
    deleted = await outbox_payloads(runtime, "branch.deleted")
    assert [(e["name"], e["reason"]) for e in deleted] == [("old", "retention")]


async def test_bad_branch_requests(client: httpx.AsyncClient) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    url = f"{PROJECTS}/{pid}/branch-analyses"
    tree = {"file": ("t.zip", zip_bytes(MAIN))}
    cases = [
        ({"branch": "a..b"}, 422), ({"branch": "x", "target": "x"}, 422),
        ({"branch": "x", "target": "nope"}, 422), ({"branch": "x", "pull_request": "1 2"}, 422),
        ({"branch": "main", "pull_request": "5"}, 422), ({}, 422),
    ]  # fmt: skip
    for form, code in cases:
        resp = await client.post(url, data=form, files=tree, headers=h)
        assert resp.status_code == code, (form, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    resp = await client.post(url, data={"branch": "x"}, files={"file": ("t.zip", b"not a zip")},
                             headers=h)  # fmt: skip
    assert 400 <= resp.status_code < 500, resp.text
    # The default branch through this endpoint: the tree becomes the project's files.
    resp = await client.post(url, data={"branch": "main", "version": "2.0"}, files=tree, headers=h)
    assert resp.status_code == 202, resp.text
    done = await wait_done(client, h, resp.json()["id"])
    assert done["version"] == "2.0" and done["pull_request"] is None
    listing = (await client.get(f"{PROJECTS}/{pid}/files", headers=h)).json()
    assert {f["path"] for f in listing["items"]} == set(MAIN)
    resp = await client.get(f"{PROJECTS}/{pid}/overview", params={"branch": "nope"}, headers=h)
    assert resp.status_code == 404


async def test_branch_endpoints_access(client: httpx.AsyncClient) -> None:
    """The four checks for every new endpoint: anonymous 401, another user's private project
    404, a viewer without write 403 (writes), and the valid call."""
    owner, stranger = await two_users(client)
    viewer = await register_and_login(client)
    team = await team_with(client, owner, viewer=viewer)
    pid = (await new_project(client, owner, team_id=team))["id"]
    await upload_main(client, owner.headers, pid, MAIN)
    await analyse_main(client, owner.headers, pid)
    await push_branch(client, owner.headers, pid, MAIN, branch="feature/a")
    branches = (await client.get(f"{PROJECTS}/{pid}/branches", headers=owner.headers)).json()
    bid = branches["items"][1]["id"]
    reads = [f"{PROJECTS}/{pid}/branches", f"{PROJECTS}/{pid}/branches/{bid}",
             f"{PROJECTS}/{pid}/new-code-period", f"{PROJECTS}/{pid}/overview"]  # fmt: skip
    for url in reads:
        assert (await client.get(url)).status_code == 401, url
        assert (await client.get(url, headers=stranger.headers)).status_code == 404, url
        assert (await client.get(url, headers=viewer.headers)).status_code == 200, url
        assert (await client.get(url, headers=owner.headers)).status_code == 200, url

    def upload() -> dict[str, Any]:
        return {"data": {"branch": "feature/b"}, "files": {"file": ("t.zip", zip_bytes(MAIN))}}

    writes: list[tuple[str, str, dict[str, Any], int]] = [
        ("PUT", f"{PROJECTS}/{pid}/new-code-period", {"json": {"kind": "days", "value": "7"}}, 200),
        ("POST", f"{PROJECTS}/{pid}/branch-analyses", {}, 202),
        ("DELETE", f"{PROJECTS}/{pid}/branches/{bid}", {}, 204),
    ]
    for method, url, kwargs, ok in writes:
        kw = upload() if url.endswith("branch-analyses") else kwargs
        assert (await client.request(method, url, **kw)).status_code == 401, url
        kw = upload() if url.endswith("branch-analyses") else kwargs
        resp = await client.request(method, url, headers=stranger.headers, **kw)
        assert resp.status_code == 404, (url, resp.text)
        kw = upload() if url.endswith("branch-analyses") else kwargs
        resp = await client.request(method, url, headers=viewer.headers, **kw)
        assert resp.status_code == 403, (url, resp.text)
        kw = upload() if url.endswith("branch-analyses") else kwargs
        resp = await client.request(method, url, headers=owner.headers, **kw)
        assert resp.status_code == ok, (url, resp.text)
        if ok == 202:
            await wait_done(client, owner.headers, resp.json()["id"])


async def test_a_branch_created_twice_concurrently_is_one_branch(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    from pyforge.branches.baseline import create_once, default_branch

    owner = await register_and_login(client)
    pid = uuid.UUID((await new_project(client, owner))["id"])
    async with runtime.db.transaction() as s:
        first = await default_branch(s, pid)
        # The loser of the race to the unique constraint gets None, and its transaction goes on.
        twin = Branch(id=uuid.uuid4(), project_id=pid, name="main", is_default=True)
        assert await create_once(s, twin) is None
        assert (await default_branch(s, pid)).id == first.id
    async with runtime.db.session() as s:
        from sqlalchemy import func, select

        count = await s.scalar(select(func.count()).select_from(Branch).where(Branch.project_id == pid))
        assert count == 1

"""Projects API: CRUD, access rules, PUT/PATCH semantics, settings, events, cache."""

from __future__ import annotations

import httpx

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from pyforge.cache_keys import project_key
from pyforge.projects.testing import (
    PROJECTS,
    key_headers,
    make_admin,
    new_project,
    outbox_payloads,
    outbox_types,
    team_with,
    two_users,
    wait_audited,
)


async def test_crud_put_patch_and_soft_delete(client: httpx.AsyncClient) -> None:
    owner, other = await two_users(client)
    created = await new_project(client, owner, name="alpha", description="first one")
    pid = created["id"]
    assert created["owner_id"] == str(owner.id)
    assert created["role"] == "owner" and created["is_public"] is False
    assert created["settings"]["linting_enabled"] is True
    assert created["settings"]["complexity_threshold"] == 10

    got = (await client.get(f"{PROJECTS}/{pid}", headers=owner.headers)).json()
    assert got["name"] == "alpha" and got["role"] == "owner"

    # PATCH changes only what is sent, and merges settings key by key.
    resp = await client.patch(
        f"{PROJECTS}/{pid}",
        json={"settings": {"complexity_threshold": 15}},
        headers=owner.headers,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["description"] == "first one"
    assert body["settings"]["complexity_threshold"] == 15
    assert body["settings"]["linting_enabled"] is True

    # PUT replaces: omitted fields return to their defaults.
    resp = await client.put(
        f"{PROJECTS}/{pid}",
        json={"name": "alpha2", "settings": {"auto_format": True}},
        headers=owner.headers,
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["name"] == "alpha2" and body["description"] is None
    assert body["settings"]["complexity_threshold"] == 10
    assert body["settings"]["auto_format"] is True
    # PUT needs the name (a complete representation).
    resp = await client.put(f"{PROJECTS}/{pid}", json={}, headers=owner.headers)
    assert resp.status_code == 422
    resp = await client.patch(f"{PROJECTS}/{pid}", json={"name": None}, headers=owner.headers)
    assert resp.status_code == 422

    # Another user's private project does not exist for them, whatever the verb.
    for method in ("get", "put", "patch", "delete"):
        kwargs = {"json": {"name": "x"}} if method in ("put", "patch") else {}
        resp = await client.request(method, f"{PROJECTS}/{pid}", headers=other.headers, **kwargs)
        assert resp.status_code == 404, (method, resp.text)
    listing = (await client.get(PROJECTS, headers=other.headers)).json()
    assert listing["total"] == 0

    resp = await client.delete(f"{PROJECTS}/{pid}", headers=owner.headers)
    assert resp.status_code == 204
    assert (await client.get(f"{PROJECTS}/{pid}", headers=owner.headers)).status_code == 404
    assert (await client.delete(f"{PROJECTS}/{pid}", headers=owner.headers)).status_code == 404
    assert (await client.get(PROJECTS, headers=owner.headers)).json()["total"] == 0


async def test_settings_validation_reports_fields(client: httpx.AsyncClient) -> None:
    owner = await register_and_login(client)
    bad = [
        ({"settings": {"complexity_threshold": 0}}, "body.settings.complexity_threshold"),
        ({"settings": {"no_such": 1}}, "body.settings.no_such"),
        ({"settings": {"analysis": {"bogus_option": 1}}}, "body.settings.analysis"),
        ({"settings": {"analysis": {"extend": "/etc/passwd"}}}, "body.settings.analysis"),
        ({"name": ""}, "body.name"),
        ({"name": "x" * 256}, "body.name"),
    ]
    for extra, field in bad:
        resp = await client.post(PROJECTS, json={"name": "ok", **extra}, headers=owner.headers)
        assert resp.status_code == 422, (extra, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
        fields = [e["field"] for e in resp.json()["errors"]]
        assert any(f.startswith(field) for f in fields), (field, fields)
    analysis = {
        "thresholds": {"cyclomatic": 12},
        "ignore": ["STY"],
        "gate": {"fail_on": ["critical"]},
    }
    created = await new_project(client, owner, settings={"analysis": analysis})
    assert created["settings"]["analysis"] == analysis
    resp = await client.patch(
        f"{PROJECTS}/{created['id']}",
        json={"settings": {"analysis": {"nope": True}}},
        headers=owner.headers,
    )
    assert resp.status_code == 422


async def test_team_roles_decide_access(client: httpx.AsyncClient) -> None:
    owner = await register_and_login(client)
    viewer, dev = await two_users(client)
    outsider = await register_and_login(client)
    team_id = await team_with(client, owner, viewer=viewer, developer=dev)
    project = await new_project(client, owner, team_id=team_id)
    url = f"{PROJECTS}/{project['id']}"

    got = await client.get(url, headers=viewer.headers)
    assert got.status_code == 200 and got.json()["role"] == "viewer"
    assert (await client.patch(url, json={"name": "v"}, headers=viewer.headers)).status_code == 403
    resp = await client.patch(url, json={"name": "by dev"}, headers=dev.headers)
    assert resp.status_code == 200 and resp.json()["role"] == "developer"
    # Developers may edit but neither delete nor change who can read the code.
    assert (await client.delete(url, headers=dev.headers)).status_code == 403
    resp = await client.patch(url, json={"is_public": True}, headers=dev.headers)
    assert resp.status_code == 403
    resp = await client.patch(url, json={"team_id": None}, headers=dev.headers)
    assert resp.status_code == 403
    assert (await client.get(url, headers=outsider.headers)).status_code == 404
    listed = (
        await client.get(PROJECTS, params={"team_id": team_id}, headers=viewer.headers)
    ).json()
    assert [p["id"] for p in listed["items"]] == [project["id"]]

    # A team viewer cannot create projects in the team; outsiders cannot name the team.
    resp = await client.post(
        PROJECTS, json={"name": "n", "team_id": team_id}, headers=viewer.headers
    )
    assert resp.status_code == 403
    resp = await client.post(
        PROJECTS, json={"name": "n", "team_id": team_id}, headers=outsider.headers
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "body.team_id"
    created = await new_project(client, dev, team_id=team_id)
    assert (
        await client.get(f"{PROJECTS}/{created['id']}", headers=viewer.headers)
    ).status_code == 200

    # Leaving the team ends access at once (membership is never cached).
    resp = await client.delete(
        f"/api/v1/teams/{team_id}/members/{viewer.id}", headers=owner.headers
    )
    assert resp.status_code == 204
    assert (await client.get(url, headers=viewer.headers)).status_code == 404


async def test_public_projects_are_readable_not_writable(client: httpx.AsyncClient) -> None:
    owner, other = await two_users(client)
    public = await new_project(client, owner, name="open", is_public=True)
    await new_project(client, owner, name="closed")
    url = f"{PROJECTS}/{public['id']}"
    got = await client.get(url, headers=other.headers)
    assert got.status_code == 200 and got.json()["role"] == "viewer"
    assert (await client.patch(url, json={"name": "x"}, headers=other.headers)).status_code == 403
    assert (await client.put(url, json={"name": "x"}, headers=other.headers)).status_code == 403
    assert (await client.delete(url, headers=other.headers)).status_code == 403
    assert (await client.get(PROJECTS, headers=other.headers)).json()["total"] == 0
    listed = (
        await client.get(PROJECTS, params={"include_public": True}, headers=other.headers)
    ).json()
    assert [p["name"] for p in listed["items"]] == ["open"]


async def test_api_key_scopes_narrow_access(client: httpx.AsyncClient) -> None:
    owner = await register_and_login(client)
    project = await new_project(client, owner)
    url = f"{PROJECTS}/{project['id']}"
    reader = await key_headers(client, owner, ["project:read"])
    assert (await client.get(url, headers=reader)).status_code == 200
    assert (await client.get(PROJECTS, headers=reader)).status_code == 200
    assert (await client.post(PROJECTS, json={"name": "k"}, headers=reader)).status_code == 403
    resp = await client.patch(url, json={"name": "k"}, headers=reader)
    assert resp.status_code == 403 and resp.json()["missing_scopes"] == ["project:write"]
    assert (await client.delete(url, headers=reader)).status_code == 403
    no_projects = await key_headers(client, owner, ["team:read"])
    assert (await client.get(PROJECTS, headers=no_projects)).status_code == 403
    assert (await client.get(url, headers=no_projects)).status_code == 403
    writer = await key_headers(client, owner, ["project:read", "project:write"])
    assert (await client.patch(url, json={"name": "k"}, headers=writer)).status_code == 200
    assert (await client.delete(url, headers=writer)).status_code == 403


async def test_admin_sees_every_project(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner, admin = await two_users(client)
    project = await new_project(client, owner)
    await make_admin(runtime, admin)
    got = await client.get(f"{PROJECTS}/{project['id']}", headers=admin.headers)
    assert got.status_code == 200 and got.json()["role"] == "admin"
    assert (await client.get(PROJECTS, headers=admin.headers)).json()["total"] == 1
    resp = await client.delete(f"{PROJECTS}/{project['id']}", headers=admin.headers)
    assert resp.status_code == 204


async def test_events_are_written_with_the_change(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    project = await new_project(client, owner)
    url = f"{PROJECTS}/{project['id']}"
    await client.patch(url, json={"description": "d"}, headers=owner.headers)
    # A PATCH that changes nothing emits nothing.
    await client.patch(url, json={"description": "d"}, headers=owner.headers)
    await client.delete(url, headers=owner.headers)
    types = [t for t in await outbox_types(runtime) if t.startswith("project.")]
    assert types == ["project.created", "project.updated", "project.deleted"]
    updated = (await outbox_payloads(runtime, "project.updated"))[0]
    assert updated["project_id"] == project["id"] and updated["changed"] == ["description"]
    # A refused change writes no event.
    other = await register_and_login(client)
    await client.post(PROJECTS, json={"name": ""}, headers=other.headers)
    assert len([t for t in await outbox_types(runtime) if t == "project.created"]) == 1
    await wait_audited(runtime, "project.deleted", 1)


async def test_reads_are_cached_and_invalidated(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    project = await new_project(client, owner, name="cached")
    url = f"{PROJECTS}/{project['id']}"
    key = project_key(project["id"])
    assert (await client.get(url, headers=owner.headers)).status_code == 200
    entry = await runtime.cache.get(key)
    assert entry is not None and entry["name"] == "cached" and "role" in entry
    # Reads come from the cache: a planted value is what the API answers.
    await runtime.cache.set(key, {**entry, "name": "from cache"}, 60)
    assert (await client.get(url, headers=owner.headers)).json()["name"] == "from cache"
    await client.patch(url, json={"name": "renamed"}, headers=owner.headers)
    assert await runtime.cache.get(key) is None
    assert (await client.get(url, headers=owner.headers)).json()["name"] == "renamed"
    # Access is checked against the cached attributes on every read.
    other = await register_and_login(client)
    assert (await client.get(url, headers=other.headers)).status_code == 404
    await client.delete(url, headers=owner.headers)
    assert await runtime.cache.get(key) is None
    assert (await client.get(url, headers=owner.headers)).status_code == 404

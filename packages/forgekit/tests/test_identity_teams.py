"""Teams: CRUD, IDOR protection (404 to outsiders), membership roles, last-owner protection."""

import uuid

import pytest
from sqlalchemy import update

from forgekit.identity.models import User
from forgekit.identity.testing import FAST_PASSWORD_HASHING, create_api_key, register_and_login

TEAMS = "/api/v1/teams"


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


async def _team(client, owner, name="core"):
    resp = await client.post(TEAMS, json={"name": name, "description": "d"}, headers=owner.headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_team_crud(client):
    alice = await register_and_login(client)
    team = await _team(client, alice)
    assert team["role"] == "owner" and team["name"] == "core"
    listed = (await client.get(TEAMS, headers=alice.headers)).json()
    assert [t["id"] for t in listed] == [team["id"]]
    got = await client.get(f"{TEAMS}/{team['id']}", headers=alice.headers)
    assert got.status_code == 200 and got.json()["description"] == "d"
    patched = await client.patch(
        f"{TEAMS}/{team['id']}", json={"name": "platform"}, headers=alice.headers
    )
    assert patched.status_code == 200 and patched.json()["name"] == "platform"
    assert patched.json()["description"] == "d"
    bad = await client.patch(f"{TEAMS}/{team['id']}", json={"name": ""}, headers=alice.headers)
    assert bad.status_code == 422
    members = (await client.get(f"{TEAMS}/{team['id']}/members", headers=alice.headers)).json()
    assert [(m["username"], m["role"]) for m in members] == [(alice.username, "owner")]
    assert (await client.delete(f"{TEAMS}/{team['id']}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"{TEAMS}/{team['id']}", headers=alice.headers)).status_code == 404
    assert (await client.get(TEAMS, headers=alice.headers)).json() == []
    assert (await client.get(TEAMS)).status_code == 401


async def test_outsiders_get_404_not_403(client):
    alice = await register_and_login(client)
    bob = await register_and_login(client)
    team = await _team(client, alice)
    tid = team["id"]
    for method, path, body in (
        ("GET", f"{TEAMS}/{tid}", None),
        ("PATCH", f"{TEAMS}/{tid}", {"name": "mine"}),
        ("DELETE", f"{TEAMS}/{tid}", None),
        ("GET", f"{TEAMS}/{tid}/members", None),
        ("POST", f"{TEAMS}/{tid}/members", {"user_id": str(bob.id), "role": "owner"}),
        ("PATCH", f"{TEAMS}/{tid}/members/{alice.id}", {"role": "viewer"}),
        ("DELETE", f"{TEAMS}/{tid}/members/{alice.id}", None),
        ("GET", f"{TEAMS}/{uuid.uuid4()}", None),
    ):
        resp = await client.request(method, path, json=body, headers=bob.headers)
        assert resp.status_code == 404, (method, path, resp.status_code, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(TEAMS, headers=bob.headers)).json() == []
    # Nothing changed.
    assert (await client.get(f"{TEAMS}/{tid}", headers=alice.headers)).json()["name"] == "core"


async def test_membership_roles(client):
    alice = await register_and_login(client)
    dev = await register_and_login(client)
    viewer = await register_and_login(client)
    tid = (await _team(client, alice))["id"]

    added = await client.post(
        f"{TEAMS}/{tid}/members",
        json={"username": dev.username.upper(), "role": "developer"},
        headers=alice.headers,
    )
    assert added.status_code == 201, added.text
    assert added.json()["role"] == "developer"
    added = await client.post(
        f"{TEAMS}/{tid}/members",
        json={"email": viewer.email, "role": "viewer"},
        headers=alice.headers,
    )
    assert added.status_code == 201
    dup = await client.post(
        f"{TEAMS}/{tid}/members", json={"user_id": str(viewer.id)}, headers=alice.headers
    )
    assert dup.status_code == 409
    ghost = await client.post(
        f"{TEAMS}/{tid}/members", json={"username": "ghost-user"}, headers=alice.headers
    )
    assert ghost.status_code == 404
    admin_role = await client.post(
        f"{TEAMS}/{tid}/members",
        json={"user_id": str(uuid.uuid4()), "role": "admin"},
        headers=alice.headers,
    )
    assert admin_role.status_code == 422
    two_refs = await client.post(
        f"{TEAMS}/{tid}/members",
        json={"user_id": str(dev.id), "username": "x"},
        headers=alice.headers,
    )
    assert two_refs.status_code == 422

    # The viewer reads but cannot write.
    assert (await client.get(f"{TEAMS}/{tid}", headers=viewer.headers)).json()["role"] == "viewer"
    assert (await client.get(f"{TEAMS}/{tid}/members", headers=viewer.headers)).status_code == 200
    for method, path, body in (
        ("PATCH", f"{TEAMS}/{tid}", {"name": "x"}),
        ("DELETE", f"{TEAMS}/{tid}", None),
        ("POST", f"{TEAMS}/{tid}/members", {"user_id": str(alice.id)}),
        ("PATCH", f"{TEAMS}/{tid}/members/{dev.id}", {"role": "owner"}),
        ("DELETE", f"{TEAMS}/{tid}/members/{dev.id}", None),
    ):
        resp = await client.request(method, path, json=body, headers=viewer.headers)
        assert resp.status_code == 403, (method, path, resp.text)

    # The developer edits the team but does not manage members or delete it.
    assert (
        await client.patch(f"{TEAMS}/{tid}", json={"description": "by dev"}, headers=dev.headers)
    ).status_code == 200
    assert (await client.delete(f"{TEAMS}/{tid}", headers=dev.headers)).status_code == 403
    assert (
        await client.patch(
            f"{TEAMS}/{tid}/members/{viewer.id}", json={"role": "owner"}, headers=dev.headers
        )
    ).status_code == 403

    # The owner promotes; the promoted member can now manage members.
    promoted = await client.patch(
        f"{TEAMS}/{tid}/members/{viewer.id}", json={"role": "developer"}, headers=alice.headers
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "developer"
    assert (
        await client.patch(f"{TEAMS}/{tid}", json={"name": "y"}, headers=viewer.headers)
    ).status_code == 200

    # Any member may leave; a removed member loses access (404).
    assert (
        await client.delete(f"{TEAMS}/{tid}/members/{viewer.id}", headers=viewer.headers)
    ).status_code == 204
    assert (await client.get(f"{TEAMS}/{tid}", headers=viewer.headers)).status_code == 404
    assert (
        await client.delete(f"{TEAMS}/{tid}/members/{dev.id}", headers=alice.headers)
    ).status_code == 204
    assert (await client.get(f"{TEAMS}/{tid}", headers=dev.headers)).status_code == 404
    assert (
        await client.delete(f"{TEAMS}/{tid}/members/{dev.id}", headers=alice.headers)
    ).status_code == 404


async def test_last_owner_cannot_be_removed_or_demoted(client):
    alice = await register_and_login(client)
    bob = await register_and_login(client)
    tid = (await _team(client, alice))["id"]
    demote = await client.patch(
        f"{TEAMS}/{tid}/members/{alice.id}", json={"role": "developer"}, headers=alice.headers
    )
    assert demote.status_code == 409, demote.text
    assert (
        await client.delete(f"{TEAMS}/{tid}/members/{alice.id}", headers=alice.headers)
    ).status_code == 409

    await client.post(
        f"{TEAMS}/{tid}/members",
        json={"user_id": str(bob.id), "role": "owner"},
        headers=alice.headers,
    )
    # With a second owner, the first may step down ...
    demote = await client.patch(
        f"{TEAMS}/{tid}/members/{alice.id}", json={"role": "viewer"}, headers=alice.headers
    )
    assert demote.status_code == 200 and demote.json()["role"] == "viewer"
    # ... and now bob is the last owner.
    assert (
        await client.delete(f"{TEAMS}/{tid}/members/{bob.id}", headers=bob.headers)
    ).status_code == 409
    assert (
        await client.patch(
            f"{TEAMS}/{tid}/members/{bob.id}", json={"role": "developer"}, headers=bob.headers
        )
    ).status_code == 409
    members = (await client.get(f"{TEAMS}/{tid}/members", headers=bob.headers)).json()
    assert sorted(m["role"] for m in members) == ["owner", "viewer"]


async def test_global_role_and_admin(client, runtime):
    alice = await register_and_login(client)
    tid = (await _team(client, alice))["id"]
    root = await register_and_login(client)
    readonly = await register_and_login(client)
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == root.id).values(role="admin"))
        await session.execute(update(User).where(User.id == readonly.id).values(role="viewer"))
    # An admin sees and manages any team without being a member.
    got = await client.get(f"{TEAMS}/{tid}", headers=root.headers)
    assert got.status_code == 200 and got.json()["role"] is None
    assert (
        await client.patch(f"{TEAMS}/{tid}", json={"name": "by admin"}, headers=root.headers)
    ).status_code == 200
    # A global viewer cannot create teams, even though members of their own team may.
    assert (
        await client.post(TEAMS, json={"name": "t"}, headers=readonly.headers)
    ).status_code == 403
    # An API key of a team owner is limited by its scopes inside the team.
    key = (await create_api_key(client, alice, ["team:read"]))["key"]
    assert (await client.get(f"{TEAMS}/{tid}", headers={"X-API-Key": key})).status_code == 200
    assert (await client.delete(f"{TEAMS}/{tid}", headers={"X-API-Key": key})).status_code == 403


async def test_two_owners_stepping_down_at_once_leave_one_owner(client):
    import asyncio

    alice = await register_and_login(client)
    bob = await register_and_login(client)
    tid = (await _team(client, alice))["id"]
    await client.post(
        f"{TEAMS}/{tid}/members",
        json={"user_id": str(bob.id), "role": "owner"},
        headers=alice.headers,
    )
    results = await asyncio.gather(
        client.patch(
            f"{TEAMS}/{tid}/members/{alice.id}", json={"role": "viewer"}, headers=alice.headers
        ),
        client.patch(
            f"{TEAMS}/{tid}/members/{bob.id}", json={"role": "viewer"}, headers=bob.headers
        ),
    )
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    members = (await client.get(f"{TEAMS}/{tid}/members", headers=alice.headers)).json()
    assert sorted(m["role"] for m in members) == ["owner", "viewer"]

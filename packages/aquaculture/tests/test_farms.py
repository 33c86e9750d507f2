"""Farms are kit teams: roles viewer/operator/admin decide who may manage and who may upload."""

import httpx
from aquaculture.testing import fish_png, make_farm

from forgekit.identity.testing import register_and_login


async def test_roles_in_a_farm(client: httpx.AsyncClient) -> None:
    admin, operator, viewer = [await register_and_login(client) for _ in range(3)]
    farm, site, tank = await make_farm(client, admin.headers)
    base = f"/api/v1/farms/{farm}"
    for user, role in ((operator, "operator"), (viewer, "viewer")):
        added = await client.post(
            f"{base}/members", json={"username": user.username, "role": role}, headers=admin.headers
        )
        assert added.status_code == 201 and added.json()["role"] == role, added.text
    members = {
        m["username"]: m["role"]
        for m in (await client.get(f"{base}/members", headers=viewer.headers)).json()
    }
    assert members == {
        admin.username: "admin",
        operator.username: "operator",
        viewer.username: "viewer",
    }
    listed = (await client.get("/api/v1/farms", headers=operator.headers)).json()
    assert [(f["id"], f["role"]) for f in listed] == [(farm, "operator")]
    # Viewers read; operators upload; only admins add sites, tanks and members.
    upload = {"file": ("a.png", fish_png(), "image/png")}
    assert (
        await client.post(f"{base}/tanks/{tank}/observations", files=upload, headers=viewer.headers)
    ).status_code == 403
    assert (
        await client.post(
            f"{base}/tanks/{tank}/observations", files=upload, headers=operator.headers
        )
    ).status_code == 201
    for user in (operator, viewer):
        assert (
            await client.post(f"{base}/sites", json={"name": "x"}, headers=user.headers)
        ).status_code == 403
        resp = await client.post(
            f"{base}/members", json={"username": admin.username}, headers=user.headers
        )
        assert resp.status_code == 403
    assert (await client.get(f"{base}/tanks", headers=viewer.headers)).json()[0]["kind"] == "pen"


async def test_names_are_unique_and_references_stay_within_a_farm(
    client: httpx.AsyncClient,
) -> None:
    admin = await register_and_login(client)
    farm, site, tank = await make_farm(client, admin.headers)
    other, other_site, other_tank = await make_farm(client, admin.headers)
    dup = await client.post(
        f"/api/v1/farms/{farm}/sites", json={"name": "Pier 1"}, headers=admin.headers
    )
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"
    # A site or tank of another farm is not found through this one, even to its own admin.
    assert (
        await client.post(
            f"/api/v1/farms/{farm}/sites/{other_site}/tanks",
            json={"name": "x"},
            headers=admin.headers,
        )
    ).status_code == 404
    assert (
        await client.post(
            f"/api/v1/farms/{farm}/tanks/{other_tank}/observations",
            headers=admin.headers,
            files={"file": ("a.png", fish_png(), "image/png")},
        )
    ).status_code == 404
    bad = await client.post(
        f"/api/v1/farms/{farm}/sites/{site}/tanks",
        json={"name": "y", "kind": "lake"},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    assert (
        await client.get(
            f"/api/v1/farms/{farm}/tanks", params={"site_id": site}, headers=admin.headers
        )
    ).json()[0]["name"] == "T1"

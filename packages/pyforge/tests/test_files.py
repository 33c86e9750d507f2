"""Project files API: uploads (file, zip, tar.gz), versions, replace, reading, deleting."""

from __future__ import annotations

import base64
import uuid

import httpx

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from pyforge.files.service import snapshot, snapshot_digest
from pyforge.projects.testing import (
    PROJECTS,
    key_headers,
    new_project,
    outbox_payloads,
    stored_objects,
    tar_bytes,
    team_with,
    two_users,
    zip_bytes,
)


def _files(pid: str) -> str:
    return f"{PROJECTS}/{pid}/files"


async def _upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    pid: str,
    name: str,
    data: bytes,
    **form: str,
) -> httpx.Response:
    return await client.post(_files(pid), files={"file": (name, data)}, data=form, headers=headers)


async def test_endpoints_need_access(client: httpx.AsyncClient) -> None:
    owner, other = await two_users(client)
    viewer = await register_and_login(client)
    team = await team_with(client, owner, viewer=viewer)
    pid = (await new_project(client, owner, team_id=team))["id"]
    resp = await _upload(client, owner.headers, pid, "a.py", b"x = 1\n")
    assert resp.status_code == 201, resp.text
    fid = resp.json()["files"][0]["id"]
    calls = {
        "upload": lambda h: _upload(client, h, pid, "b.py", b"y = 2\n"),
        "list": lambda h: client.get(_files(pid), headers=h),
        "get": lambda h: client.get(f"{_files(pid)}/{fid}", headers=h),
        "delete": lambda h: client.delete(f"{_files(pid)}/{fid}", headers=h),
    }
    for name, call in calls.items():
        assert (await call({})).status_code == 401, name
        assert (await call(other.headers)).status_code == 404, name
    assert (await calls["list"](viewer.headers)).status_code == 200
    assert (await calls["get"](viewer.headers)).status_code == 200
    assert (await calls["upload"](viewer.headers)).status_code == 403
    assert (await calls["delete"](viewer.headers)).status_code == 403
    reader = await key_headers(client, owner, ["project:read"])
    assert (await calls["upload"](reader)).status_code == 403
    assert (await calls["list"](reader)).status_code == 200
    missing = f"{_files(pid)}/{uuid.uuid4()}"
    assert (await client.get(missing, headers=owner.headers)).status_code == 404
    # A file id of another project is not found through this one.
    pid2 = (await new_project(client, owner))["id"]
    assert (await client.get(f"{_files(pid2)}/{fid}", headers=owner.headers)).status_code == 404
    assert (await calls["delete"](owner.headers)).status_code == 204


async def test_single_files_versions_and_content(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]

    resp = await _upload(client, h, pid, "ignored.py", b"print('v1')\n", path="./src//app.py")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["added"], body["updated"], body["unchanged"], body["deleted"]) == (1, 0, 0, 0)
    f = body["files"][0]
    assert f["path"] == "src/app.py" and f["version"] == 1 and f["size"] == 12
    assert f["mime_type"] == "text/x-python" and len(f["sha256"]) == 64
    objects = stored_objects(runtime)

    same = (await _upload(client, h, pid, "x", b"print('v1')\n", path="src/app.py")).json()
    assert (same["added"], same["updated"], same["unchanged"]) == (0, 0, 1)
    assert same["files"][0]["version"] == 1 and same["files"][0]["id"] == f["id"]
    assert stored_objects(runtime) == objects  # identical content is stored once

    changed = (await _upload(client, h, pid, "x", b"print('v2')\n", path="src/app.py")).json()
    assert changed["updated"] == 1 and changed["files"][0]["version"] == 2

    got = (await client.get(f"{_files(pid)}/{f['id']}", headers=h)).json()
    assert got["content"] == "print('v2')\n" and got["encoding"] == "utf-8"
    assert got["version"] == 2 and not got["truncated"] and got["download_url"]

    blob = bytes(range(256))
    binary = (await _upload(client, h, pid, "logo.bin", blob)).json()["files"][0]
    assert binary["path"] == "logo.bin" and binary["mime_type"] == "application/octet-stream"
    got = (await client.get(f"{_files(pid)}/{binary['id']}", headers=h)).json()
    assert got["encoding"] == "base64" and base64.b64decode(got["content"]) == blob

    # Deleting keeps history: re-adding the path continues its version numbers.
    assert (await client.delete(f"{_files(pid)}/{f['id']}", headers=h)).status_code == 204
    listing = (await client.get(_files(pid), headers=h)).json()
    assert [i["path"] for i in listing["items"]] == ["logo.bin"]
    again = (await _upload(client, h, pid, "x", b"print('v3')\n", path="src/app.py")).json()
    assert again["added"] == 1 and again["files"][0]["version"] == 3

    bad_paths = ["../etc/passwd", "/abs.py", "C:/x.py", "a\\b.py", "a/../../b", "x\0y", "./."]
    for bad in bad_paths:
        resp = await _upload(client, h, pid, "f.py", b"1", path=bad)
        assert resp.status_code in (400, 422), (bad, resp.text)
    types = await outbox_payloads(runtime, "project.files_uploaded")
    assert types[0]["project_id"] == pid and types[0]["added"] == 1


async def test_archives_trees_and_replace(client: httpx.AsyncClient, runtime: Runtime) -> None:
    owner = await register_and_login(client)
    h = owner.headers
    pid = (await new_project(client, owner))["id"]
    tree = {
        "pkg/__init__.py": b"",
        "pkg/core.py": b"def f():\n    return 1\n",
        "README.md": b"# demo\n",
        "docs/": b"",  # a directory entry stores nothing
    }
    resp = await _upload(client, h, pid, "tree.zip", zip_bytes(tree))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["added"] == 3
    assert [f["path"] for f in body["files"]] == ["README.md", "pkg/__init__.py", "pkg/core.py"]

    # A tar.gz update: one changed, one unchanged, one new; others stay (merge).
    members = [
        ("./pkg/core.py", b"def f():\n    return 2\n"),
        ("./pkg/__init__.py", b""),
        ("./pkg/util.py", b"X = 1\n"),
    ]
    body = (await _upload(client, h, pid, "update.tar.gz", tar_bytes(members))).json()
    assert (body["added"], body["updated"], body["unchanged"], body["deleted"]) == (1, 1, 1, 0)
    listing = (await client.get(_files(pid), headers=h)).json()
    assert listing["total"] == 4
    versions = {f["path"]: f["version"] for f in listing["items"]}
    assert versions == {"README.md": 1, "pkg/__init__.py": 1, "pkg/core.py": 2, "pkg/util.py": 1}

    # replace=true: the archive is the whole new tree.
    body = (
        await _upload(
            client, h, pid, "push.tgz", tar_bytes([("pkg/core.py", b"def f():\n    return 2\n")]),
            replace="true",
        )
    ).json()  # fmt: skip
    assert (body["added"], body["updated"], body["unchanged"], body["deleted"]) == (0, 0, 1, 3)
    listing = (await client.get(_files(pid), headers=h)).json()
    assert [f["path"] for f in listing["items"]] == ["pkg/core.py"]

    # Listing: prefix filter and cursor pagination.
    many = {f"src/m{i:02d}.py": f"v = {i}\n".encode() for i in range(7)}
    await _upload(client, h, pid, "many.zip", zip_bytes(many))
    page = (await client.get(_files(pid), params={"prefix": "src/", "limit": 3}, headers=h)).json()
    assert page["total"] == 7 and len(page["items"]) == 3
    seen = [i["path"] for i in page["items"]]
    while page["next_cursor"]:
        page = (
            await client.get(
                _files(pid),
                params={"prefix": "src/", "limit": 3, "cursor": page["next_cursor"]},
                headers=h,
            )
        ).json()
        seen += [i["path"] for i in page["items"]]
    assert seen == sorted(many)
    pct = (await client.get(_files(pid), params={"prefix": "src/m0%"}, headers=h)).json()
    assert pct["total"] == 0  # LIKE wildcards in the prefix are literal

    # The snapshot other domains read matches the listing.
    async with runtime.db.session() as s:
        tree_now = await snapshot(s, uuid.UUID(pid))
    assert [f.path for f in tree_now] == ["pkg/core.py", *sorted(many)]
    assert len(snapshot_digest(tree_now)) == 64

    # A file and a directory cannot share a path.
    resp = await _upload(client, h, pid, "x", b"1", path="pkg/core.py/inner.py")
    assert resp.status_code == 400

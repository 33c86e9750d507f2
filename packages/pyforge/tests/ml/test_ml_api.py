"""The ML service over HTTP on both backends: bug detection, quality prediction, the model
registry (default version, rollback, ``ml.model.updated``), auth and bad input, and the ``ml``
consumer attaching predictions to a succeeded analysis (idempotently)."""

from __future__ import annotations

import asyncio
import io
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from forgekit.events.models import OutboxMessage
from forgekit.identity.testing import FAST_PASSWORD_HASHING, create_api_key, register_and_login
from forgekit.runtime import Runtime
from pyforge.predictions.models import AnalysisPrediction, MlModel
from pyforge.projects.testing import make_admin

PROBLEM = "application/problem+json"
ML = "/api/v1/ml"
BUGGY = (
    "def pick(items, limit):\n"
    "    out = []\n"
    "    for item in items:\n"
    "        if len(out) >= limit:\n"
    "            break\n"
    "        out.append(item)\n"
    "    return out\n\n\n"
    "def ok(a, b):\n"
    "    return a < b and b < 10\n"
)


@pytest.fixture
def forge_settings(forge_settings):
    return forge_settings.model_copy(update=FAST_PASSWORD_HASHING)


async def _auth(client: httpx.AsyncClient) -> dict[str, str]:
    user = await register_and_login(client)
    return {"Authorization": f"Bearer {user.access_token}"}


async def test_detect_bugs(client: httpx.AsyncClient) -> None:
    headers = await _auth(client)
    every = await client.post(f"{ML}/detect/bugs", headers=headers,
                              json={"code": BUGGY, "filename": "pick.py", "threshold": 0})  # fmt: skip
    assert every.status_code == 200, every.text
    body = every.json()
    assert (
        body["model"]["name"] == "pyforge-bugs"
        and body["model_version"] == body["model"]["version"]
    )
    assert body["synthetic_training_data"] is True
    found = body["detections"]
    # Threshold 0: every function's best candidate, most probable first.
    assert {d["function"] for d in found} == {"pick", "ok"}
    assert [d["probability"] for d in found] == sorted(
        (d["probability"] for d in found), reverse=True
    )
    for d in found:
        assert d["path"] == "pick.py" and 1 <= d["line"] <= BUGGY.count("\n")
        assert d["kind"] and d["repair"] and 0 <= d["probability"] <= 1

    default = await client.post(f"{ML}/detect/bugs", headers=headers, json={"code": BUGGY})
    assert default.json()["threshold"] == pytest.approx(0.77, abs=0.5)
    assert all(
        d["probability"] >= default.json()["threshold"] for d in default.json()["detections"]
    )


async def test_bad_input_and_auth(client: httpx.AsyncClient) -> None:
    headers = await _auth(client)
    broken = await client.post(f"{ML}/detect/bugs", headers=headers, json={"code": "def f(:\n"})
    assert broken.status_code == 400 and broken.headers["content-type"].startswith(PROBLEM)
    assert "does not parse" in broken.json()["detail"]
    assert (await client.post(f"{ML}/detect/bugs", headers=headers, json={})).status_code == 422
    both = await client.post(f"{ML}/predict/quality", headers=headers,
                             json={"code": "x = 1\n", "files": {"a.py": "y = 2\n"}})  # fmt: skip
    assert both.status_code == 422 and both.headers["content-type"].startswith(PROBLEM)
    big = await client.post(f"{ML}/detect/bugs", headers=headers, json={"code": "x" * 500_001})
    assert big.status_code == 422

    anonymous = await client.post(f"{ML}/detect/bugs", json={"code": BUGGY})
    assert anonymous.status_code == 401
    user = await register_and_login(client)
    key = await create_api_key(client, user, ["project:read"])
    narrow = await client.post(f"{ML}/predict/quality", json={"code": BUGGY},
                               headers={"Authorization": f"Bearer {key['key']}"})  # fmt: skip
    assert narrow.status_code == 403 and "ml:predict" in narrow.json()["detail"]


async def test_predict_quality(client: httpx.AsyncClient) -> None:
    headers = await _auth(client)
    files = {"pick.py": BUGGY, "util.py": "def add(a, b):\n    return a + b\n",
             "broken.py": "def f(:\n"}  # fmt: skip
    resp = await client.post(f"{ML}/predict/quality", headers=headers, json={"files": files})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"]["name"] == "pyforge-quality" and "detector" in body["model_version"]
    assert "probability" in body["predicts"]
    assert [f["path"] for f in body["files"]] == ["pick.py", "util.py"]
    assert set(body["skipped"]) == {"broken.py"}
    bands = {"A": (80, 100), "B": (60, 79), "C": (40, 59), "D": (20, 39), "E": (0, 19)}
    for item in [*body["files"], body["project"]]:
        low, high = bands[item["level"]]
        assert low <= item["score"] <= high
        assert abs(item["score"] - 100 * (1 - item["bug_probability"])) <= 0.51
        assert 0.5 <= item["confidence"] <= 1.0
    scores = [f["score"] for f in body["files"]]
    assert min(scores) <= body["project"]["score"] <= max(scores)

    one = await client.post(f"{ML}/predict/quality", headers=headers, json={"code": BUGGY})
    assert one.status_code == 200 and one.json()["files"][0]["path"] == "snippet.py"


async def test_registry_default_and_rollback(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await _auth(client)
    listed = await client.get(f"{ML}/models", headers=headers)
    assert listed.status_code == 200
    by_name = {(m["name"], m["version"]): m for m in listed.json()}
    bugs = next(m for (n, _), m in by_name.items() if n == "pyforge-bugs")
    assert bugs["is_default"] and bugs["metrics"]["clean_functions"] > 0
    assert any(n == "pyforge-quality" and m["is_default"] for (n, _), m in by_name.items())
    card = await client.get(f"{ML}/models/pyforge-bugs/{bugs['version']}", headers=headers)
    assert "Model card" in card.json()["card"]
    assert (await client.get(f"{ML}/models/pyforge-bugs/9.9.9", headers=headers)).status_code == 404

    # A second version of the same file stands in for a retrained model.
    async with runtime.db.transaction() as session:
        row = await session.scalar(select(MlModel).where(MlModel.name == "pyforge-bugs"))
        assert row is not None
        session.add(MlModel(name=row.name, version="1.0.1", sha256=row.sha256,
                            size_bytes=row.size_bytes, threshold=row.threshold,
                            metrics=row.metrics, card=row.card))  # fmt: skip
    denied = await client.put(f"{ML}/models/pyforge-bugs/default", headers=headers,
                              json={"version": "1.0.1"})  # fmt: skip
    assert denied.status_code == 403

    admin = await register_and_login(client)
    await make_admin(runtime, admin)
    admin_headers = {"Authorization": f"Bearer {admin.access_token}"}
    for version in ("1.0.1", bugs["version"]):  # release, then roll back
        moved = await client.put(f"{ML}/models/pyforge-bugs/default", headers=admin_headers,
                                 json={"version": version})  # fmt: skip
        assert moved.status_code == 200, moved.text
        served = await client.post(f"{ML}/detect/bugs", headers=headers, json={"code": BUGGY})
        assert served.json()["model_version"] == version
        defaults = [m["version"] for m in (await client.get(
            f"{ML}/models", params={"name": "pyforge-bugs"}, headers=headers)).json()
            if m["is_default"]]  # fmt: skip
        assert defaults == [version]
    async with runtime.db.session() as session:
        events = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "ml.model.updated")
        )
    assert events == 2


def _zip(tree: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in tree.items():
            zf.writestr(name, text)
    return buf.getvalue()


async def _wait_predictions(client: httpx.AsyncClient, headers: dict[str, str], aid: str) -> Any:
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        resp = await client.get(f"/api/v1/analyses/{aid}/predictions", headers=headers)
        if resp.status_code == 200:
            return resp.json()
        assert resp.status_code == 404, resp.text
        assert asyncio.get_running_loop().time() < deadline, "no predictions in time"
        await asyncio.sleep(0.1)


async def test_ml_consumer_attaches_predictions(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await _auth(client)
    pid = (await client.post("/api/v1/projects", json={"name": "ml"}, headers=headers)).json()["id"]
    up = await client.post(f"/api/v1/projects/{pid}/files", headers=headers, files={
        "file": ("t.zip", _zip({"pkg/pick.py": BUGGY, "pkg/bad.py": "def f(:\n", "README.md": "x"}))})  # fmt: skip
    assert up.status_code == 201, up.text
    aid = (await client.post(f"/api/v1/projects/{pid}/analyses", headers=headers)).json()["id"]

    body = await _wait_predictions(client, headers, aid)
    assert body["files_analysed"] == 1
    assert [f["path"] for f in body["quality"]["files"]] == ["pkg/pick.py"]
    assert body["quality"]["project"]["level"] in "ABCDE"
    assert "pkg/bad.py" in (body["note"] or "")
    assert body["detector_version"] and body["quality_version"]

    other = await register_and_login(client)
    hidden = await client.get(f"/api/v1/analyses/{aid}/predictions",
                              headers={"Authorization": f"Bearer {other.access_token}"})  # fmt: skip
    assert hidden.status_code == 404

    async with runtime.db.session() as session:
        rows = await session.scalar(select(func.count()).select_from(AnalysisPrediction))
    assert rows == 1


async def test_suggest_refactor(client: httpx.AsyncClient) -> None:
    headers = await _auth(client)
    code = "def even(n):\n    if n % 2 == 0:\n        return True\n    else:\n        return False\n"
    resp = await client.post(f"{ML}/suggest/refactor", headers=headers, json={"code": code})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert "rules" in body["model_version"]
    assert any(s["rule"] == "REF106" and s["safe"] for s in body["suggestions"])
    assert body["fixes"] == {"REF106": 1}
    assert "n % 2 == 0" in body["fixed"] and "if " not in body["fixed"]
    bad = await client.post(f"{ML}/suggest/refactor", headers=headers, json={"code": "def f(:\n"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(PROBLEM)
    assert (await client.post(f"{ML}/suggest/refactor", json={"code": code})).status_code == 401

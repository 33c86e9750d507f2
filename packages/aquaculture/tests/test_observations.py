"""Observations over HTTP on both backends: classify, refuse safely, history, CSV, counts,
labels, labelled data, batch jobs with progress, and the model's facts."""

import asyncio
import csv
import io
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import numpy as np
from aquaculture.classifier.serving import ModelCard, predictions
from aquaculture.testing import fish_png, make_farm
from PIL import Image
from sqlalchemy import func, select

from forgekit.identity.testing import message_text, register_and_login, sink_messages
from forgekit.runtime import Runtime


def _stored(runtime: Runtime) -> set[Path]:
    root: Path = runtime.storage.root  # type: ignore[attr-defined]
    return {p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts}


def _gps_jpeg() -> bytes:
    img = Image.open(io.BytesIO(fish_png(3, seed=2)))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (59.0, 20.0, 0.0), 3: "E", 4: (18.0, 4.0, 0.0)}
    exif[0x0112] = 1
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _half_jpeg() -> bytes:
    data = fish_png(1, seed=3, fmt="JPEG")
    return data[: len(data) // 2]


async def _obs_count(runtime: Runtime) -> int:
    from aquaculture.observations.models import Observation

    async with runtime.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Observation)) or 0)


async def test_upload_classifies_and_stores_a_clean_image(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    resp = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=user.headers,
        files={"file": ("cam.jpg", _gps_jpeg(), "image/jpeg")},
        data={"observed_at": "2026-05-01T08:00:00Z"},
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["job"] is None and "SYNTHETIC" in body["model_note"]
    (obs,) = body["observations"]
    model = (await client.get("/api/v1/model", headers=user.headers)).json()
    assert model["synthetic"] is True and "SYNTHETIC" in model["note"]
    assert obs["model_version"] == model["version"]
    assert len(obs["top_k"]) == 3 and obs["species"] == obs["top_k"][0]["species"]
    assert obs["species"] in model["classes"]
    probs = [t["probability"] for t in obs["top_k"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    assert obs["unsure"] == (obs["confidence"] < model["unsure_threshold"])
    assert obs["observed_at"].startswith("2026-05-01T08:00")
    # The stored original has no EXIF (no GPS); the signed link serves it.
    stored = await client.get(obs["image_url"])
    assert stored.status_code == 200
    img = Image.open(io.BytesIO(stored.content))
    assert img.format == "JPEG" and not img.getexif()
    thumb = Image.open(io.BytesIO((await client.get(obs["thumbnail_url"])).content))
    assert max(thumb.size) <= 256


async def test_refusals_are_problems_and_store_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    url = f"/api/v1/farms/{farm}/tanks/{tank}/observations"
    before = _stored(runtime)
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, format="PNG")
    bad_zip = io.BytesIO()
    with zipfile.ZipFile(bad_zip, "w") as z:
        z.writestr("ok.png", fish_png())
        z.writestr("script.sh", b"#!/bin/sh\nrm -rf /\n")
    cases = [
        ("a.png", b"<svg/>", 415),
        ("a.gif", gif.getvalue(), 415),
        ("bomb.png", bomb.getvalue(), 422),
        ("x.zip", bad_zip.getvalue(), 415),
        ("t.png", fish_png()[:300], 415),
    ]
    for name, data, status in cases:
        resp = await client.post(
            url, headers=user.headers, files={"file": (name, data, "image/png")}
        )
        assert resp.status_code == status, (name, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    assert _stored(runtime) == before
    assert await _obs_count(runtime) == 0


async def test_history_filters_csv_counts_and_labels(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register_and_login(client)
    farm, site, tank = await make_farm(client, user.headers)
    tank2 = (
        await client.post(
            f"/api/v1/farms/{farm}/sites/{site}/tanks", json={"name": "T2"}, headers=user.headers
        )
    ).json()["id"]
    ids = []
    for i, (t, day) in enumerate(
        [(tank, "2026-05-01"), (tank, "2026-05-01"), (tank, "2026-05-03"), (tank2, "2026-05-02")]
    ):
        resp = await client.post(
            f"/api/v1/farms/{farm}/tanks/{t}/observations",
            headers=user.headers,
            files={"file": (f"=cmd{i}.png", fish_png(i, seed=i), "image/png")},
            data={"observed_at": f"{day}T10:00:00"},
        )
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["observations"][0]["id"])
    base = f"/api/v1/farms/{farm}"
    page = (
        await client.get(
            f"{base}/observations", params={"tank_id": tank, "limit": 2}, headers=user.headers
        )
    ).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert page["items"][0]["observed_at"] >= page["items"][1]["observed_at"]
    since = (
        await client.get(
            f"{base}/observations",
            params={"since": "2026-05-02", "until": "2026-05-03"},
            headers=user.headers,
        )
    ).json()
    assert [o["id"] for o in since["items"]] == [ids[3]]
    bad = await client.get(
        f"{base}/observations", params={"since": "yesterday"}, headers=user.headers
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    # Correct the first observation, confirm the second.
    first = (await client.get(f"{base}/observations/{ids[0]}", headers=user.headers)).json()
    corrected = await client.post(
        f"{base}/observations/{ids[0]}/label", json={"species": "wild_salmon"}, headers=user.headers
    )
    assert corrected.status_code == 200 and corrected.json()["label"] == "wild_salmon"
    assert corrected.json()["labelled_by"] == str(user.id) and corrected.json()["labelled_at"]
    second = (await client.get(f"{base}/observations/{ids[1]}", headers=user.headers)).json()
    await client.post(
        f"{base}/observations/{ids[1]}/label",
        json={"species": second["species"]},
        headers=user.headers,
    )
    history = (
        await client.get(f"{base}/observations/{ids[0]}/corrections", headers=user.headers)
    ).json()
    assert [(c["action"], c["predicted"], c["species"], c["created_by"]) for c in history] == [
        ("correct", first["species"], "wild_salmon", str(user.id))
    ]
    confirmed = (
        await client.get(f"{base}/observations/{ids[1]}/corrections", headers=user.headers)
    ).json()
    assert confirmed[0]["action"] == "confirm"
    bad_label = await client.post(
        f"{base}/observations/{ids[0]}/label", json={"species": "=1+1"}, headers=user.headers
    )
    assert bad_label.status_code == 422
    # The label wins over the prediction in filters and counts.
    salmon = (
        await client.get(
            f"{base}/observations", params={"species": "wild_salmon"}, headers=user.headers
        )
    ).json()
    assert [o["id"] for o in salmon["items"]] == [ids[0]]
    labelled = (
        await client.get(f"{base}/observations", params={"labelled": "true"}, headers=user.headers)
    ).json()
    assert labelled["total"] == 2
    counts = (await client.get(f"{base}/tanks/{tank}/species-counts", headers=user.headers)).json()
    assert counts["bucket"] == "day"
    assert {"period": "2026-05-01", "species": "wild_salmon", "count": 1} in counts["points"]
    assert sum(p["count"] for p in counts["points"]) == 3
    assert {p["period"] for p in counts["points"]} == {"2026-05-01", "2026-05-03"}
    monthly = (
        await client.get(
            f"{base}/tanks/{tank}/species-counts", params={"bucket": "month"}, headers=user.headers
        )
    ).json()
    assert {p["period"] for p in monthly["points"]} == {"2026-05"}
    # CSV export: the filters apply, formula-like cells are neutralised.
    resp = await client.get(
        f"{base}/observations.csv", params={"tank_id": tank}, headers=user.headers
    )
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 3 and all(r["filename"].startswith("'=cmd") for r in rows)
    assert {r["label"] for r in rows} == {"wild_salmon", second["species"], ""}
    # Labelled data: an ImageFolder zip, split by tank (the source), ready for training.
    resp = await client.get(f"{base}/labelled-data.zip", headers=user.headers)
    names = zipfile.ZipFile(io.BytesIO(resp.content)).namelist()
    assert sorted(n.split("/")[0] for n in names) == sorted(["wild_salmon", second["species"]])
    assert all("/src-" in n and "__" in n and n.endswith(".png") for n in names)


async def test_a_large_batch_runs_as_a_job_with_progress(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(40):
            z.writestr(f"img{i:02d}.png", fish_png(i % 6, seed=100 + i, size=64))
    resp = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=user.headers,
        files={"file": ("batch.zip", archive.getvalue(), "application/zip")},
    )
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    assert job["total"] == 40 and job["status"] == "queued" and resp.json()["observations"] == []
    seen = set()
    deadline = time.monotonic() + 120
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)
        job = (
            await client.get(f"/api/v1/farms/{farm}/jobs/{job['id']}", headers=user.headers)
        ).json()
        seen.add(job["status"])
    assert job["status"] == "done" and job["processed"] == 40 and job["progress"] == 1.0, job
    assert job["finished_at"]
    listed = (
        await client.get(
            f"/api/v1/farms/{farm}/observations", params={"limit": 200}, headers=user.headers
        )
    ).json()
    assert listed["total"] == 40 and {o["job_id"] for o in listed["items"]} == {job["id"]}
    assert sorted(o["filename"] for o in listed["items"]) == [f"img{i:02d}.png" for i in range(40)]
    # The creator hears that it is done.
    await runtime.events.drain(60)
    mails = [
        m
        for m in sink_messages(runtime.settings.mail_sink_dir)
        if m["To"] == user.email and m["Subject"].startswith("Aquaculture")
    ]
    assert [m["Subject"] for m in mails] == ["Aquaculture: batch done"]
    assert "40 classified, 0 failed" in message_text(mails[0])


async def test_small_batches_classify_inline(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(6):
            z.writestr(f"s{i}.webp", fish_png(i, seed=7, fmt="WEBP"))
    resp = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=user.headers,
        files={"file": ("b.zip", archive.getvalue(), "application/zip")},
    )
    assert resp.status_code == 201, resp.text
    obs = resp.json()["observations"]
    assert [o["filename"] for o in obs] == [f"s{i}.webp" for i in range(6)]
    assert all(o["content_type"] == "image/webp" for o in obs)
    # The shipped model recognises most of its own synthetic species.
    from aquaculture.classifier.synth import SPECIES_NAMES

    assert sum(o["species"] == SPECIES_NAMES[i] for i, o in enumerate(obs)) >= 4


def test_unsure_flag_follows_the_calibrated_threshold() -> None:
    card = ModelCard(
        version="v1",
        sha256="0" * 64,
        classes=["a", "b", "c"],
        input_size=8,
        unsure_threshold=0.6,
        synthetic=True,
        raw={},
    )
    sure, unsure = predictions(np.array([[0.7, 0.2, 0.1], [0.5, 0.1, 0.4]]), card, top_k=2)
    assert (sure.species, sure.unsure, sure.confidence) == ("a", False, 0.7)
    assert (unsure.species, unsure.unsure) == ("a", True)
    assert [t["species"] for t in unsure.top_k] == ["a", "c"]


async def test_predictions_are_counted_on_metrics(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    resp = await client.post(
        f"/api/v1/farms/{farm}/tanks/{tank}/observations",
        headers=user.headers,
        files={"file": ("a.png", fish_png(4, seed=9), "image/png")},
    )
    species = resp.json()["observations"][0]["species"]
    text = (await client.get("/metrics")).text
    assert f'species="{species}"' in text
    assert "aquaculture_prediction_confidence_count 1.0" in text
    assert "aquaculture_inference_" in text  # the kit's inference runtime, same registry


def test_out_of_distribution_logits_are_unsure_however_peaked() -> None:
    card = ModelCard(version="v1", sha256="0" * 64, classes=["a", "b"], input_size=8,
                     unsure_threshold=0.6, synthetic=True, raw={}, min_max_logit=2.0)
    probs = np.array([[0.99, 0.01], [0.99, 0.01]])
    known, strange = predictions(probs, card, top_k=2, logits=np.array([[5.0, 0.0], [1.5, -3.0]]))
    assert not known.unsure and strange.unsure


async def test_a_real_photo_of_a_cat_is_flagged_unsure(client: httpx.AsyncClient) -> None:
    """The default model knows synthetic fish only; a real photograph is out of distribution."""
    import skimage.data

    cat = (Path(skimage.data.__file__).parent / "chelsea.png").read_bytes()
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    resp = await client.post(f"/api/v1/farms/{farm}/tanks/{tank}/observations", headers=user.headers,
                             files={"file": ("cat.png", cat, "image/png")})
    assert resp.status_code == 201, resp.text
    assert resp.json()["observations"][0]["unsure"] is True


async def test_a_stalled_job_is_requeued_and_resumes_where_it_stopped(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A worker died after the first chunk: the sweep re-queues the job, the next claim
    classifies only the images not yet counted."""
    from datetime import timedelta

    from aquaculture.observations.models import BatchJob
    from aquaculture.observations.tasks import CHUNK, BatchRunner

    from forgekit.db.base import utcnow

    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(CHUNK + 5):
            z.writestr(f"i{i:02d}.png", fish_png(i % 6, seed=i, size=48))
    stored = await runtime.storage.put_bytes(archive.getvalue())
    async with runtime.db.transaction() as s:
        job = BatchJob(farm_id=uuid.UUID(farm), tank_id=uuid.UUID(tank), created_by=user.id, archive_sha256=stored.key,
                       total=CHUNK + 5, processed=CHUNK, failed=0, status="running")
        s.add(job)
    async with runtime.db.transaction() as s:
        (await s.get(BatchJob, job.id)).updated_at = utcnow() - timedelta(hours=1)
    (runner,) = [svc for svc in runtime.services if isinstance(svc, BatchRunner)]
    assert await runner.sweep() == 1
    assert await runner.sweep() == 0  # queued now, not running
    deadline = time.monotonic() + 60
    while (body := (await client.get(f"/api/v1/farms/{farm}/jobs/{job.id}", headers=user.headers)).json())["status"] != "done":
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)
    assert body["processed"] == CHUNK + 5
    listed = (await client.get(f"/api/v1/farms/{farm}/observations", params={"limit": 200}, headers=user.headers)).json()
    # Only the 5 images after the counted chunk were classified again.
    assert sorted(o["filename"] for o in listed["items"]) == [f"i{i:02d}.png" for i in range(CHUNK, CHUNK + 5)]


async def test_a_damaged_image_in_a_job_is_counted_failed_not_fatal(client: httpx.AsyncClient) -> None:
    user = await register_and_login(client)
    farm, _, tank = await make_farm(client, user.headers)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(21):
            z.writestr(f"ok{i:02d}.png", fish_png(i % 6, seed=i, size=48))
        z.writestr("half.jpg", _half_jpeg())
    resp = await client.post(f"/api/v1/farms/{farm}/tanks/{tank}/observations", headers=user.headers,
                             files={"file": ("b.zip", archive.getvalue(), "application/zip")})
    assert resp.status_code == 202, resp.text
    job = resp.json()["job"]
    deadline = time.monotonic() + 60
    while job["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)
        job = (await client.get(f"/api/v1/farms/{farm}/jobs/{job['id']}", headers=user.headers)).json()
    assert (job["status"], job["processed"], job["failed"], job["progress"]) == ("done", 21, 1, 1.0)

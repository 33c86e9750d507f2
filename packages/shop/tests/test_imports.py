"""Catalogue CSV import through the worker job (progress, report of rejected rows, all
accepted products in one transaction), the streamed export, and a fuzzed parser."""

import asyncio
import csv
import io
import time
import uuid
from datetime import timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shop.catalogue.models import Product
from shop.imports.csvformat import parse
from shop.imports.models import ImportJob
from shop.imports.service import Superseded, run_import
from shop.imports.tasks import ImportJanitor
from shop.testing import make_channel, staff_user
from sqlalchemy import func, select

from forgekit.db.base import utcnow
from forgekit.errors import Unprocessable
from forgekit.runtime import Runtime

PROBLEM = "application/problem+json"
HEADER = "slug,name,category,attributes,published,sku,variant_attributes,weight_grams,price_eu"
GOOD_AND_BAD = "\n".join([
    HEADER,
    "mug,Stoneware mug,kitchen,brand=Clay,true,MUG-W,colour=white,350,1200",  # 2 ok
    "mug,,,,,MUG-B,colour=black,350,1250",  # 3 ok (same product)
    "tee,Tee,,,false,TEE-S,size=S,150,abc",  # 4 bad price -> rejects the whole "tee"
    "tee,Tee,,,false,TEE-M,size=M,150,1900",  # 5 rejected with its product
    "lamp,Lamp,nowhere,,true,LAMP-1,,900,5000",  # 6 unknown category
    "bowl,Bowl,kitchen,,true,MUG-W,,200,800",  # 7 SKU repeated from line 2
    "Bad Slug,Name,,,true,BAD-1,,1,1",  # 8 invalid slug
    "spoon,Spoon,,,true,SPOON-1,,20,300",  # 9 ok
])  # fmt: skip


async def _finished(client: httpx.AsyncClient, headers: dict, job: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = (await client.get(f"/api/v1/catalogue/imports/{job}", headers=headers)).json()
        if body["status"] in ("done", "failed"):
            return dict(body)
        await asyncio.sleep(0.05)
    raise AssertionError("the import job did not finish")


async def test_import_report_and_export_round_trip(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    cat = await client.post("/api/v1/categories", headers=staff.headers,
                            json={"slug": "kitchen", "name": "Kitchen"})  # fmt: skip
    assert cat.status_code == 201
    url = "/api/v1/catalogue/imports"
    for bad, why in ((b"\xff\xfe", "not UTF-8"), (b"slug,name\n", "lacks"),
                     (b"slug,name,sku,price_mars\n", "mars"), (b"slug,name,sku,colour\n", "colour")):  # fmt: skip
        resp = await client.post(url, headers=staff.headers, files={"file": ("c.csv", bad)})
        assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM, resp.text
        assert why in resp.json()["detail"]
    started = await client.post(url, headers=staff.headers,
                                files={"file": ("catalogue.csv", GOOD_AND_BAD.encode())})  # fmt: skip
    assert started.status_code == 202, started.text
    assert started.json()["total"] == 8
    job = await _finished(client, staff.headers, started.json()["id"])
    assert job["status"] == "done", job
    assert (job["processed"], job["accepted"], job["rejected"], job["progress"]) == (8, 3, 5, 1.0)
    report = {r["line"]: r["reason"] for r in job["report"]}
    assert sorted(report) == [4, 5, 6, 7, 8]
    assert "price_eu" in report[4] and "line 4" in report[5]
    assert "nowhere" in report[6] and "line 2" in report[7]
    mug = (await client.get("/api/v1/products/by-slug/mug")).json()
    assert sorted(v["sku"] for v in mug["variants"]) == ["MUG-B", "MUG-W"]
    assert (
        await client.get("/api/v1/products/by-slug/tee", headers=staff.headers)
    ).status_code == 404

    # The same file again: every product exists now, so every row is rejected, none written.
    again = await client.post(url, headers=staff.headers,
                              files={"file": ("catalogue.csv", GOOD_AND_BAD.encode())})  # fmt: skip
    job2 = await _finished(client, staff.headers, again.json()["id"])
    assert (job2["accepted"], job2["rejected"]) == (0, 8)

    async with client.stream("GET", "/api/v1/catalogue/export.csv", headers=staff.headers) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
        exported = (await resp.aread()).decode()
    rows = exported.strip().splitlines()
    assert rows[0].startswith("slug,name,description,category") and len(rows) == 4
    assert any(r.startswith("mug,Stoneware mug,,kitchen,brand=Clay,true,MUG-B") for r in rows)
    # What was exported parses back into the same products.
    parsed = parse(exported, 1000)
    assert not parsed.rejects
    assert sorted(g.product.slug for g in parsed.groups) == ["mug", "spoon"]


async def _left_running(runtime: Runtime, staff_id: uuid.UUID, data: bytes, attempts: int,
                        beat_age: timedelta = timedelta(hours=1)) -> str:  # fmt: skip
    """What a worker killed mid-import leaves: the job ``running``, some progress committed,
    no product written, the heartbeat ``beat_age`` old."""
    stored = await runtime.storage.put_bytes(data, content_type="text/csv")
    async with runtime.db.transaction() as s:
        job = ImportJob(created_by=staff_id, status="running", attempts=attempts,
                        csv_sha256=stored.key, total=2, processed=1, report=[],
                        updated_at=utcnow() - beat_age)  # fmt: skip
        s.add(job)
    return str(job.id)


async def test_an_import_whose_worker_died_is_requeued_and_finishes_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    janitor = next(s for s in runtime.services if isinstance(s, ImportJanitor))
    crashed = await _left_running(runtime, staff.id, f"{HEADER}\n{GOOD_AND_BAD.splitlines()[-1]}\n"
                                 "cup,Cup,,,true,CUP-1,,300,700\n".encode(), attempts=1)  # fmt: skip
    hopeless = await _left_running(runtime, staff.id, b"slug,name,sku\nx,X,X-1\n", attempts=3)
    # A live run's heartbeat is fresh: the janitor leaves it alone.
    fresh = await _left_running(runtime, staff.id, b"slug,name,sku\ny,Y,Y-1\n", attempts=1,
                                beat_age=timedelta(0))  # fmt: skip

    # (The janitor's own periodic pass may have got there first: the outcome is what counts.)
    await janitor.run_once()
    job = await _finished(client, staff.headers, crashed)
    assert job["status"] == "done", job
    assert (job["processed"], job["accepted"], job["rejected"]) == (2, 2, 0)
    gone = await _finished(client, staff.headers, hopeless)
    assert gone["status"] == "failed" and "3 times" in gone["error"], gone
    async with runtime.db.session() as s:
        assert (await s.get_one(ImportJob, uuid.UUID(fresh))).status == "running"
        assert (await s.get_one(ImportJob, uuid.UUID(crashed))).attempts == 2
    # The first attempt, had it been only slow, finds its fence gone and writes nothing.
    with pytest.raises(Superseded):
        await run_import(runtime.db, runtime.storage, runtime.app_settings, uuid.UUID(crashed), 1)
    assert await janitor.run_once() == 0
    async with runtime.db.session() as s:
        slugs = (await s.execute(select(Product.slug, func.count()).where(
            Product.slug.in_(["spoon", "cup", "x"])).group_by(Product.slug))).all()  # fmt: skip
    assert sorted(slugs) == [("cup", 1), ("spoon", 1)]


CELLS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
ROW = st.lists(st.one_of(CELLS, st.sampled_from(["mug", "MUG-1", "12", "a=b;c=1", "true"])),
               min_size=0, max_size=8)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(ROW, max_size=12), quoting=st.booleans())
def test_fuzzed_csv_never_crashes_and_never_splits_a_product(
    rows: list[list[str]], quoting: bool
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quoting else csv.QUOTE_MINIMAL)
    writer.writerow(["slug", "name", "sku", "attributes", "published", "price_eu"])
    writer.writerows(rows)
    try:
        parsed = parse(out.getvalue(), 1000)
    except Unprocessable:
        return  # a malformed file is one problem+json, never a crash
    accepted = [line for g in parsed.groups for line in g.lines]
    # Every row is accounted for once: accepted in one product, or rejected with a reason.
    assert len(accepted) == len(set(accepted))
    assert not set(accepted) & set(parsed.rejects)
    assert all(parsed.rejects.values())
    for group in parsed.groups:
        # Nothing half-imported: an accepted product holds every row of its slug.
        rows_of_slug = sum(1 for row in rows if row and row[0].strip() == group.product.slug)
        assert len(group.lines) == len(group.product.variants) == rows_of_slug

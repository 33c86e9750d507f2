"""Catalogue CSV import (queued for the worker role) and export (streamed).

Policy (README): rows are checked one by one and a rejected row is reported with its line and
reason; a product (all rows sharing a slug) is imported whole or not at all; the accepted
products are written in ONE transaction per import, together with the job's final counts, so
a reader sees none of them or all of them, never a half-imported file. Should the catalogue
change between the check and the write (another import took a slug or SKU), that transaction
rolls back and the job fails with the reason: nothing of it is imported.

A worker killed mid-run commits none of the products (they are written only by the final
transaction) and leaves the job ``running`` with a heartbeat that stops moving:
:func:`requeue_stale` (run by the janitor in :mod:`shop.imports.tasks`) queues it again once
the heartbeat is older than ``SHOP_IMPORT_LEASE_S``. Each claim increments ``attempts``, and
every write of a run (progress, result, failure) is a conditional update on ``status =
'running' AND attempts = <its attempt>``: a run that was taken for dead but was only slow finds
its fence gone and writes nothing (:class:`Superseded`), so a job finishes exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.csv_export import csv_line
from forgekit.db import Database
from forgekit.db.base import utcnow
from forgekit.errors import NotFound, Unprocessable
from forgekit.events.outbox import enqueue
from forgekit.storage import ObjectStorage
from shop.catalogue.models import Category, Channel, Product, Variant, VariantPrice
from shop.catalogue.service import products
from shop.events import IMPORT_REQUESTED, ImportRequested
from shop.imports import csvformat
from shop.imports.csvformat import Group, Parsed, reject_group
from shop.imports.models import ImportJob
from shop.imports.schemas import ImportRead
from shop.settings import ShopSettings

log = logging.getLogger("shop.imports")

#: Rows checked between two progress commits.
PROGRESS_EVERY = 200
#: Products read per query while exporting.
EXPORT_PAGE = 200


def import_read(job: ImportJob) -> ImportRead:
    """A job with its progress share."""
    read = ImportRead.model_validate(job)
    read.progress = round(job.processed / job.total, 4) if job.total else 1.0
    return read


async def queue_import(
    session: AsyncSession, storage: ObjectStorage, settings: ShopSettings,
    user_id: uuid.UUID, data: bytes, filename: str,
) -> ImportJob:  # fmt: skip
    """Check the file's encoding, header and size, store it and queue the job (commits).
    A refusal (413, 422) queues nothing."""
    text = csvformat.decode(data)
    total = await asyncio.to_thread(csvformat.count_rows, text, settings.import_max_rows)
    channels = csvformat.read_header(text)
    known = set((await session.execute(
        select(Channel.code).where(Channel.code.in_(channels)))).scalars())  # fmt: skip
    if unknown := [c for c in channels if c not in known]:
        raise Unprocessable(f"Unknown channel(s) in price columns: {', '.join(unknown)}.")
    stored = await storage.put_bytes(data, content_type="text/csv")
    job = ImportJob(created_by=user_id, status="queued", filename=filename[:255],
                    csv_sha256=stored.key, total=total, report=[])  # fmt: skip
    session.add(job)
    await session.flush()
    await enqueue(session, IMPORT_REQUESTED, ImportRequested(job_id=job.id))
    await session.commit()
    return job


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    """A job (404 when unknown)."""
    job = await session.get(ImportJob, job_id, populate_existing=True)
    if job is None:
        raise NotFound("Import job not found.")
    return job


class Superseded(Exception):
    """This run's attempt no longer holds the job (it was re-queued and claimed again, or
    finished): nothing of it may be written."""


async def claim(session: AsyncSession, job_id: uuid.UUID) -> int | None:
    """Move a ``queued`` job to ``running`` and return the attempt's number (None when the
    job is not queued: already claimed, finished or gone). One conditional update, so two
    deliveries racing claim it once."""
    stmt = (
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == "queued")
        .values(status="running", attempts=ImportJob.attempts + 1, processed=0,
                updated_at=utcnow())
        .returning(ImportJob.attempts)
    )  # fmt: skip
    return (await session.execute(stmt)).scalar_one_or_none()


async def fenced(
    session: AsyncSession, job_id: uuid.UUID, attempt: int, **values: Any
) -> bool:  # fmt: skip
    """Write ``values`` (and the heartbeat) if ``attempt`` still runs the job; False if not."""
    stmt = (
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == "running",
               ImportJob.attempts == attempt)
        .values(updated_at=utcnow(), **values)
    )  # fmt: skip
    return int((await session.execute(stmt)).rowcount) == 1  # type: ignore[attr-defined]


async def requeue_stale(
    db: Database, lease_s: float, max_attempts: int, *, now: datetime | None = None
) -> int:
    """Queue again every ``running`` job whose heartbeat is older than ``lease_s`` (its
    worker died), or mark it ``failed`` once it was claimed ``max_attempts`` times; returns
    how many jobs it moved. Concurrent janitors skip each other's rows (PostgreSQL) or take
    turns at the single writer (SQLite)."""
    before = (now or utcnow()) - timedelta(seconds=lease_s)
    async with db.transaction() as session:
        stmt = (
            select(ImportJob)
            .where(ImportJob.status == "running", ImportJob.updated_at < before)
            .order_by(ImportJob.updated_at)
            .limit(100)
        )
        if not db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True)
        stale = (await session.execute(stmt)).scalars().all()
        for job in stale:
            if job.attempts >= max_attempts:
                log.error("import job %s: its worker died %d times, giving up", job.id,
                          job.attempts)  # fmt: skip
                job.status, job.finished_at = "failed", utcnow()
                job.error = (f"The worker stopped {job.attempts} times while running this "
                             "import; nothing was imported.")  # fmt: skip
            else:
                log.warning("import job %s: no heartbeat since %s, re-queued", job.id,
                            job.updated_at)  # fmt: skip
                job.status = "queued"
                await enqueue(session, IMPORT_REQUESTED, ImportRequested(job_id=job.id))
        return len(stale)


async def _taken(session: AsyncSession, parsed: Parsed) -> None:
    """Reject products whose slug or SKU exists, or whose category does not."""
    slugs = [g.product.slug for g in parsed.groups]
    skus = [v.sku for g in parsed.groups for v in g.product.variants]
    cats = {g.category for g in parsed.groups if g.category}
    found_slugs = set((await session.execute(
        select(Product.slug).where(Product.slug.in_(slugs)))).scalars())  # fmt: skip
    found_skus = set((await session.execute(
        select(Variant.sku).where(Variant.sku.in_(skus)))).scalars())  # fmt: skip
    rows = await session.execute(select(Category.slug, Category.id).where(Category.slug.in_(cats)))
    categories = {slug: cid for slug, cid in rows.all()}
    for group in list(parsed.groups):
        reason = _refusal(group, found_slugs, found_skus, categories)
        if reason:
            reject_group(parsed, group, reason)
        elif group.category:
            group.product.category_id = categories[group.category]


def _refusal(
    group: Group, slugs: set[str], skus: set[str], categories: dict[str, uuid.UUID]
) -> str | None:
    if group.product.slug in slugs:
        return f"a product with slug {group.product.slug!r} exists"
    if taken := [v.sku for v in group.product.variants if v.sku in skus]:
        return f"SKU {taken[0]!r} exists"
    if group.category and group.category not in categories:
        return f"unknown category {group.category!r}"
    return None


async def _checked(db: Database, job_id: uuid.UUID, attempt: int, parsed: Parsed) -> None:
    """Database checks in slices, each slice's progress committed (``processed``)."""
    groups, done = list(parsed.groups), 0
    for start in range(0, len(groups), PROGRESS_EVERY):
        part = Parsed(groups[start : start + PROGRESS_EVERY], parsed.rejects, 0, parsed.channels)
        async with db.session() as session:
            await _taken(session, part)
        kept = set(map(id, part.groups))
        for group in groups[start : start + PROGRESS_EVERY]:
            if id(group) not in kept:
                parsed.groups.remove(group)
        done += sum(len(g.lines) for g in groups[start : start + PROGRESS_EVERY])
        async with db.transaction() as session:
            processed = min(parsed.total, done + len(parsed.rejects))
            if not await fenced(session, job_id, attempt, processed=processed):
                raise Superseded(job_id)


async def run_import(db: Database, storage: ObjectStorage, settings: ShopSettings,
                     job_id: uuid.UUID, attempt: int) -> None:  # fmt: skip
    """Check every row, then write the accepted products and the report in one transaction.
    Raises :class:`Superseded` (having written nothing) when ``attempt`` no longer holds
    the job."""
    async with db.session() as session:
        job = await get_job(session, job_id)
        key, actor = job.csv_sha256, job.created_by
    text = csvformat.decode(await storage.read(key))
    parsed = await asyncio.to_thread(csvformat.parse, text, settings.import_max_rows)
    await _checked(db, job_id, attempt, parsed)
    if settings.import_halt_before_write:
        log.warning("import job %s halted before its write (test hook)", job_id)
        await asyncio.Event().wait()
    async with db.transaction() as session:
        # First statement: the fence (its row lock also keeps janitors off this job).
        if not await fenced(session, job_id, attempt):
            raise Superseded(job_id)
        for group in parsed.groups:
            product = await products.add(session, actor, group.product)
            if group.published:
                product.published_at = utcnow()
        job = await get_job(session, job_id)
        accepted = sum(len(g.lines) for g in parsed.groups)
        job.total, job.processed = parsed.total, parsed.total
        job.accepted, job.rejected = accepted, len(parsed.rejects)
        job.report = [{"line": n, "reason": r} for n, r in sorted(parsed.rejects.items())]
        job.status, job.finished_at = "done", utcnow()


async def export_rows(db: Database) -> AsyncIterator[str]:
    """The live catalogue as CSV lines (the import's format), a page of products at a time,
    each page read in its own short session so a long download holds no transaction."""
    async with db.session() as session:
        rows = await session.execute(select(Channel.code, Channel.id).order_by(Channel.code))
        channels = [(code, cid) for code, cid in rows.all()]
    yield csv_line([*csvformat.COLUMNS, *(f"price_{c}" for c, _ in channels)])
    after: uuid.UUID | None = None
    while True:
        async with db.session() as session:
            page = await _export_page(session, after)
            if not page:
                return
            for product in page:
                for line in await _product_lines(session, product, channels):
                    yield line
            after = page[-1].id


async def _export_page(session: AsyncSession, after: uuid.UUID | None) -> Sequence[Product]:
    stmt = select(Product).where(Product.deleted_at.is_(None)).order_by(Product.id)
    if after is not None:
        stmt = stmt.where(Product.id > after)
    return (await session.execute(stmt.limit(EXPORT_PAGE))).scalars().all()


def _pairs(values: dict[str, object]) -> str:
    return ";".join(f"{k}={v}" for k, v in sorted(values.items()))


async def _product_lines(
    session: AsyncSession, product: Product, channels: list[tuple[str, uuid.UUID]]
) -> list[str]:
    variants = (await session.execute(
        select(Variant).where(Variant.product_id == product.id, Variant.deleted_at.is_(None))
        .order_by(Variant.sku))).scalars().all()  # fmt: skip
    prices = {(p.variant_id, p.channel_id): p.amount for p in (await session.execute(
        select(VariantPrice).where(VariantPrice.variant_id.in_([v.id for v in variants]))
    )).scalars()}  # fmt: skip
    category = await session.get(Category, product.category_id) if product.category_id else None
    head = [product.slug, product.name, product.description, category.slug if category else "",
            _pairs(product.attributes), "true" if product.published_at else "false"]  # fmt: skip
    return [csv_line([
        *head, v.sku, v.name, str(v.weight_grams), _pairs(v.attributes),
        *(str(prices.get((v.id, cid), "")) for _, cid in channels),
    ]) for v in variants]  # fmt: skip

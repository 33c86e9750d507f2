"""Review sentiment on both backends: the worker scores a new review, a redelivery writes
nothing, an edit is scored again, the product summary, and the batch command."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from shop.events import REVIEW_CREATED
from shop.reviews.models import Review
from shop.reviews.tasks import ServingNotStarted
from shop.testing import delivered_order, make_channel, make_product, staff_user, stock_variant
from sqlalchemy import select, update
from typer.testing import CliRunner

from forgekit.events.consumer import Outcome, deliver
from forgekit.events.envelope import Event
from forgekit.identity.testing import TestUser, register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings

from .conftest import install

DEADLINE_S = 60.0
LABELS = {"negative", "neutral", "positive"}


async def _until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while not (found := await check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)
    return found


async def _reviews(runtime: Runtime) -> dict[uuid.UUID, Review]:
    async with runtime.db.session() as session:
        return {r.id: r for r in (await session.scalars(select(Review))).all()}


async def _scored(runtime: Runtime, rid: str, newer_than: Any = None) -> Review | None:
    review = (await _reviews(runtime))[uuid.UUID(rid)]
    at = review.sentiment_scored_at
    return review if at is not None and (newer_than is None or at > newer_than) else None


async def _shop(client: httpx.AsyncClient, runtime: Runtime) -> tuple[TestUser, dict[str, Any]]:
    staff = await staff_user(client, runtime)
    await make_channel(client, staff)
    product = await make_product(client, staff, prices={"eu": 1000})
    await stock_variant(client, staff, product["variants"][0]["id"], {"main": 10})
    return staff, product


async def _review(
    client: httpx.AsyncClient, staff: TestUser, product: dict[str, Any], title: str, body: str
) -> tuple[TestUser, dict[str, Any]]:
    customer = await register_and_login(client)
    await delivered_order(client, staff, customer, product["variants"][0]["id"])
    made = await client.post(f"/api/v1/products/{product['id']}/reviews", headers=customer.headers,
                             json={"rating": 3, "title": title, "body": body})  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["sentiment"] is None
    return customer, made.json()


async def test_worker_scores_new_and_edited_reviews_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await install(runtime, "sentiment")
    staff, product = await _shop(client, runtime)
    author, review = await _review(client, staff, product, "Way too tight",
                                   "The sizing is off and it arrived two weeks late.")  # fmt: skip
    rid = review["id"]
    first = await _until(lambda: _scored(runtime, rid), "the new review's score")
    assert first.sentiment_label == "negative" and first.sentiment_model_version == 1
    assert first.language == "en" and 0 < (first.sentiment_probability or 0) <= 1
    assert set(first.sentiment_aspects or {}) == {"size_fit", "delivery"}
    queue = (await client.get("/api/v1/reviews/queue", headers=staff.headers)).json()
    shown = queue[0]["sentiment"]
    assert shown["label"] == first.sentiment_label and shown["model_version"] == 1
    assert set(shown["aspects"]) == {"size_fit", "delivery"} and shown["language"] == "en"

    # At-least-once delivery: the same event twice is the kit's duplicate, and another event
    # for the already scored review (say, an outbox row published twice) writes nothing.
    sub = runtime.events.subscriptions["ml.sentiment"]
    event = Event(type=REVIEW_CREATED, payload={"review_id": rid, "product_id": product["id"]})
    assert await deliver(runtime.db, sub, event) is Outcome.HANDLED
    assert await deliver(runtime.db, sub, event) is Outcome.DUPLICATE
    again = (await _reviews(runtime))[uuid.UUID(rid)]
    assert again.sentiment_scored_at == first.sentiment_scored_at
    assert again.sentiment_aspects == first.sentiment_aspects
    # A worker consuming before its serving has loaded the models hands the event back to the
    # kit's retry (nothing recorded) rather than leaving the review unscored.
    serving = runtime.ml  # type: ignore[attr-defined]
    serving.ready = False
    early = Event(type=REVIEW_CREATED, payload=event.payload)
    with pytest.raises(ServingNotStarted):
        await deliver(runtime.db, sub, early)
    serving.ready = True
    assert await deliver(runtime.db, sub, early) is Outcome.HANDLED

    # An edit of the text drops the old score at once and the worker scores the new text.
    url = f"/api/v1/reviews/{rid}"
    other = await register_and_login(client)
    assert (await client.patch(url, headers=other.headers, json={"title": "x"})).status_code == 403
    assert (await client.patch(url, headers=author.headers, json={})).status_code == 422
    new_body = {"body": "Fits perfectly and the quality exceeded what I expected."}
    edited = await client.patch(url, headers=author.headers, json=new_body)
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["sentiment"] is None and body["status"] == "pending" and body["edited_at"]
    second = await _until(lambda: _scored(runtime, rid, first.sentiment_scored_at), "a re-score")
    assert set(second.sentiment_aspects or {}) == {"size_fit", "quality"}
    assert second.sentiment_label == "positive"

    # Approved: the public listing carries it, and the product summary counts it.
    done = await client.post(f"{url}/moderation", headers=staff.headers,
                             json={"decision": "approve"})  # fmt: skip
    assert done.status_code == 200, done.text
    page = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()
    assert page["items"][0]["sentiment"]["label"] == second.sentiment_label
    summary = await client.get(f"/api/v1/products/{product['id']}/reviews/sentiment")
    assert summary.status_code == 200, summary.text
    s = summary.json()
    assert (s["reviews"], s["scored"], s["overall"]["count"]) == (1, 1, 1)
    assert s["overall"][second.sentiment_label] == 1.0
    assert s["aspects"]["quality"]["count"] == 1
    assert s["aspects"]["price"] == {"count": 0, "positive": None, "neutral": None,
                                     "negative": None}  # fmt: skip
    missing = await client.get(f"/api/v1/products/{uuid.uuid4()}/reviews/sentiment")
    assert missing.status_code == 404


async def test_unscored_without_a_model_then_caught_up_and_batch_scored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    forge_settings: ForgeSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="shop.reviews.sentiment")
    staff, product = await _shop(client, runtime)
    for title in ("Great value for money", "The parcel was damaged"):
        await _review(client, staff, product, title, "")
    await runtime.events.drain(DEADLINE_S)
    assert all(r.sentiment_scored_at is None for r in (await _reviews(runtime)).values())
    assert "no sentiment model is promoted yet" in caplog.text

    # Promoting the first model asks the worker to score what waited.
    await install(runtime, "sentiment")

    async def all_scored() -> bool:
        rows = (await _reviews(runtime)).values()
        return all(r.sentiment_scored_at is not None for r in rows)

    await _until(all_scored, "the catch-up job")

    # The batch command, on reviews without a score (as after the migration), then on all.
    async with runtime.db.transaction() as session:
        await session.execute(update(Review).values(sentiment_scored_at=None, sentiment_label=None))
    from shop.cli import app
    from shop.settings import get_settings

    monkeypatch.setenv("FORGE_DATABASE_URL", forge_settings.effective_database_url)
    monkeypatch.setenv("SHOP_DATA_DIR", str(forge_settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        unscored = await asyncio.to_thread(runner.invoke, app, ["sentiment", "score", "--unscored"])
        assert unscored.exit_code == 0, unscored.output
        assert "2 reviews scored with sentiment model v1" in unscored.output
        rows = await _reviews(runtime)
        assert all(r.sentiment_label in LABELS for r in rows.values())
        before = max(r.sentiment_scored_at for r in rows.values() if r.sentiment_scored_at)
        nothing = await asyncio.to_thread(runner.invoke, app, ["sentiment", "score"])
        assert nothing.exit_code == 0 and "0 reviews scored" in nothing.output, nothing.output
        every = await asyncio.to_thread(runner.invoke, app, ["sentiment", "score", "--all"])
        assert every.exit_code == 0 and "2 reviews scored" in every.output, every.output
        after = (await _reviews(runtime)).values()
        assert all(r.sentiment_scored_at and r.sentiment_scored_at > before for r in after)
        # --queue leaves the same job to a worker (here the app's in-process consumers).
        latest = max(r.sentiment_scored_at for r in after if r.sentiment_scored_at)
        queued = await asyncio.to_thread(runner.invoke, app, ["sentiment", "score", "--all",
                                                              "--queue"])  # fmt: skip
        assert queued.exit_code == 0 and "queued sentiment job" in queued.output, queued.output

        async def rescored() -> bool:
            rows = (await _reviews(runtime)).values()
            return all(r.sentiment_scored_at and r.sentiment_scored_at > latest for r in rows)

        await _until(rescored, "the queued job")
    finally:
        get_settings.cache_clear()

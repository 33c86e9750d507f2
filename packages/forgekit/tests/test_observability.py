"""Request ids, JSON logs, Prometheus metrics and health probes."""

import json
import logging

import httpx
import pytest

from forgekit.observability.context import reset_request_id, set_request_id
from forgekit.observability.logging import JsonFormatter


async def test_request_id_is_honoured_or_generated(client: httpx.AsyncClient) -> None:
    given = await client.get("/live", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await client.get("/live")
    assert len(generated.headers["x-request-id"]) == 32
    # An id that could inject into logs or headers is replaced, not echoed.
    hostile = await client.get("/live", headers={"X-Request-ID": "a b\r<script>"})
    assert hostile.headers["x-request-id"] != "a b\r<script>"
    assert len(hostile.headers["x-request-id"]) == 32


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "hello %s", ("you",), None)
    record.user_id = "u1"
    record.color_message = "\x1b[36mhello\x1b[0m"
    token = set_request_id("rid-1")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        reset_request_id(token)
    assert line["message"] == "hello you"
    assert line["request_id"] == "rid-1"
    assert line["user_id"] == "u1"
    assert line["level"] == "info"
    assert "color_message" not in line


async def test_metrics_expose_requests_latency_and_outbox(client: httpx.AsyncClient) -> None:
    await client.get("/live")
    resp = await client.get("/metrics")
    assert resp.status_code == 200
    text = resp.text
    assert 'forgetest_requests_total{endpoint="/live",method="GET",status="200"} 1.0' in text
    assert "forgetest_request_duration_seconds_bucket" in text
    assert "forgetest_requests_in_progress" in text
    assert "forgetest_outbox_pending_events" in text
    assert "forgetest_outbox_lag_seconds" in text


@pytest.mark.parametrize("path", ["/live", "/ready", "/health", "/health/detailed"])
async def test_probes_are_up(client: httpx.AsyncClient, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code == 200, resp.text


async def test_detailed_health_lists_each_backend(client: httpx.AsyncClient, backend: str) -> None:
    body = (await client.get("/health/detailed")).json()
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["status"] == "up" for check in body["checks"].values())
    assert body["embedded"] is (backend == "embedded")


async def test_ready_reports_a_down_database(client: httpx.AsyncClient, runtime) -> None:
    await runtime.db.dispose()
    original = runtime.db.engine.url
    from sqlalchemy.ext.asyncio import create_async_engine

    # Point the engine at a database that does not exist: readiness must turn 503.
    if original.get_backend_name() == "sqlite":
        runtime.db.engine = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/x.db")
    else:
        runtime.db.engine = create_async_engine(original.set(port=1))
    resp = await client.get("/ready")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"]["status"] == "down"
    await runtime.db.engine.dispose()

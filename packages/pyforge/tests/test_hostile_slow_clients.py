"""Hostile clients at the HTTP layer against the real ``pyforge serve`` (uvicorn) process:
slowloris heads, trickled bodies and oversized heads are cut within a bound
(``forgekit.http_guard``), never answered with a 500, while other clients are served meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from forgekit.testing.faults import record
from forgekit.testing.servers import ServedProduct, serve_product
from forgekit.testing.slowclients import Outcome, in_threads, raw_request, slow_body, slow_head

pytestmark = pytest.mark.hostile
#: Short limits so the test is quick; production defaults are 10 s and 20 s (README). Not
#: shorter: the same server must read every normal client's head and body within them, and a
#: busy machine can stall a process for a second or more.
HEAD_TIMEOUT_S, BODY_TIMEOUT_S = 3.0, 4.0
#: How long past its limit a cut may take on a busy 2-core machine: generous, and still well
#: short of the attackers' own 30 s deadline, so only the server's cut meets the bound.
SLACK_S = 15.0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProduct]:
    with serve_product("pyforge.cli", "PYFORGE", tmp_path_factory.mktemp("slow"),
                       FORGE_HTTP_HEAD_TIMEOUT_S=str(HEAD_TIMEOUT_S),
                       FORGE_HTTP_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
                       FORGE_HTTP_BODY_MIN_RATE_BPS="1024") as product:  # fmt: skip
        yield product


def _served_meanwhile(base: str, attack: threading.Thread) -> list[float]:
    """Normal requests while ``attack`` runs: each must succeed; their latencies."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        while attack.is_alive() or not latencies:
            started = time.monotonic()
            resp = client.get("/live")
            assert resp.status_code == 200, resp.text
            latencies.append(time.monotonic() - started)
            attack.join(timeout=0.2)
    return latencies


def _attack(count: int, fn: object, *args: object, **kwargs: object) -> tuple[
        threading.Thread, list[Outcome]]:  # fmt: skip
    outcomes: list[Outcome] = []
    thread = threading.Thread(
        target=lambda: outcomes.extend(in_threads(count, fn, *args, **kwargs)), daemon=True
    )
    thread.start()
    return thread, outcomes


def test_slowloris_heads_and_bodies_are_cut_while_others_are_served(served: ServedProduct) -> None:
    heads, head_outcomes = _attack(20, slow_head, served.base)
    bodies, body_outcomes = _attack(5, slow_body, served.base, "/auth/register")
    latencies = _served_meanwhile(served.base, heads)
    latencies += _served_meanwhile(served.base, bodies)
    assert len(head_outcomes) == 20 and len(body_outcomes) == 5
    for o in head_outcomes:
        assert o.status == 408 and o.seconds < HEAD_TIMEOUT_S + SLACK_S, o
    for o in body_outcomes:
        # Cut at ~4 s plus one second per 1,024 bytes received: a few bytes buy nothing.
        assert o.closed_cleanly and o.seconds < BODY_TIMEOUT_S + SLACK_S, o
        assert o.bytes_sent < 200, o
    record("slowloris", slow_heads=len(head_outcomes), slow_bodies=len(body_outcomes),
           head_statuses=sorted({o.status for o in head_outcomes}),
           body_statuses=sorted({str(o.status) for o in body_outcomes}),
           max_head_cut_s=round(max(o.seconds for o in head_outcomes), 2),
           max_body_cut_s=round(max(o.seconds for o in body_outcomes), 2),
           normal_requests_meanwhile=len(latencies),
           max_normal_latency_s=round(max(latencies), 2))  # fmt: skip


@pytest.mark.parametrize(
    "extra",
    [b"".join(b"X-Many-%d: v\r\n" % i for i in range(200)),
     b"X-Huge: " + b"a" * 200_000 + b"\r\n",
     b"Cookie: " + b"; ".join(b"c%d=%s" % (i, b"v" * 100) for i in range(1_000)) + b"\r\n"],
    ids=["many-headers", "one-huge-header", "huge-cookie"],
)  # fmt: skip
def test_oversized_heads_get_431_never_a_500(served: ServedProduct, extra: bytes) -> None:
    head = b"GET /live HTTP/1.1\r\nHost: x\r\n" + extra + b"Connection: close\r\n\r\n"
    outcome = raw_request(served.base, head)
    assert outcome.status == 431, outcome
    # A head within the limits (an 8 KiB cookie) is served, and the server stays up.
    cookie = "; ".join(f"c{i}={'v' * 100}" for i in range(80))
    resp = httpx.get(f"{served.base}/live", headers={"Cookie": cookie}, timeout=30)
    assert resp.status_code == 200
    record("oversized-head", case=extra[:12].decode(errors="replace").split(":")[0],
           head_bytes=len(head), status=outcome.status, seconds=round(outcome.seconds, 2))  # fmt: skip

"""Unit tests of topic matching and the event envelope (no backend needed)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from forgekit.events import Event, EventType, MalformedEventError, topic_matches
from forgekit.events.consumer import MAX_RETRY_DELAY_S, Subscription, retry_delay
from forgekit.events.patterns import matches_any, validate_pattern
from forgekit.identity.events import KIT_EVENT_TYPES


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("analysis.completed", "analysis.completed", True),
        ("analysis.completed", "analysis.failed", False),
        ("analysis.*", "analysis.completed", True),
        ("analysis.*", "analysis", False),
        ("analysis.*", "analysis.a.b", False),
        ("*.completed", "analysis.completed", True),
        ("*.completed", "ml.prediction.completed", False),
        ("*", "system", True),
        ("*", "system.alert", False),
        ("#", "a", True),
        ("#", "a.b.c", True),
        ("ml.#", "ml", True),
        ("ml.#", "ml.prediction.completed", True),
        ("ml.#", "mlx.prediction", False),
        ("#.completed", "completed", True),
        ("#.completed", "ml.prediction.completed", True),
        ("#.completed", "ml.prediction.failed", False),
        ("ml.#.completed", "ml.completed", True),
        ("ml.#.completed", "ml.prediction.completed", True),
        ("ml.#.completed", "ml.a.b.completed", True),
        ("ml.#.completed", "ml.a.b.failed", False),
        ("*.#", "a", True),
        ("*.#", "a.b.c", True),
        ("#.*", "a", True),
        ("*.*", "a", False),
        ("#.#", "a.b", True),
        ("a.*.#.z", "a.b.z", True),
        ("a.*.#.z", "a.z", False),
        ("user.password_reset_requested", "user.password_reset_requested", True),
    ],
)
def test_topic_matches_like_amqp(pattern: str, key: str, expected: bool) -> None:
    assert topic_matches(pattern, key) is expected


def test_matches_any() -> None:
    assert matches_any(["project.*", "analysis.completed"], "analysis.completed")
    assert not matches_any(["project.*", "analysis.completed"], "analysis.failed")


@pytest.mark.parametrize("bad", ["", "a..b", "a.b c", "a.b*", "#x"])
def test_invalid_patterns_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_pattern(bad)


def test_envelope_round_trip_and_defaults() -> None:
    event = Event(type="analysis.requested", payload={"analysis_id": "x"})
    assert event.type == "analysis.requested"
    assert event.timestamp.tzinfo is not None
    assert event.schema_version == 1
    again = Event.from_json(event.to_json())
    assert again == event
    assert Event.from_dict(event.to_dict()) == event


def test_envelope_normalises_timestamp_to_utc() -> None:
    local = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    event = Event(type="x.y", timestamp=local)
    assert event.timestamp == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert event.timestamp.utcoffset() == timedelta(0)


def _envelope(**changes: object) -> bytes:
    data: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "type": "a.b",
        "payload": {},
        "metadata": {},
        "timestamp": "2024-01-01T00:00:00Z",
    }
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"{}",
        _envelope(id="nope"),
        # A naive timestamp is refused: an envelope's time is never ambiguous.
        _envelope(timestamp="2024-01-01T00:00:00"),
        # A wildcard in the type would be a binding pattern, not a routing key.
        _envelope(type="a.*"),
        _envelope(payload=[]),
        _envelope(unexpected="field"),
    ],
)
def test_malformed_envelopes_rejected(data: bytes) -> None:
    with pytest.raises(MalformedEventError):
        Event.from_json(data)


def test_the_kit_declares_only_its_own_event_types() -> None:
    assert {str(t) for t in KIT_EVENT_TYPES} == {
        "user.registered",
        "user.verification_requested",
        "user.password_reset_requested",
        "user.mfa_enabled",
        "user.mfa_disabled",
    }


class _Payload(BaseModel):
    analysis_id: uuid.UUID
    files: int = 0


def test_typed_event_type_is_its_name_and_parses_its_payload() -> None:
    done = EventType("thing.done", _Payload)
    assert done == "thing.done" and topic_matches("thing.*", done)
    ident = uuid.uuid4()
    event = Event(type=done, payload=done.payload(analysis_id=ident, files=3).model_dump(mode="json"))
    assert done.parse(Event.from_json(event.to_json())) == _Payload(analysis_id=ident, files=3)
    with pytest.raises(MalformedEventError):
        done.parse(Event(type="thing.done", payload={"analysis_id": "not-a-uuid"}))
    with pytest.raises(MalformedEventError):
        done.parse(Event(type="thing.other", payload={"analysis_id": str(ident)}))
    with pytest.raises(ValueError):
        EventType("thing.*", _Payload)

def test_retry_delay_is_exponential_and_capped() -> None:
    assert [retry_delay(0.5, n) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert retry_delay(1.0, 100) == MAX_RETRY_DELAY_S


async def _noop(event: Event, session: object) -> None:
    return None


def test_subscription_validates_names_and_patterns() -> None:
    with pytest.raises(ValueError):
        Subscription("Bad Name", ("a.*",), _noop)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Subscription("ok", (), _noop)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Subscription("ok", ("a..b",), _noop)  # type: ignore[arg-type]
    sub = Subscription("notify", ("project.*", "analysis.completed"), _noop)  # type: ignore[arg-type]
    assert sub.matches("project.created") and not sub.matches("analysis.failed")

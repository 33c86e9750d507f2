"""Fraud scoring with its records: one case per order, history, rules, staff feedback."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound
from shop.ml.fraud.data import OrderRow, sorted_orders
from shop.ml.fraud.features import FEATURE_NAMES, CustomerHistory, CustomerState
from shop.ml.fraud.model import Decision
from shop.ml.fraud.rules import DEFAULT_RULES, Rule
from shop.ml.models import CaseStatus, FraudCase, FraudRuleRow
from shop.ml.serving import MlServing, Verdict


async def rules(session: AsyncSession) -> list[Rule]:
    """The stored rules; the defaults until staff store any."""
    rows = (await session.execute(select(FraudRuleRow).order_by(FraudRuleRow.name))).scalars()
    stored = [Rule(r.name, r.feature, r.op, r.threshold, r.weight, r.message, r.enabled)
              for r in rows]  # fmt: skip
    return stored or list(DEFAULT_RULES)


async def put_rule(session: AsyncSession, rule: Rule) -> Rule:
    """Create or replace a rule (the defaults are stored first, so editing one keeps the rest);
    commits."""
    if (await session.execute(select(FraudRuleRow.name).limit(1))).first() is None:
        for default in DEFAULT_RULES:
            session.add(FraudRuleRow(**asdict(default)))
        await session.flush()
    row = await session.get(FraudRuleRow, rule.name)
    if row is None:
        session.add(FraudRuleRow(**asdict(rule)))
    else:
        for key, value in asdict(rule).items():
            setattr(row, key, value)
        row.updated_at = utcnow()
    await session.commit()
    return rule


async def state_from_db(session: AsyncSession, order: OrderRow) -> CustomerState | None:
    """The fallback of the online store: the customer's state rebuilt from the orders scored
    before ``order`` (None: no earlier order)."""
    stmt = select(FraudCase.order_data).where(FraudCase.customer_ref == order.customer)
    earlier = [OrderRow.from_mapping(d) for d in (await session.execute(stmt)).scalars()]
    history = CustomerHistory()
    for past in sorted_orders(o for o in earlier if o.time < order.time):
        history.add(past)
    return history.state(order.customer)


async def case_for(session: AsyncSession, order_ref: str) -> FraudCase | None:
    """The case of an order, if it was scored."""
    stmt = select(FraudCase).where(FraudCase.order_ref == order_ref)
    return (await session.execute(stmt)).scalar_one_or_none()


async def holds_capture(session: AsyncSession, order_ref: str) -> bool:
    """Whether the order's case forbids capturing its payment: scored ``review`` or
    ``decline`` and not cleared by staff as a false positive (an order never scored holds
    nothing: checkout scores every order it places)."""
    stmt = select(FraudCase.id).where(
        FraudCase.order_ref == order_ref,
        FraudCase.decision != Decision.APPROVE.value,
        FraudCase.status != CaseStatus.FALSE_POSITIVE.value,
    )
    return (await session.execute(stmt)).first() is not None


async def _state(
    session: AsyncSession, serving: MlServing, order: OrderRow
) -> CustomerState | None:
    state = await serving.features.get(order.customer)
    if state is None:
        # Missing or expired online: rebuild from the database once, then serve it online.
        state = await state_from_db(session, order)
        if state is not None:
            await serving.features.put(order.customer, state)
    return state


@dataclass
class Assessed:
    """An order's verdict and its case, not yet stored (:func:`assess`)."""

    case: FraudCase
    order: OrderRow
    state: CustomerState | None
    verdict: Verdict
    features: np.ndarray
    started: float


async def assess(session: AsyncSession, serving: MlServing, order: OrderRow) -> Assessed:
    """Score an order without writing anything: the caller adds :attr:`Assessed.case` to its
    transaction and calls :func:`settled` once that committed.

    The customer's features come from the online store (one cache read), the rules from the
    process's copy (:data:`shop.ml.serving.RULES_TTL_S`), the forest from the cached ONNX
    session.
    """
    started = time.perf_counter()
    state = await _state(session, serving, order)
    engine = await serving.rules(lambda: rules(session))
    verdict, features = await serving.score_order(order, state, engine)
    return Assessed(_case(order, verdict, features), order, state, verdict, features, started)


async def settled(serving: MlServing, assessed: Assessed) -> None:
    """After the case committed: the online store counts the order in the customer's
    history, and the verdict is counted and timed. (Before the commit, a rolled-back order
    would count.)"""
    await serving.features.record(assessed.order, assessed.state)
    serving.observe(assessed.verdict, assessed.features, time.perf_counter() - assessed.started)


async def score(session: AsyncSession, serving: MlServing, order: OrderRow) -> FraudCase:
    """Score an order once and store its case on its own: a second call for the same order
    returns the first verdict; commits (checkout stores the case in its own transaction
    instead: :func:`assess`)."""
    assessed = await assess(session, serving, order)
    await _no_flush_wait(session)  # before the add: its statement would flush the case
    session.add(assessed.case)
    try:
        await session.commit()
    except IntegrityError:
        # Scored before (a retry, or a concurrent call first): that verdict stands.
        await session.rollback()
        first = await case_for(session, order.order_id)
        if first is None:
            raise
        return first
    await settled(serving, assessed)
    return assessed.case


async def _no_flush_wait(session: AsyncSession) -> None:
    # The case is derived data (scoring the order again rebuilds it), so its commit need not
    # wait for PostgreSQL's WAL flush, which was most of checkout's wait on a busy disk.
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def _case(order: OrderRow, verdict: Verdict, features: np.ndarray) -> FraudCase:
    data: dict[str, Any] = {**asdict(order), "fraud": None}
    return FraudCase(
        order_ref=order.order_id, customer_ref=order.customer, amount_minor=order.amount_minor,
        currency=order.currency, score=verdict.score, model_score=verdict.model_score or 0.0,
        rules_score=verdict.rules_score, decision=verdict.decision,
        hits=[asdict(h) for h in verdict.hits],
        features={n: float(v) for n, v in zip(FEATURE_NAMES, features, strict=True)},
        order_data=data, model_version=verdict.model_version,
        status=CaseStatus.APPROVED if verdict.decision == Decision.APPROVE else CaseStatus.OPEN,
    )  # fmt: skip


async def cases(session: AsyncSession, status: str | None, limit: int) -> list[FraudCase]:
    """Cases, newest first; the staff queue is ``status=open``."""
    stmt = select(FraudCase).order_by(FraudCase.created_at.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(FraudCase.status == status)
    return list((await session.execute(stmt)).scalars())


async def feedback(
    session: AsyncSession, case_id: uuid.UUID, label: str, by: uuid.UUID
) -> FraudCase:
    """Record staff's verdict on an open case (409 when already resolved); commits."""
    case = await session.get(FraudCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound("No such fraud case.")
    if case.status in (CaseStatus.CONFIRMED_FRAUD, CaseStatus.FALSE_POSITIVE):
        raise Conflict(f"The case is already resolved as {case.status}.")
    case.status = label
    case.order_data = {**case.order_data, "fraud": label == CaseStatus.CONFIRMED_FRAUD}
    case.resolved_by, case.resolved_at = by, utcnow()
    await session.commit()
    return case

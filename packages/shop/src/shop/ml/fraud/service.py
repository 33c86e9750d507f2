"""Fraud scoring with its records: one case per order, history, rules, staff feedback."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.features import FEATURE_NAMES, CustomerHistory
from shop.ml.fraud.model import Decision
from shop.ml.fraud.rules import DEFAULT_RULES, Rule, RulesEngine
from shop.ml.models import CaseStatus, FraudCase, FraudRuleRow
from shop.ml.serving import MlServing


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


async def _history(session: AsyncSession, order: OrderRow) -> CustomerHistory:
    stmt = select(FraudCase.order_data).where(FraudCase.customer_ref == order.customer)
    earlier = [OrderRow.from_mapping(d) for d in (await session.execute(stmt)).scalars()]
    history = CustomerHistory()
    for past in sorted((o for o in earlier if o.time < order.time), key=lambda o: o.time):
        history.add(past)
    return history


async def case_for(session: AsyncSession, order_ref: str) -> FraudCase | None:
    """The case of an order, if it was scored."""
    stmt = select(FraudCase).where(FraudCase.order_ref == order_ref)
    return (await session.execute(stmt)).scalar_one_or_none()


async def score(session: AsyncSession, serving: MlServing, order: OrderRow) -> FraudCase:
    """Score an order once: a second call for the same order returns the first verdict;
    commits."""
    existing = await case_for(session, order.order_id)
    if existing is not None:
        return existing
    history = await _history(session, order)
    engine = RulesEngine(await rules(session))
    verdict, features = await serving.score_order(order, history, engine)
    data: dict[str, Any] = {**asdict(order), "fraud": None}
    case = FraudCase(
        order_ref=order.order_id, customer_ref=order.customer, amount_minor=order.amount_minor,
        currency=order.currency, score=verdict.score, model_score=verdict.model_score or 0.0,
        rules_score=verdict.rules_score, decision=verdict.decision,
        hits=[asdict(h) for h in verdict.hits],
        features={n: float(v) for n, v in zip(FEATURE_NAMES, features, strict=True)},
        order_data=data, model_version=verdict.model_version,
        status=CaseStatus.APPROVED if verdict.decision == Decision.APPROVE else CaseStatus.OPEN,
    )  # fmt: skip
    session.add(case)
    try:
        await session.commit()
    except IntegrityError:
        # A concurrent call scored the same order first: its verdict stands.
        await session.rollback()
        first = await case_for(session, order.order_id)
        if first is None:
            raise
        return first
    return case


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

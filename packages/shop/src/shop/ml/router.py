"""The ML services over HTTP: recommendations, fraud scoring and cases, review sentiment,
demand forecasts, and the model registry."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.cache.keys import cache_key
from forgekit.deps import SessionDep
from forgekit.errors import Forbidden, NotFound, ServiceUnavailable
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from shop.checkout import screening
from shop.ml import schemas
from shop.ml.forecast.backtest import Forecast, reorder_suggestion
from shop.ml.fraud import service as fraud
from shop.ml.fraud.data import OrderRow
from shop.ml.fraud.rules import Rule
from shop.ml.models import MlModelVersion
from shop.ml.sentiment.scoring import analyse
from shop.ml.serving import MlServing
from shop.ml.settings import MlSettings
from shop.ml.training import repository
from shop.ml.training.service import check_kind, rollback
from shop.permissions import Permission
from shop.runtime import ShopRuntime, ShopRuntimeDep

router = APIRouter(prefix="/api/v1", tags=["ml"])

Staff = Annotated[Principal, Depends(require_scopes(Permission.ORDER_MANAGE))]
Buyer = Annotated[Principal, Depends(require_scopes(Permission.SHOP))]
SETTINGS = MlSettings()


async def _serving(runtime: ShopRuntime, session: AsyncSession) -> MlServing:
    if runtime.ml is None:
        raise ServiceUnavailable("The ML services are not running in this process.")
    await runtime.ml.refresh(session)
    return runtime.ml


def _missing(kind: str) -> ServiceUnavailable:
    return ServiceUnavailable(f"No {kind} model is trained yet: run `shop train {kind}`.")


@router.get("/recommendations", operation_id="ml-recommendations")
async def recommendations(
    runtime: ShopRuntimeDep,
    principal: Buyer,
    session: SessionDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    product: Annotated[str | None, Query(max_length=64)] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> schemas.Recommendations:
    """Top-k for a customer (ALS); unknown or absent customers get the products popular in
    ``product``'s category (else overall), and ``product`` adds "bought together". Cached."""
    # Another customer's recommendations say what they looked at: staff only.
    own = customer is None or customer == str(principal.user.id)
    if not own and Permission.ORDER_MANAGE not in principal.scopes:
        raise Forbidden("Only staff may read another customer's recommendations.")
    serving = await _serving(runtime, session)
    model = serving.recs
    if model is None:
        raise _missing("recs")
    key = cache_key("ml-recs", model.version, customer or "-", product or "-", k)
    cached = await runtime.cache.get(key)
    if cached is not None:
        return schemas.Recommendations.model_validate(cached)
    result = await model.recommend(customer, product, k)
    out = schemas.Recommendations(
        **result, bought_together=model.bought_together(product, k) if product else [],
        synthetic=model.synthetic,
    )  # fmt: skip
    await runtime.cache.set(key, out.model_dump(), SETTINGS.recs_cache_ttl_s)
    return out


def _order(data: schemas.OrderIn) -> OrderRow:
    return OrderRow(
        order_id=data.order_id, customer=data.customer, amount_minor=data.amount_minor,
        currency=data.currency, time=data.placed_at.timestamp(), device=data.device,
        address=data.address, bill_country=data.bill_country, ship_country=data.ship_country,
        ip_country=data.ip_country, account_created=data.account_created.timestamp(),
    )  # fmt: skip


@router.post("/fraud/score", operation_id="ml-fraud_score")
async def score_order(
    data: schemas.OrderIn, _: Staff, runtime: ShopRuntimeDep, session: SessionDep
) -> schemas.FraudCaseOut:
    """Score an order before capture; the same order scored again returns the first verdict."""
    case = await fraud.score(session, await _serving(runtime, session), _order(data))
    return schemas.FraudCaseOut.model_validate(case)


@router.get("/fraud/cases", operation_id="ml-fraud_cases")
async def fraud_cases(
    _: Staff,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=24)] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[schemas.FraudCaseOut]:
    """The staff queue (``status=open``) or cases of another status, newest first."""
    rows = await fraud.cases(session, status, limit)
    return [schemas.FraudCaseOut.model_validate(r) for r in rows]


@router.post("/fraud/cases/{case_id}/feedback", operation_id="ml-fraud_feedback")
async def fraud_feedback(
    case_id: uuid.UUID,
    data: schemas.Feedback,
    principal: Staff,
    session: SessionDep,
    runtime: ShopRuntimeDep,
) -> schemas.FraudCaseOut:
    """Confirm fraud or mark a false positive (stored as a label for retraining). On an order
    held for review this is the decision: a false positive releases its payment (captured
    now if authorised), confirmed fraud cancels the order and voids its payment."""
    actor = principal.user.id
    case = await screening.resolve(session, runtime.payments, case_id, data.label, actor)
    return schemas.FraudCaseOut.model_validate(case)


@router.get("/fraud/rules", operation_id="ml-fraud_rules")
async def fraud_rules(_: Staff, session: SessionDep) -> list[schemas.RuleOut]:
    """The rules in force."""
    return [schemas.RuleOut.model_validate(r.as_dict()) for r in await fraud.rules(session)]


@router.put("/fraud/rules/{name}", operation_id="ml-fraud_rule_put")
async def put_fraud_rule(
    name: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")],
    data: schemas.RuleIn, _: Staff, session: SessionDep, runtime: ShopRuntimeDep,
) -> schemas.RuleOut:  # fmt: skip
    """Create or change a rule (threshold, weight, message, enabled); this process scores
    with it at once, the others within ``RULES_TTL_S``."""
    rule = await fraud.put_rule(session, Rule(name=name, **data.model_dump()))
    if runtime.ml is not None:
        runtime.ml.forget_rules()
    return schemas.RuleOut.model_validate(rule.as_dict())


@router.post("/sentiment", operation_id="ml-sentiment")
async def sentiment(
    data: schemas.SentimentIn, _: Buyer, runtime: ShopRuntimeDep, session: SessionDep
) -> schemas.SentimentOut:
    """Label, probabilities, aspect sentiment and language of a review text."""
    model = (await _serving(runtime, session)).sentiment
    if model is None:
        raise _missing("sentiment")
    (result,) = await analyse(model, [data.text])
    return schemas.SentimentOut(
        label=result.label, probability=result.probability, probabilities=result.probabilities,
        aspects=result.aspects, language=result.language,
        language_probability=result.language_probability, model_version=model.version,
    )  # fmt: skip


@router.get("/forecasts/{product}/{warehouse}", operation_id="ml-forecast")
async def forecast(
    product: str,
    warehouse: str,
    query: Annotated[schemas.ForecastQuery, Query()],
    runtime: ShopRuntimeDep,
    _: Staff,
    session: SessionDep,
) -> schemas.ForecastOut:
    """The latest daily forecast with its interval, accuracy, and a reorder suggestion when
    ``on_hand`` is given."""
    serving = await _serving(runtime, session)
    if serving.forecasts is None or serving.forecast_version is None:
        raise _missing("forecast")
    entry = serving.forecasts.get(f"{product}@{warehouse}")
    if entry is None:
        raise NotFound(f"No forecast for product {product!r} at warehouse {warehouse!r}.")
    f: dict[str, Any] = entry["forecast"]
    cut = {k: f[k][: query.horizon] for k in ("point", "lower", "upper")}
    arrays = [np.asarray(cut[k]) for k in ("point", "lower", "upper")]
    fc = Forecast(entry["model"], arrays[0], arrays[1], arrays[2], f["level"])
    reorder = None
    if query.on_hand is not None:
        reorder = reorder_suggestion(fc, query.lead_time, query.on_hand)
    return schemas.ForecastOut(
        product=product, warehouse=warehouse, model=entry["model"], start=f["start"],
        level=f["level"], point=cut["point"], lower=cut["lower"], upper=cut["upper"],
        mase={str(k): v for k, v in entry["mase"].items()}, coverage=entry["coverage"],
        reorder=reorder,
        model_version=serving.forecast_version, synthetic=serving.forecast_synthetic,
    )  # fmt: skip


@router.get("/ml/models", operation_id="ml-models")
async def models(
    _: Staff, session: SessionDep, kind: Annotated[str | None, Query()] = None
) -> list[schemas.VersionOut]:
    """Registered versions (active, standby, rejected, retired), newest first."""
    rows = await repository.versions(session, check_kind(kind) if kind else None)
    return [schemas.VersionOut.model_validate(r) for r in rows]


@router.get("/ml/runs", operation_id="ml-runs")
async def runs(
    _: Staff, session: SessionDep, kind: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[schemas.RunOut]:  # fmt: skip
    """Training runs, newest first."""
    rows = await repository.runs(session, check_kind(kind) if kind else None, limit)
    return [schemas.RunOut.model_validate(r) for r in rows]


@router.post("/ml/models/{kind}/rollback", operation_id="ml-rollback")
async def rollback_model(
    kind: str, _: Staff, runtime: ShopRuntimeDep, session: SessionDep
) -> schemas.VersionOut:
    """Serve the previous version again (409 when none is kept)."""
    version: MlModelVersion = await rollback(session, kind)
    if runtime.ml is not None:
        await runtime.ml.refresh(session, force=True)
    return schemas.VersionOut.model_validate(version)

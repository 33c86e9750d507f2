"""Hosted inference: authorise, limit, validate, (cache,) run batched, meter.

The order matters: nothing reaches the model before the caller is authorised (scope or
grant), within their rate limit and within the free tier, and before the inputs have been
checked against the signature; a counted call and its usage event commit together.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, Forbidden, ProblemError, Unprocessable
from forgekit.identity.principal import Principal
from forgekit.inference import ServedModel
from modelhub.billing.repository import BillingRepository
from modelhub.grants.repository import GrantRepository
from modelhub.inference.errors import FreeTierExhausted, ModelRejectedInputs, NotServable
from modelhub.inference.schemas import InferRequest, InferResponse, InferResult, Inputs
from modelhub.inference.tensors import Array, decode_inputs, encode_outputs, inputs_digest
from modelhub.permissions import INFERENCE_SCOPE
from modelhub.registry.models import MarketModel
from modelhub.runtime import ModelhubRuntime
from modelhub.scopes import inference_scope
from modelhub.usage.models import UsageEvent
from modelhub.usage.repository import UsageRepository
from modelhub.usage.service import usage
from modelhub.versions.conversion import onnx_key, public_signature
from modelhub.versions.models import ModelVersion


def is_paid(model: MarketModel) -> bool:
    """True when calls past the free tier cost money."""
    pricing = model.pricing or {}
    return any(Decimal(str(pricing.get(k) or 0)) > 0
               for k in ("price_per_1k_calls", "price_per_compute_second"))  # fmt: skip


def is_deterministic(model: MarketModel) -> bool:
    """The publisher declared the model deterministic (``metadata.deterministic: true``):
    equal inputs give equal outputs, so answers may be cached by the inputs' hash."""
    return (model.metadata_ or {}).get("deterministic") is True


def warm_up_inputs(signature: dict[str, Any]) -> dict[str, Array]:
    """Zeros of one row for every input (symbolic dimensions as 1)."""
    import numpy as np

    return {
        str(t["name"]): np.zeros([d if isinstance(d, int) else 1 for d in t.get("shape", [])],
                                 dtype=str(t.get("dtype", "float32")))
        for t in signature.get("inputs", [])
    }  # fmt: skip


class InferenceService:
    """Sync inference calls of hosted models."""

    async def authorise(
        self, session: AsyncSession, principal: Principal, model: MarketModel
    ) -> bool:
        """Pass when the caller holds the model's inference scope or an access grant; True
        when the access comes from a grant (403 problem otherwise)."""
        grant = await GrantRepository(session).active(principal.user_id, model.id)
        if grant is not None:
            return True
        scope = inference_scope(model.namespace, model.name)
        if not principal.has(scope):
            raise Forbidden(
                f"This API key may not call {model.slug}: it needs scope {scope} (or "
                f"{INFERENCE_SCOPE}:{model.namespace}/*, or model:infer), or bought access.",
                missing_scopes=[scope],
            )
        return False

    async def check_free_tier(
        self, session: AsyncSession, principal: Principal, model: MarketModel, granted: bool
    ) -> None:
        """402 when a paid model's free calls this month are used and no grant pays for more
        (a grant of a consumer suspended for an uncollectible invoice pays for nothing)."""
        if not is_paid(model) or principal.user_id == model.owner_id:
            return
        if granted and not await BillingRepository(session).is_suspended(principal.user_id):
            return
        free = int((model.pricing or {}).get("free_calls_per_month") or 0)
        if await usage.calls_this_month(session, principal.user_id, model.id) >= free:
            raise FreeTierExhausted(model.slug, free)

    def decode(
        self, runtime: ModelhubRuntime, version: ModelVersion, body: InferRequest
    ) -> list[dict[str, Array]]:
        """The request's instances as arrays checked against the version's signature."""
        if (body.inputs is None) == (body.instances is None):
            raise Unprocessable("Send either `inputs` (one call) or `instances` (a batch).")
        if onnx_key(version) is None:
            raise NotServable(f"Version {version.version} cannot be served: "
                              f"{version.format_note or 'no ONNX model'}.")  # fmt: skip
        instances: list[Inputs] = [body.inputs] if body.inputs is not None else body.instances or []
        budget = runtime.app_settings.infer_max_elements
        signature = public_signature(version)
        arrays = [decode_inputs(i, signature, budget) for i in instances]
        if sum(a.size for inst in arrays for a in inst.values()) > budget:
            raise Unprocessable(f"Inputs hold more than {budget} values.")
        return arrays

    async def _served(
        self, runtime: ModelhubRuntime, model: MarketModel, version: ModelVersion
    ) -> ServedModel:
        key = onnx_key(version)
        assert key is not None  # checked by decode()
        return await runtime.inference.ensure(
            f"{model.slug}@{version.version}", version.version, runtime.storage, key,
            warm_up_inputs=warm_up_inputs(public_signature(version)),
        )  # fmt: skip

    async def compute(
        self, runtime: ModelhubRuntime, model: MarketModel, version: ModelVersion,
        arrays: list[dict[str, Array]], fmt: str,
    ) -> list[dict[str, Any]]:  # fmt: skip
        served = await self._served(runtime, model, version)
        try:
            # Each instance is its own request to the batcher: they join batches with
            # other callers' requests.
            outs = await asyncio.gather(*(served.infer(a) for a in arrays))
        except ProblemError:
            raise
        except Exception as exc:  # ONNX Runtime's own errors (InvalidArgument, Fail…)
            raise ModelRejectedInputs(str(exc).splitlines()[0][:300]) from None
        return [encode_outputs(o, fmt) for o in outs]

    async def infer(
        self,
        session: AsyncSession,
        runtime: ModelhubRuntime,
        principal: Principal,
        model: MarketModel,
        version: ModelVersion,
        body: InferRequest,
        request_id: str,
    ) -> tuple[InferResponse, bool]:
        """Run a checked call and meter it; returns the answer and whether it was counted
        (False: a retry of a request id counted before, answered but never billed again)."""
        started, t0 = utcnow(), time.perf_counter()
        arrays = self.decode(runtime, version, body)
        digest = inputs_digest(arrays)
        previous = await UsageRepository(session).event(principal.user_id, request_id)
        if previous is not None and previous.input_sha256 != digest:
            raise Conflict("This Idempotency-Key was used with other inputs.",
                           request_id=request_id)  # fmt: skip
        # End the reading transaction before the model runs: on SQLite every transaction
        # holds the one write lock, and a call waiting for its batch must not block the
        # calls it is batched with.
        await session.commit()
        cache_key = f"infer:{onnx_key(version)}:{body.output_format}:{digest}"
        cached = await runtime.cache.get(cache_key) if is_deterministic(model) else None
        compute_ms = 0
        if cached is None:
            c0 = time.perf_counter()
            try:
                results = await self.compute(runtime, model, version, arrays, body.output_format)
            except ProblemError:
                # Overloaded, timed out or rejected: counted as the model's error, not billed.
                await UsageRepository(session).add_error(principal.user_id, model.id, utcnow())
                await session.commit()
                raise
            compute_ms = round((time.perf_counter() - c0) * 1000)
            if is_deterministic(model):
                await runtime.cache.set(cache_key, results, runtime.app_settings.infer_cache_ttl_s)
        else:
            results = cached
        event = UsageEvent(
            id=uuid.uuid4(), consumer_id=principal.user_id, model_id=model.id,
            version=version.version, request_id=request_id,
            api_key_id=principal.api_key.id if principal.api_key is not None else None,
            input_sha256=digest, items=len(arrays), compute_ms=compute_ms,
            latency_ms=round((time.perf_counter() - t0) * 1000), cached=cached is not None,
            occurred_at=started, recorded_at=utcnow(),
        )  # fmt: skip
        counted = await usage.meter(session, model, event)
        await session.commit()
        answer = InferResponse(model=model.slug, version=version.version, request_id=request_id,
                               cached=cached is not None)  # fmt: skip
        if body.inputs is not None:
            answer.outputs = results[0]
        else:
            answer.results = [InferResult(outputs=r) for r in results]
        return answer, counted


inference = InferenceService()

"""HTTP endpoint of hosted inference: ``POST …/versions/{ref}/infer``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from forgekit.deps import SessionDep
from forgekit.identity.deps import CurrentPrincipal
from forgekit.ratelimit import enforce, parse_rate
from modelhub.inference.schemas import InferRequest, InferResponse
from modelhub.inference.service import inference
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.versions.service import versions

router = APIRouter(prefix="/api/v1/models/{owner}/{name}", tags=["inference"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("/versions/{ref}/infer")
async def infer(
    owner: str,
    name: str,
    ref: str,
    body: InferRequest,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> InferResponse:
    """Run the model on one set of inputs (``inputs``) or a batch (``instances``).

    Tensors are nested lists or ``{"b64", "dtype", "shape"}``, checked against the version's
    signature. Needs the scope ``inference:<owner>/<name>`` (or bought access); each key is
    rate limited per model, paid models past their free tier answer 402. A retry with the same
    ``Idempotency-Key`` is answered again but counted once (``Idempotent-Replayed: true``).
    """
    model = await models.get(session, principal, owner, name)
    granted = await inference.authorise(session, principal, model)
    rate = parse_rate(runtime.app_settings.infer_rate)
    await enforce(request, response, f"infer:{model.id}", rate, principal.rate_key)
    await inference.check_free_tier(session, principal, model, granted)
    version = await versions.resolve(session, principal, model, ref)
    request_id = idempotency_key or uuid.uuid4().hex
    answer, counted = await inference.infer(
        session, runtime, principal, model, version, body, request_id
    )
    if not counted:
        response.headers["Idempotent-Replayed"] = "true"
    return answer

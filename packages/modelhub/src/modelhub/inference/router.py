"""HTTP endpoint of hosted inference: ``POST …/versions/{ref}/infer``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from forgekit.deps import SessionDep
from forgekit.errors import Unprocessable
from forgekit.identity.deps import CurrentPrincipal
from forgekit.ratelimit import enforce, parse_rate
from modelhub.inference.schemas import InferRequest, InferResponse
from modelhub.inference.service import inference
from modelhub.jobs.schemas import JobCreated
from modelhub.jobs.service import jobs
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.versions.service import versions

router = APIRouter(prefix="/api/v1/models/{owner}/{name}", tags=["inference"])

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"),
]


Prefer = Annotated[str | None, Header(max_length=256)]


def _wants_async(prefer: str | None) -> bool:
    # RFC 7240: ``Prefer: respond-async`` (possibly among other preferences).
    return prefer is not None and "respond-async" in {p.strip() for p in prefer.split(",")}


@router.post(
    "/versions/{ref}/infer",
    response_model=InferResponse,
    responses={202: {"model": JobCreated, "description": "Queued (Prefer: respond-async)"}},
)
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
    prefer: Prefer = None,
) -> InferResponse | JSONResponse:
    """Run the model on one set of inputs (``inputs``) or a batch (``instances``).

    Tensors are nested lists or ``{"b64", "dtype", "shape"}``, checked against the version's
    signature. Needs the scope ``inference:<owner>/<name>`` (or bought access); each key is
    rate limited per model, paid models past their free tier answer 402. A retry with the same
    ``Idempotency-Key`` is answered again but counted once (``Idempotent-Replayed: true``).

    With ``Prefer: respond-async`` the call is queued as a job: ``202`` with the job and its
    ``Location`` (``GET /api/v1/jobs/{id}``); ``callback_url`` then receives a signed webhook
    when it finishes.
    """
    model = await models.get(session, principal, owner, name)
    granted = await inference.authorise(session, principal, model)
    rate = parse_rate(runtime.app_settings.infer_rate)
    await enforce(request, response, f"infer:{model.id}", rate, principal.rate_key)
    await inference.check_free_tier(session, principal, model, granted)
    version = await versions.resolve(session, principal, model, ref)
    request_id = idempotency_key or uuid.uuid4().hex
    if _wants_async(prefer):
        job, created = await jobs.submit(session, runtime, principal, model, version, body,
                                         request_id)  # fmt: skip
        headers = {"Location": f"/api/v1/jobs/{job.id}", "Preference-Applied": "respond-async"}
        if not created:
            headers["Idempotent-Replayed"] = "true"
        return JSONResponse(job.model_dump(mode="json"), status_code=202, headers=headers)
    if body.callback_url is not None:
        raise Unprocessable("callback_url is for asynchronous calls (Prefer: respond-async).")
    answer, counted = await inference.infer(
        session, runtime, principal, model, version, body, request_id
    )
    if not counted:
        response.headers["Idempotent-Replayed"] = "true"
    return answer

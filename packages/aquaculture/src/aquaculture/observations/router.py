"""Observations over HTTP: upload, history (+ CSV), species counts, labels, jobs, the model."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from aquaculture.observations.repository import HistoryFilter
from aquaculture.observations.schemas import (
    SPECIES_PATTERN,
    CorrectionRead,
    JobRead,
    LabelIn,
    ModelInfo,
    ObservationRead,
    SpeciesCounts,
    UploadResult,
)
from aquaculture.observations.service import Upload, observations, parse_when
from aquaculture.runtime import AquaRuntimeDep
from forgekit.csv_export import CSV_RESPONSES, csv_response
from forgekit.deps import SessionDep
from forgekit.errors import PayloadTooLarge
from forgekit.identity.deps import CurrentPrincipal
from forgekit.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["observations"])

FARM = "/farms/{farm_id}"
Since = Annotated[str | None, Query(max_length=40, description="ISO 8601, inclusive")]
Until = Annotated[str | None, Query(max_length=40, description="ISO 8601, exclusive")]
SpeciesQ = Annotated[str | None, Query(pattern=SPECIES_PATTERN)]


def _filter(
    tank_id: uuid.UUID | None,
    species: str | None,
    unsure: bool | None,
    labelled: bool | None,
    since: str | None,
    until: str | None,
) -> HistoryFilter:
    return HistoryFilter(
        tank_id=tank_id,
        species=species,
        unsure=unsure,
        labelled=labelled,
        since=parse_when(since, "since"),
        until=parse_when(until, "until"),
    )


async def _read_limited(file: UploadFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(f"An upload may be at most {limit} bytes.")
    return data


@router.post(FARM + "/tanks/{tank_id}/observations", status_code=status.HTTP_201_CREATED)
async def upload_observations(
    farm_id: uuid.UUID,
    tank_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: AquaRuntimeDep,
    response: Response,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image, or a .zip of them")],
    observed_at: Annotated[str | None, Form(max_length=40)] = None,
) -> UploadResult:
    """Classify one image or a .zip batch (<= 500 images); large batches answer 202 with a job."""
    data = await _read_limited(file, runtime.app_settings.batch_max_bytes)
    upload = Upload(
        data=data, filename=file.filename, observed_at=parse_when(observed_at, "observed_at")
    )
    result = await observations.upload(session, runtime, principal, farm_id, tank_id, upload)
    if result.job is not None:
        response.status_code = status.HTTP_202_ACCEPTED
    return result


@router.get(FARM + "/observations")
async def list_observations(
    farm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: AquaRuntimeDep,
    tank_id: uuid.UUID | None = None,
    species: SpeciesQ = None,
    unsure: bool | None = None,
    labelled: bool | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ObservationRead]:
    """A farm's history, newest first, by tank, species, unsure, labelled and time."""
    f = _filter(tank_id, species, unsure, labelled, since, until)
    return await observations.history(session, runtime, principal, farm_id, f, limit, offset)


@router.get(
    FARM + "/observations.csv", response_class=Response, responses=CSV_RESPONSES
)
async def export_observations(
    farm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    tank_id: uuid.UUID | None = None,
    species: SpeciesQ = None,
    unsure: bool | None = None,
    labelled: bool | None = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Response:
    """The filtered history as CSV."""
    f = _filter(tank_id, species, unsure, labelled, since, until)
    text = await observations.export_csv(session, principal, farm_id, f, limit)
    return csv_response(text, "observations.csv")


@router.get(FARM + "/tanks/{tank_id}/species-counts")
async def species_counts(
    farm_id: uuid.UUID,
    tank_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    bucket: Literal["day", "week", "month"] = "day",
    since: Since = None,
    until: Until = None,
) -> SpeciesCounts:
    """Observations per species and period for a tank (chart data)."""
    return await observations.counts(
        session,
        principal,
        farm_id,
        tank_id,
        bucket,
        parse_when(since, "since"),
        parse_when(until, "until"),
    )


@router.get(FARM + "/observations/{observation_id}")
async def get_observation(
    farm_id: uuid.UUID,
    observation_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: AquaRuntimeDep,
) -> ObservationRead:
    """One observation with links to its image and thumbnail."""
    row = await observations.get(session, principal, farm_id, observation_id)
    return await observations.read(runtime, row)


@router.post(FARM + "/observations/{observation_id}/label")
async def label_observation(
    farm_id: uuid.UUID,
    observation_id: uuid.UUID,
    data: LabelIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: AquaRuntimeDep,
) -> ObservationRead:
    """Confirm the prediction (same species) or correct it; kept as labelled data."""
    row = await observations.label(session, principal, farm_id, observation_id, data.species)
    return await observations.read(runtime, row)


@router.get(FARM + "/observations/{observation_id}/corrections")
async def list_corrections(
    farm_id: uuid.UUID, observation_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> list[CorrectionRead]:
    """Who confirmed or corrected the observation, and when."""
    rows = await observations.corrections(session, principal, farm_id, observation_id)
    return [CorrectionRead.model_validate(r) for r in rows]


@router.get(
    FARM + "/labelled-data.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export_labelled(
    farm_id: uuid.UUID,
    principal: CurrentPrincipal,
    session: SessionDep,
    runtime: AquaRuntimeDep,
    limit: Annotated[int, Query(ge=1, le=5000)] = 5000,
) -> Response:
    """Labelled images as an ImageFolder .zip for ``aquaculture train --data``."""
    data = await observations.labelled_zip(session, runtime, principal, farm_id, limit)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="labelled.zip"'},
    )


@router.get(FARM + "/jobs/{job_id}")
async def get_job(
    farm_id: uuid.UUID, job_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep
) -> JobRead:
    """A batch job's status and progress."""
    return await observations.job(session, principal, farm_id, job_id)


@router.get("/model")
async def get_model(principal: CurrentPrincipal, runtime: AquaRuntimeDep) -> ModelInfo:
    """The served model: classes, version, unsure threshold, and its data (synthetic or not)."""
    return observations.model(runtime)

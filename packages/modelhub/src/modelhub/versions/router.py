"""HTTP endpoints of versions and aliases under ``/api/v1/models/{owner}/{name}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from forgekit.deps import RuntimeDep, SessionDep
from forgekit.identity.deps import require_scopes
from forgekit.identity.principal import Principal
from modelhub.permissions import Permission
from modelhub.registry.service import models
from modelhub.runtime import ModelhubRuntimeDep
from modelhub.versions.schemas import (
    AliasMoveIn,
    AliasMoveRead,
    AliasName,
    AliasRead,
    DownloadLink,
    VersionCreate,
    VersionRead,
)
from modelhub.versions.service import to_read, versions

router = APIRouter(prefix="/api/v1/models/{owner}/{name}", tags=["versions"])

Reader = Annotated[Principal, Depends(require_scopes(Permission.MODEL_READ))]
Writer = Annotated[Principal, Depends(require_scopes(Permission.MODEL_WRITE))]
Publisher = Annotated[Principal, Depends(require_scopes(Permission.MODEL_PUBLISH))]


@router.post("/versions", status_code=status.HTTP_201_CREATED)
async def create_version(
    owner: str,
    name: str,
    data: VersionCreate,
    principal: Writer,
    session: SessionDep,
    runtime: ModelhubRuntimeDep,
) -> VersionRead:
    """Make a completed upload a draft version (semantic, greater than every other).

    TorchScript and scikit-learn files are converted to ONNX by a worker job:
    ``conversion.status`` is ``pending`` until it ``succeeded`` or ``failed`` (with the reason).
    """
    model = await models.owned(session, principal, owner, name)
    return await versions.create(
        session, runtime.storage, runtime.app_settings, principal, model, data
    )


@router.get("/versions")
async def list_versions(
    owner: str, name: str, principal: Reader, session: SessionDep
) -> list[VersionRead]:
    """The model's versions, newest first (drafts only for its publisher)."""
    model = await models.get(session, principal, owner, name)
    return await versions.listing(session, principal, model)


@router.get("/versions/{ref}")
async def get_version(
    owner: str, name: str, ref: str, principal: Reader, session: SessionDep
) -> VersionRead:
    """A version by number or alias (``latest``, ``stable``…)."""
    model = await models.get(session, principal, owner, name)
    return to_read(await versions.resolve(session, principal, model, ref))


@router.post("/versions/{ref}/publish")
async def publish_version(
    owner: str, name: str, ref: str, principal: Publisher, session: SessionDep
) -> VersionRead:
    """Publish a draft version: from now on it never changes."""
    model = await models.owned(session, principal, owner, name)
    version = await versions.resolve(session, principal, model, ref)
    return await versions.publish(session, principal, model, version)


@router.get("/versions/{ref}/download")
async def download_version(
    owner: str,
    name: str,
    ref: str,
    principal: Reader,
    session: SessionDep,
    runtime: RuntimeDep,
    expires_in: Annotated[int, Query(ge=1, le=3600)] = 300,
) -> DownloadLink:
    """A short-lived URL of the version's file (S3 presigned, or a signed local URL)."""
    model = await models.get(session, principal, owner, name)
    version = await versions.resolve(session, principal, model, ref)
    return await versions.download_link(
        session, runtime.storage, model, version, expires_in, consumer_id=principal.user_id
    )


@router.get("/aliases")
async def list_aliases(
    owner: str, name: str, principal: Reader, session: SessionDep
) -> dict[str, list[AliasRead] | list[AliasMoveRead]]:
    """The aliases and the history of their moves (newest first)."""
    model = await models.get(session, principal, owner, name)
    current, history = await versions.aliases(session, model)
    return {"aliases": current, "history": history}


@router.put("/aliases/{alias}")
async def move_alias(
    owner: str,
    name: str,
    alias: AliasName,
    data: AliasMoveIn,
    principal: Publisher,
    session: SessionDep,
) -> AliasRead:
    """Point an alias at a published version (creating the alias)."""
    model = await models.owned(session, principal, owner, name)
    return await versions.move_alias(session, principal, model, alias, data.version)


@router.post("/aliases/{alias}/rollback")
async def rollback_alias(
    owner: str, name: str, alias: AliasName, principal: Publisher, session: SessionDep
) -> AliasRead:
    """Move an alias back to the version it named before its last move."""
    model = await models.owned(session, principal, owner, name)
    return await versions.rollback_alias(session, principal, model, alias)

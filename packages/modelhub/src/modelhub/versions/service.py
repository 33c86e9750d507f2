"""Versions of a model: created from a completed upload, immutable once published, addressed
by number or by an alias that can move and be rolled back."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound
from forgekit.events.outbox import enqueue
from forgekit.identity.principal import Principal
from forgekit.storage import ObjectStorage
from modelhub.events import (
    ALIAS_MOVED,
    VERSION_CREATED,
    VERSION_PUBLISHED,
    AliasMoved,
    VersionEvent,
)
from modelhub.registry.models import MarketModel
from modelhub.registry.service import event_fields
from modelhub.settings import ModelhubSettings
from modelhub.uploads.models import UploadStatus
from modelhub.uploads.repository import UploadRepository
from modelhub.usage.models import UsageSource
from modelhub.usage.service import usage
from modelhub.versions import conversion, semver
from modelhub.versions.convert import CONVERTIBLE
from modelhub.versions.formats import Detected, detect
from modelhub.versions.models import AliasMove, ModelAlias, ModelVersion, VersionStatus
from modelhub.versions.repository import VersionRepository
from modelhub.versions.schemas import (
    AliasMoveRead,
    AliasRead,
    ConversionRead,
    DownloadLink,
    VersionCreate,
    VersionRead,
)

VERSION_NOT_FOUND = "Version not found."
#: The alias every publication of a release (not a prerelease) moves.
LATEST = "latest"


def to_read(v: ModelVersion) -> VersionRead:
    """The API view of a version."""
    record = conversion.state(v)
    return VersionRead(
        id=v.id, version=v.version, status=v.status, prerelease=v.prerelease is not None,
        sha256=v.sha256, size=v.size, filename=v.filename, format=v.format,
        servable=conversion.onnx_key(v) is not None, format_note=v.format_note,
        signature=conversion.public_signature(v), changelog=v.changelog,
        created_at=v.created_at, published_at=v.published_at,
        conversion=ConversionRead.model_validate(record) if record is not None else None,
    )  # fmt: skip


async def _detect(storage: ObjectStorage, key: str) -> Detected:
    # Streamed to a temporary file (bounded memory), then parsed in a thread.
    with tempfile.TemporaryDirectory(prefix="modelhub-") as tmp:
        path = Path(tmp) / "model"
        await storage.download_to(key, path)
        return await asyncio.to_thread(detect, path)


def _version_event(model: MarketModel, v: ModelVersion) -> VersionEvent:
    return VersionEvent(**event_fields(model), version=v.version, sha256=v.sha256, format=v.format)


class VersionService:
    """Create, list, publish versions; move, list and roll back aliases."""

    async def create(
        self,
        session: AsyncSession,
        storage: ObjectStorage,
        settings: ModelhubSettings,
        principal: Principal,
        model: MarketModel,
        data: VersionCreate,
    ) -> VersionRead:
        """A draft version from a completed upload of this model; 409 unless it is greater
        than every existing version. TorchScript and scikit-learn files get a conversion job
        (the worker's ``conversion.runner``); the API process never loads them."""
        number = semver.parse(data.version)
        upload = await UploadRepository(session).get(data.upload_id)
        if upload is None or upload.model_id != model.id:
            raise NotFound("Upload not found.")
        if upload.status != UploadStatus.COMPLETED.value:
            raise Conflict("Complete the upload before making it a version.")
        repo = VersionRepository(session)
        existing = await repo.of_model(model.id)
        if existing and number <= semver.parse(existing[0].version):
            raise Conflict(f"A new version must be greater than {existing[0].version}.",
                           latest=existing[0].version)  # fmt: skip
        # Reading the file back may take a while: release the transaction (SQLite's write lock).
        await session.commit()
        found = await _detect(storage, upload.sha256)
        version = ModelVersion(
            model_id=model.id, version=str(number), major=number.major, minor=number.minor,
            patch=number.patch, prerelease=number.prerelease, status=VersionStatus.DRAFT.value,
            sha256=upload.sha256, size=upload.size, filename=upload.filename,
            format=found.format, format_note=found.note, signature=found.signature,
            changelog=data.changelog, created_by=principal.user_id,
        )  # fmt: skip
        session.add(version)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            raise Conflict(f"Version {number} already exists.") from None
        await enqueue(session, VERSION_CREATED, _version_event(model, version),
                      metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        if found.format in CONVERTIBLE and settings.convert_enabled:
            conversion.mark_pending(version, found.format, data.input_shape)
            await conversion.request(session, model.id, version)
        await session.commit()
        return to_read(version)

    async def listing(
        self, session: AsyncSession, principal: Principal, model: MarketModel
    ) -> list[VersionRead]:
        """Published versions (and drafts, for the model's publisher), newest first."""
        mine = principal.is_admin or model.owner_id == principal.user_id
        rows = await VersionRepository(session).of_model(model.id)
        return [to_read(v) for v in rows if mine or v.status == VersionStatus.PUBLISHED.value]

    async def resolve(
        self, session: AsyncSession, principal: Principal, model: MarketModel, ref: str
    ) -> ModelVersion:
        """The version named by number or alias; drafts only for the model's publisher."""
        repo = VersionRepository(session)
        version = await repo.by_version(model.id, ref)
        if version is None:
            alias = await repo.alias(model.id, ref)
            version = await repo.get(alias.version_id) if alias is not None else None
        mine = principal.is_admin or model.owner_id == principal.user_id
        if version is None or (version.status != VersionStatus.PUBLISHED.value and not mine):
            raise NotFound(VERSION_NOT_FOUND)
        return version

    async def download_link(
        self,
        session: AsyncSession,
        storage: ObjectStorage,
        model: MarketModel,
        version: ModelVersion,
        expires_in: int,
        consumer_id: uuid.UUID | None = None,
    ) -> DownloadLink:
        """A short-lived URL of the version's file; counts the download (popularity) and
        records that ``consumer_id`` used the model (the usage record reviews rely on)."""
        filename = f"{model.name}-{version.version}-{version.filename}"
        url = await storage.download_url(version.sha256, expires_in, filename=filename)
        # In SQL, so concurrent downloads never lose a count.
        await session.execute(
            update(MarketModel).where(MarketModel.id == model.id)
            .values(downloads=MarketModel.downloads + 1)
        )  # fmt: skip
        if consumer_id is not None:
            await usage.record(session, consumer_id, model, UsageSource.DOWNLOAD)
        await session.commit()
        return DownloadLink(url=url, expires_in=expires_in, sha256=version.sha256,
                            size=version.size)  # fmt: skip

    async def publish(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        version: ModelVersion,
    ) -> VersionRead:
        """Make a draft immutable and public with its model; a release also moves ``latest``."""
        if version.status == VersionStatus.PUBLISHED.value:
            raise Conflict(f"Version {version.version} is already published.")
        version.status = VersionStatus.PUBLISHED.value
        version.published_at = utcnow()
        await enqueue(session, VERSION_PUBLISHED, _version_event(model, version),
                      metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        if version.prerelease is None:
            current = await VersionRepository(session).alias(model.id, LATEST)
            latest = await VersionRepository(session).get(current.version_id) if current else None
            if latest is None or semver.parse(version.version) > semver.parse(latest.version):
                await self._move(session, principal, model, LATEST, version)
        await session.commit()
        return to_read(version)

    async def move_alias(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        alias: str,
        target: str,
    ) -> AliasRead:
        """Point ``alias`` at the published version ``target`` (alias names start with a
        letter, so an alias never reads as a version number)."""
        version = await VersionRepository(session).by_version(model.id, target)
        if version is None or version.status != VersionStatus.PUBLISHED.value:
            raise Conflict(f"An alias names a published version; {target} is not one.")
        row = await self._move(session, principal, model, alias, version)
        await session.commit()
        return AliasRead(alias=alias, version=version.version, updated_at=row.updated_at)

    async def rollback_alias(
        self, session: AsyncSession, principal: Principal, model: MarketModel, alias: str
    ) -> AliasRead:
        """Move ``alias`` back to the version it named before its last move."""
        repo = VersionRepository(session)
        history = await repo.history(model.id, alias)
        if not history or history[0].from_version is None:
            raise Conflict(f"The alias {alias!r} has no earlier version to roll back to.")
        version = await repo.by_version(model.id, history[0].from_version)
        if version is None:  # pragma: no cover - versions are never deleted
            raise Conflict("The earlier version no longer exists.")
        row = await self._move(session, principal, model, alias, version)
        await session.commit()
        return AliasRead(alias=alias, version=version.version, updated_at=row.updated_at)

    async def aliases(
        self, session: AsyncSession, model: MarketModel
    ) -> tuple[list[AliasRead], list[AliasMoveRead]]:
        """The aliases and the history of their moves (newest first)."""
        repo = VersionRepository(session)
        current = [AliasRead(alias=a.alias, version=v, updated_at=a.updated_at)
                   for a, v in await repo.aliases(model.id)]  # fmt: skip
        moves = [AliasMoveRead(alias=m.alias, from_version=m.from_version,
                               to_version=m.to_version, moved_by=m.moved_by, moved_at=m.moved_at)
                 for m in await repo.history(model.id)]  # fmt: skip
        return current, moves

    async def _move(
        self,
        session: AsyncSession,
        principal: Principal,
        model: MarketModel,
        alias: str,
        version: ModelVersion,
    ) -> ModelAlias:
        repo = VersionRepository(session)
        row = await repo.alias(model.id, alias)
        before: str | None = None
        if row is None:
            row = ModelAlias(model_id=model.id, alias=alias, version_id=version.id)
            session.add(row)
        else:
            previous = await repo.get(row.version_id)
            before = previous.version if previous is not None else None
            row.version_id, row.updated_at = version.id, utcnow()
        session.add(AliasMove(id=uuid.uuid4(), model_id=model.id, alias=alias,
                              from_version=before, to_version=version.version,
                              moved_by=principal.user_id, moved_at=utcnow()))  # fmt: skip
        await session.flush()
        await enqueue(session, ALIAS_MOVED, AliasMoved(
            **event_fields(model), alias=alias, from_version=before, to_version=version.version),
            metadata={"actor_id": str(principal.user_id)})  # fmt: skip
        return row


versions = VersionService()

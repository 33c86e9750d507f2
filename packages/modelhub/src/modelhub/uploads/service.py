"""Resumable chunked uploads of model files.

A client creates an upload (file size and SHA-256), PUTs chunks in any order, each with its
SHA-256, and completes it; an interrupted upload resumes by asking which chunks arrived. Each
chunk is stored as its own content-addressed object, so memory stays bounded by one read buffer
whatever the file size; completion streams the chunks, in order, into the final object, whose
SHA-256 must be the declared one. Identical content is stored once (duplicate detection).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from contextlib import aclosing
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from forgekit.db.base import utcnow
from forgekit.errors import Conflict, NotFound, PayloadTooLarge, Unprocessable
from forgekit.identity.principal import Principal
from forgekit.storage import ObjectStorage
from modelhub.registry.models import MarketModel
from modelhub.settings import ModelhubSettings
from modelhub.uploads.models import Upload, UploadChunk, UploadStatus
from modelhub.uploads.repository import UploadRepository
from modelhub.uploads.schemas import UploadCompleted, UploadCreate, UploadRead

UPLOAD_NOT_FOUND = "Upload not found."


class QuotaExceeded(PayloadTooLarge):
    """413: the publisher's storage quota would be exceeded."""

    slug, title = "quota-exceeded", "Storage quota exceeded"


class ChecksumMismatch(Unprocessable):
    """422: what arrived is not what the client declared."""

    slug, title = "checksum-mismatch", "Checksum mismatch"


def _read(upload: Upload, received: Sequence[int]) -> UploadRead:
    return UploadRead(
        id=upload.id, model_id=upload.model_id, filename=upload.filename, size=upload.size,
        sha256=upload.sha256, chunk_size=upload.chunk_size, chunk_count=upload.chunk_count,
        received=list(received), status=upload.status, expires_at=upload.expires_at,
        completed_at=upload.completed_at,
    )  # fmt: skip


def expected_chunk_size(upload: Upload, index: int) -> int:
    """Bytes chunk ``index`` must have: ``chunk_size``, the last one the remainder."""
    if index == upload.chunk_count - 1:
        return upload.size - index * upload.chunk_size
    return upload.chunk_size


async def _release(session: AsyncSession, storage: ObjectStorage, keys: list[str]) -> None:
    # Chunk objects are content-addressed: keep any that another upload's chunk still uses.
    for key in set(keys) - await UploadRepository(session).still_referenced(keys):
        await storage.delete(key)


class UploadService:
    """Create, fill, inspect, complete, abort and expire uploads."""

    async def create(
        self,
        session: AsyncSession,
        settings: ModelhubSettings,
        principal: Principal,
        model: MarketModel,
        data: UploadCreate,
    ) -> UploadRead:
        """Open an upload for ``model`` (its publisher); 413 over the size limit or quota."""
        if data.size > settings.upload_max_bytes:
            raise PayloadTooLarge(
                f"A model file may have at most {settings.upload_max_bytes} bytes."
            )
        chunk_size = data.chunk_size or settings.upload_chunk_bytes
        if not settings.upload_min_chunk_bytes <= chunk_size <= settings.upload_max_chunk_bytes:
            raise Unprocessable(
                f"chunk_size must lie between {settings.upload_min_chunk_bytes} and "
                f"{settings.upload_max_chunk_bytes} bytes.",
                errors=[{"field": "body.chunk_size", "message": "out of range",
                         "type": "value_error"}],
            )  # fmt: skip
        repo = UploadRepository(session)
        held = await repo.bytes_held(principal.user_id)
        if held + data.size > settings.publisher_quota_bytes:
            raise QuotaExceeded(
                f"This upload would bring your storage to {held + data.size} bytes; the quota "
                f"is {settings.publisher_quota_bytes}.",
                used=held, quota=settings.publisher_quota_bytes,
            )
        upload = Upload(
            owner_id=principal.user_id, model_id=model.id, filename=data.filename,
            size=data.size, sha256=data.sha256, chunk_size=chunk_size,
            status=UploadStatus.OPEN.value,
            expires_at=utcnow() + timedelta(seconds=settings.upload_ttl_s),
        )  # fmt: skip
        await repo.add(upload)
        await session.commit()
        return _read(upload, [])

    async def own(
        self, session: AsyncSession, principal: Principal, upload_id: uuid.UUID
    ) -> Upload:
        """The caller's upload (404 for anyone else's: ids reveal nothing)."""
        upload = await UploadRepository(session).get(upload_id)
        if upload is None or (upload.owner_id != principal.user_id and not principal.is_admin):
            raise NotFound(UPLOAD_NOT_FOUND)
        return upload

    @staticmethod
    def _require_open(upload: Upload) -> None:
        if upload.status == UploadStatus.OPEN.value and upload.expires_at <= utcnow():
            raise Conflict("The upload has expired; start a new one.")
        if upload.status != UploadStatus.OPEN.value:
            raise Conflict(f"The upload is {upload.status}.")

    async def get(self, session: AsyncSession, upload: Upload) -> UploadRead:
        """The upload and the chunks received so far."""
        chunks = await UploadRepository(session).chunks(upload.id)
        return _read(upload, [c.index for c in chunks])

    async def put_chunk(
        self,
        session: AsyncSession,
        storage: ObjectStorage,
        upload: Upload,
        index: int,
        body: AsyncIterable[bytes],
        declared_sha256: str,
    ) -> None:
        """Store chunk ``index`` (streamed, never held whole); sending it again replaces it."""
        self._require_open(upload)
        if not 0 <= index < upload.chunk_count:
            raise NotFound(f"This upload has chunks 0 to {upload.chunk_count - 1}.")
        expected = expected_chunk_size(upload, index)
        # End the read transaction before streaming: on SQLite every transaction holds the
        # write lock, and a slow client must not stall every other writer for its chunk.
        await session.commit()
        stored = await storage.put_stream(body, max_size=expected)
        if stored.size != expected or stored.key != declared_sha256:
            if stored.created:
                await _release(session, storage, [stored.key])
            what = "size" if stored.size != expected else "SHA-256"
            raise ChecksumMismatch(
                f"Chunk {index}: the {what} of the body does not match "
                f"({stored.size} bytes, sha256 {stored.key}; expected {expected} bytes, "
                f"sha256 {declared_sha256}).",
            )
        repo = UploadRepository(session)
        previous = await repo.chunk(upload.id, index)
        if previous is not None:
            old_key, previous.sha256, previous.size = previous.sha256, stored.key, stored.size
            await session.flush()
            if old_key != stored.key:
                await _release(session, storage, [old_key])
        else:
            session.add(UploadChunk(upload_id=upload.id, index=index, size=stored.size,
                                    sha256=stored.key))  # fmt: skip
        try:
            await session.commit()
        except IntegrityError:
            # The same chunk arrived twice at once: the other request recorded it.
            await session.rollback()

    async def complete(
        self, session: AsyncSession, storage: ObjectStorage, upload: Upload
    ) -> UploadCompleted:
        """Join the chunks into the file; 409 while chunks are missing, 422 when the file's
        SHA-256 is not the declared one (the upload stays open to resend chunks)."""
        self._require_open(upload)
        repo = UploadRepository(session)
        chunks = list(await repo.chunks(upload.id))
        missing = sorted(set(range(upload.chunk_count)) - {c.index for c in chunks})
        if missing:
            raise Conflict(f"{len(missing)} chunk(s) missing.", missing=missing[:100])
        keys = [c.sha256 for c in chunks]
        # Joining streams the whole file through storage (seconds to minutes): not inside a
        # transaction, which on SQLite would hold the write lock for all of it.
        await session.commit()
        duplicate = await storage.exists(upload.sha256) and (
            await _digest(storage, keys) == upload.sha256
        )
        if not duplicate:
            stored = await storage.put_stream(_joined(storage, keys), max_size=upload.size)
            if stored.key != upload.sha256:
                if stored.created:
                    await storage.delete(stored.key)
                raise ChecksumMismatch(
                    f"The joined file has sha256 {stored.key}, not the declared "
                    f"{upload.sha256}; resend the chunks that differ."
                )
        await session.refresh(upload)
        if upload.status != UploadStatus.OPEN.value:
            # Aborted or expired while the chunks were joined: the joined object stays,
            # content-addressed and unreferenced (duplicate detection reuses it).
            raise Conflict(f"The upload is {upload.status}.")
        upload.status = UploadStatus.COMPLETED.value
        upload.completed_at = utcnow()
        dropped = await repo.drop_chunks(upload.id)
        await session.commit()
        await _release(session, storage, dropped)
        return UploadCompleted(id=upload.id, sha256=upload.sha256, size=upload.size,
                               duplicate=duplicate)  # fmt: skip

    async def abort(self, session: AsyncSession, storage: ObjectStorage, upload: Upload) -> None:
        """Give up an open upload; its chunks are deleted."""
        self._require_open(upload)
        await self._close(session, storage, upload, UploadStatus.ABORTED)

    async def expire_stale(
        self, session: AsyncSession, storage: ObjectStorage, now: datetime | None = None
    ) -> int:
        """Expire every open upload past its deadline; returns how many."""
        stale = await UploadRepository(session).stale(now or utcnow())
        for upload in stale:
            await self._close(session, storage, upload, UploadStatus.EXPIRED)
        return len(stale)

    @staticmethod
    async def _close(
        session: AsyncSession, storage: ObjectStorage, upload: Upload, status: UploadStatus
    ) -> None:
        upload.status = status.value
        dropped = await UploadRepository(session).drop_chunks(upload.id)
        await session.commit()
        await _release(session, storage, dropped)


async def _joined(storage: ObjectStorage, keys: list[str]) -> AsyncIterator[bytes]:
    for key in keys:
        # aclosing releases the file or connection at once if the consumer stops early.
        async with aclosing(storage.open(key)) as stream:
            async for block in stream:
                yield block


async def _digest(storage: ObjectStorage, keys: list[str]) -> str:
    digest = hashlib.sha256()
    async for block in _joined(storage, keys):
        digest.update(block)
    return digest.hexdigest()


uploads = UploadService()

"""Queries of resumable uploads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, func, select

from forgekit.db.repository import Repository
from modelhub.uploads.models import Upload, UploadChunk, UploadStatus


class UploadRepository(Repository[Upload]):
    """Uploads and their chunks."""

    model = Upload

    async def chunks(self, upload_id: uuid.UUID) -> Sequence[UploadChunk]:
        """The received chunks in file order."""
        stmt = select(UploadChunk).where(UploadChunk.upload_id == upload_id)
        result = await self.session.execute(stmt.order_by(UploadChunk.index))
        return result.scalars().all()

    async def chunk(self, upload_id: uuid.UUID, index: int) -> UploadChunk | None:
        """The chunk at ``index`` if received."""
        stmt = select(UploadChunk).where(
            UploadChunk.upload_id == upload_id, UploadChunk.index == index
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def bytes_held(self, owner_id: uuid.UUID) -> int:
        """Bytes of the owner's completed and open uploads (what counts against the quota)."""
        stmt = select(func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.owner_id == owner_id,
            Upload.status.in_([UploadStatus.COMPLETED.value, UploadStatus.OPEN.value]),
        )
        return int(await self.session.scalar(stmt) or 0)

    async def stale(self, now: datetime) -> Sequence[Upload]:
        """Open uploads past their expiry."""
        stmt = select(Upload).where(Upload.status == UploadStatus.OPEN.value,
                                    Upload.expires_at < now)  # fmt: skip
        return (await self.session.execute(stmt)).scalars().all()

    async def drop_chunks(self, upload_id: uuid.UUID) -> list[str]:
        """Delete the upload's chunk rows; returns their storage keys."""
        keys = [c.sha256 for c in await self.chunks(upload_id)]
        await self.session.execute(delete(UploadChunk).where(UploadChunk.upload_id == upload_id))
        return keys

    async def still_referenced(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are still in use: by another upload's chunk, or as a completed
        file (objects are content-addressed: a one-chunk file's chunk *is* the file)."""
        wanted = list(set(keys))
        if not wanted:
            return set()
        chunks = select(UploadChunk.sha256).where(UploadChunk.sha256.in_(wanted))
        files = select(Upload.sha256).where(
            Upload.sha256.in_(wanted), Upload.status == UploadStatus.COMPLETED.value
        )
        used = await self.session.execute(chunks.union(files))
        return set(used.scalars().all())

"""Object storage in a local directory: the embedded default."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from forgekit.errors import NotFound
from forgekit.storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectStorage,
    SizedDigest,
    StoredObject,
    check_expiry,
)
from forgekit.storage.keys import is_valid_key, safe_filename, validate_key
from forgekit.storage.signing import UrlSigner

# Writes go to disk in blocks of this size from a worker thread: one thread hop per block
# rather than per (often small) network chunk.
_WRITE_BLOCK = 1024 * 1024
ROUTE_PREFIX = "/storage"


def _write_block(fh: BinaryIO, digest: SizedDigest, block: bytearray) -> None:
    digest.update(block)
    fh.write(block)


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStorage(ObjectStorage):
    """Blobs under ``root_dir/ab/cd/<sha256>``, written by atomic rename.

    Two fan-out levels keep directories small (65,536 buckets). Temporary files live in
    ``root_dir/.tmp`` on the same file system, so the final rename is atomic. Download URLs
    point at :data:`~forgekit.storage.router.storage_router`, signed with ``signing_key``.
    """

    def __init__(self, root_dir: str | os.PathLike[str], signing_key: str | bytes, base_url: str):
        self.root = Path(root_dir).resolve()
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self.signer = UrlSigner(signing_key)
        self.base_url = base_url.rstrip("/")

    def path_for(self, key: str) -> Path:
        """The file of ``key`` (validated, so always inside the root)."""
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int,
        content_type: str | None = None,
    ) -> StoredObject:
        """See :meth:`ObjectStorage.put_stream`."""
        digest = SizedDigest(max_size)
        fd, tmp_name = await asyncio.to_thread(tempfile.mkstemp, dir=self._tmp, prefix="up-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                block = bytearray()
                async for chunk in chunks:
                    digest.count(chunk)
                    block += chunk
                    if len(block) >= _WRITE_BLOCK:
                        await asyncio.to_thread(_write_block, fh, digest, block)
                        block = bytearray()
                if block:
                    await asyncio.to_thread(_write_block, fh, digest, block)
                # The database will reference this key once we return: the bytes must be on
                # disk before the name is.
                await asyncio.to_thread(fh.flush)
                await asyncio.to_thread(os.fsync, fh.fileno())
            key = digest.hexdigest()
            created = await asyncio.to_thread(self._commit, tmp, self.path_for(key))
        except BaseException:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)
            raise
        return StoredObject(key, digest.size, content_type, created)

    async def put_bytes(
        self,
        data: bytes,
        *,
        max_size: int | None = None,
        content_type: str | None = None,
    ) -> StoredObject:
        """See :meth:`ObjectStorage.put_bytes`. Bytes already in memory are hashed, written,
        synced and renamed in one worker-thread call (the streaming path takes a hop per
        step, and under load each hop waits for a thread), and not written at all when the
        object exists (content-addressed: same key, same bytes)."""
        digest = SizedDigest(len(data) if max_size is None else max_size)
        digest.count(data)
        return await asyncio.to_thread(self._put_whole, data, digest, content_type)

    def _put_whole(
        self, data: bytes, digest: SizedDigest, content_type: str | None
    ) -> StoredObject:
        digest.update(data)
        key = digest.hexdigest()
        final = self.path_for(key)
        if final.exists():
            return StoredObject(key, len(data), content_type, False)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="up-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            created = self._commit(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredObject(key, len(data), content_type, created)

    def _commit(self, tmp: Path, final: Path) -> bool:
        if final.exists():
            tmp.unlink()
            return False
        final.parent.mkdir(parents=True, exist_ok=True)
        # A concurrent upload of the same content may win the race; replacing its file with
        # identical bytes is harmless.
        tmp.replace(final)
        _fsync_dir(final.parent)
        return True

    def _listed(self) -> list[ListedObject]:
        found = []
        for path in self.root.glob("??/??/*"):
            try:
                if is_valid_key(path.name) and path == self.path_for(path.name):
                    found.append(ListedObject(path.name, _mtime(path)))
            except FileNotFoundError:
                continue  # deleted while listing
        return found

    async def listing(self) -> AsyncIterator[ListedObject]:
        """See :meth:`ObjectStorage.listing` (objects only, never temporaries)."""
        for item in await asyncio.to_thread(self._listed):
            yield item

    def _remove_partials(self, older_than: datetime) -> int:
        removed = 0
        for path in self._tmp.glob("up-*"):
            try:
                if _mtime(path) < older_than:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # its upload finished or failed meanwhile
        return removed

    async def remove_stale_partials(self, older_than: datetime) -> int:
        """See :meth:`ObjectStorage.remove_stale_partials`."""
        return await asyncio.to_thread(self._remove_partials, older_than)

    async def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes]:
        """See :meth:`ObjectStorage.open`."""
        path = self.path_for(key)
        try:
            fh = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise NotFound(f"Object {key} not found.") from None
        try:
            while chunk := await asyncio.to_thread(fh.read, chunk_size):
                yield chunk
        finally:
            fh.close()

    async def read(self, key: str) -> bytes:
        """See :meth:`ObjectStorage.read`."""
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound(f"Object {key} not found.") from None

    async def exists(self, key: str) -> bool:
        """See :meth:`ObjectStorage.exists`."""
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def size(self, key: str) -> int:
        """See :meth:`ObjectStorage.size`."""
        path = self.path_for(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            raise NotFound(f"Object {key} not found.") from None
        return stat.st_size

    async def delete(self, key: str) -> None:
        """See :meth:`ObjectStorage.delete`."""
        await asyncio.to_thread(self.path_for(key).unlink, missing_ok=True)

    async def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        """``{base_url}/storage/{key}?exp=...&sig=...`` (see :meth:`ObjectStorage.download_url`)."""
        validate_key(key)
        check_expiry(expires_s)
        name = safe_filename(filename)
        exp = int(time.time()) + expires_s
        query: dict[str, str | int] = {"exp": exp, "sig": self.signer.signature(key, exp, name)}
        if name is not None:
            query["filename"] = name
        return f"{self.base_url}{ROUTE_PREFIX}/{key}?{urlencode(query)}"

    def verify_download(
        self, key: str, exp: str | None, sig: str | None, filename: str | None
    ) -> None:
        """Raise :class:`~forgekit.errors.Forbidden` unless the URL fields are validly signed."""
        validate_key(key)
        self.signer.verify(key, exp, sig, filename)

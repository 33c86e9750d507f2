"""The :class:`ObjectStorage` interface: a content-addressed blob store."""

from __future__ import annotations

import asyncio
import hashlib
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from forgekit.errors import BadRequest, PayloadTooLarge

CHUNK_SIZE = 256 * 1024
MAX_URL_EXPIRY_S = 7 * 24 * 3600  # the SigV4 ceiling; the local signer uses the same bound


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What :meth:`ObjectStorage.put_stream` stored.

    ``created`` is ``False`` when identical content was already present (deduplicated).
    """

    key: str
    size: int
    content_type: str | None
    created: bool


class SizedDigest:
    """SHA-256 and byte count of a stream, refusing it once it passes ``max_size``."""

    def __init__(self, max_size: int) -> None:
        if max_size < 0:
            raise ValueError("max_size must not be negative")
        self.max_size = max_size
        self.size = 0
        self._hash = hashlib.sha256()

    def count(self, chunk: bytes | bytearray | memoryview) -> None:
        """Add ``len(chunk)``; raise :class:`PayloadTooLarge` past the limit (nothing hashed)."""
        self.size += len(chunk)
        if self.size > self.max_size:
            raise PayloadTooLarge(
                f"The upload exceeds the limit of {self.max_size} bytes.",
                max_size=self.max_size,
            )

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        """Hash ``chunk``: hashlib releases the GIL for large buffers, so a thread may do it."""
        self._hash.update(chunk)

    def hexdigest(self) -> str:
        """The content key."""
        return self._hash.hexdigest()


def check_expiry(expires_s: int) -> None:
    """Refuse a URL lifetime outside ``1..MAX_URL_EXPIRY_S`` seconds."""
    if not 1 <= expires_s <= MAX_URL_EXPIRY_S:
        raise BadRequest(f"A download link lives between 1 and {MAX_URL_EXPIRY_S} seconds.")


async def _slices(data: bytes, size: int) -> AsyncIterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(data), size):
        yield bytes(view[start : start + size])


@dataclass(frozen=True)
class ListedObject:
    """One stored object as a listing sees it."""

    key: str
    modified_at: datetime


class ObjectStorage(ABC):
    """Immutable blobs addressed by the SHA-256 of their content.

    Writing the same content twice stores it once. Every method taking a key validates it
    (64 lowercase hex characters) and raises :class:`~forgekit.storage.keys.InvalidObjectKey`
    otherwise; reading a missing key raises :class:`~forgekit.errors.NotFound`.
    """

    async def listing(self) -> AsyncIterator[ListedObject]:
        """Every stored object with its modification time (for reconciliation, not hot paths).

        Backends that cannot list raise :class:`NotImplementedError`.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot list its objects")
        yield  # pragma: no cover - makes this an async generator

    async def remove_stale_partials(self, older_than: datetime) -> int:
        """Remove temporaries of uploads cut short before ``older_than``; returns the count.

        A process killed mid-upload leaves its temporary behind; nothing else ever will.
        """
        return 0

    @abstractmethod
    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int,
        content_type: str | None = None,
    ) -> StoredObject:
        """Store the concatenated ``chunks`` under their SHA-256.

        The content is hashed while it streams to a temporary location and only then moved
        into place, so a reader never sees a partial object. Past ``max_size`` bytes it raises
        :class:`~forgekit.errors.PayloadTooLarge` and leaves nothing behind.
        """

    async def put_bytes(
        self,
        data: bytes,
        *,
        max_size: int | None = None,
        content_type: str | None = None,
    ) -> StoredObject:
        """Store ``data`` (see :meth:`put_stream`); ``max_size`` defaults to no limit."""
        limit = len(data) if max_size is None else max_size
        return await self.put_stream(
            _slices(data, 4 * 1024 * 1024), max_size=limit, content_type=content_type
        )

    @abstractmethod
    def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes]:
        """Stream the object's bytes in chunks (``NotFound`` is raised on first iteration).

        Wrap it in ``contextlib.aclosing`` when you may stop early, so the file or connection
        is released at once.
        """

    async def download_to(self, key: str, path: Path) -> None:
        """Write the object to the file ``path`` in chunks (memory stays at one chunk);
        the file is written from a thread, so the event loop never waits on the disk."""
        fh = await asyncio.to_thread(path.open, "wb")
        try:
            async with aclosing(self.open(key)) as chunks:
                async for chunk in chunks:
                    await asyncio.to_thread(fh.write, chunk)
        finally:
            await asyncio.to_thread(fh.close)

    @abstractmethod
    async def read(self, key: str) -> bytes:
        """Return the whole object (for small objects; stream big ones with :meth:`open`)."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """``True`` when the object is stored."""

    @abstractmethod
    async def size(self, key: str) -> int:
        """The object's size in bytes; ``NotFound`` when missing."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error (idempotent)."""

    @abstractmethod
    async def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        """A URL that lets anyone holding it GET the object for ``expires_s`` seconds.

        With ``filename`` the download is offered as an attachment of that name.
        """

    async def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release the backend's resources."""

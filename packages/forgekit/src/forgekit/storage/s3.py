"""Object storage on the S3 API (AWS S3, MinIO, Ceph RGW).

boto3 is synchronous; every call runs in a worker thread (``asyncio.to_thread``) so the event
loop never blocks on the network. One client is shared: botocore clients are thread-safe.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from forgekit.errors import NotFound
from forgekit.storage.base import (
    CHUNK_SIZE,
    ListedObject,
    ObjectStorage,
    SizedDigest,
    StoredObject,
    check_expiry,
)
from forgekit.storage.keys import (
    content_disposition,
    is_valid_key,
    safe_filename,
    validate_key,
)

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
DEFAULT_PART_SIZE = 8 * 1024 * 1024
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


def _is_not_found(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND_CODES


class S3Storage(ObjectStorage):
    """Blobs stored as ``{prefix}{sha256}`` in ``bucket``.

    Uploads up to ``part_size`` are hashed in memory and written once, straight to their final
    key. Larger ones stream as a multipart upload to ``{prefix}tmp/<uuid>`` while being hashed,
    then are copied server-side to the final key and the temporary object deleted. Add a bucket
    lifecycle rule expiring ``tmp/`` and aborting incomplete multipart uploads after a day, for
    uploads cut short by a crashed process.
    """

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        prefix: str = "",
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.region = region
        config = Config(
            signature_version="s3v4",
            # Custom endpoints (MinIO, a local moto) rarely have per-bucket DNS names.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=20,
        )
        # A private session: boto3's default session is not safe to share across threads.
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )
        self.client: Any = session.client("s3", endpoint_url=endpoint_url, config=config)

    def _object_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def _call(self, method: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(getattr(self.client, method), **kwargs)

    async def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (development and tests)."""
        try:
            await self._call("head_bucket", Bucket=self.bucket)
        except ClientError as exc:
            if not _is_not_found(exc):
                raise
            kwargs: dict[str, Any] = {"Bucket": self.bucket}
            if self.region and self.region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            await self._call("create_bucket", **kwargs)

    async def put_stream(
        self,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int,
        content_type: str | None = None,
    ) -> StoredObject:
        """See :meth:`ObjectStorage.put_stream`."""
        digest = SizedDigest(max_size)
        buffer = bytearray()
        upload: _MultipartUpload | None = None
        try:
            async for chunk in chunks:
                digest.count(chunk)
                digest.update(chunk)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    if upload is None:
                        upload = _MultipartUpload(self, content_type)
                        await upload.start()
                    await upload.add_part(bytes(buffer))
                    buffer = bytearray()
            key = digest.hexdigest()
            if upload is None:
                created = await self._put_small(key, bytes(buffer), content_type)
            else:
                if buffer:
                    await upload.add_part(bytes(buffer))
                await upload.complete()
                created = await self._promote(upload.tmp_key, key, content_type)
        except BaseException:
            if upload is not None:
                await upload.discard()
            raise
        return StoredObject(key, digest.size, content_type, created)

    async def _put_small(self, key: str, data: bytes, content_type: str | None) -> bool:
        if await self.exists(key):
            return False
        extra = {"ContentType": content_type} if content_type else {}
        await self._call(
            "put_object", Bucket=self.bucket, Key=self._object_key(key), Body=data, **extra
        )
        return True

    async def _promote(self, tmp_key: str, key: str, content_type: str | None) -> bool:
        created = not await self.exists(key)
        if created:
            # The managed copy switches to a multipart copy past 5 GB, which CopyObject cannot do.
            await self._call(
                "copy",
                CopySource={"Bucket": self.bucket, "Key": tmp_key},
                Bucket=self.bucket,
                Key=self._object_key(key),
                ExtraArgs={
                    "ContentType": content_type or "application/octet-stream",
                    "MetadataDirective": "REPLACE",
                },
            )
        await self._call("delete_object", Bucket=self.bucket, Key=tmp_key)
        return created

    async def _get(self, key: str) -> Any:
        try:
            return await self._call("get_object", Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as exc:
            if _is_not_found(exc):
                raise NotFound(f"Object {key} not found.") from None
            raise

    async def open(self, key: str, *, chunk_size: int = CHUNK_SIZE) -> AsyncGenerator[bytes]:
        """See :meth:`ObjectStorage.open`."""
        body = (await self._get(key))["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, chunk_size):
                yield chunk
        finally:
            body.close()

    async def read(self, key: str) -> bytes:
        """See :meth:`ObjectStorage.read`."""
        body = (await self._get(key))["Body"]
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = await self._call(
                "head_object", Bucket=self.bucket, Key=self._object_key(key)
            )
        except ClientError as exc:
            if _is_not_found(exc):
                return None
            raise
        return head

    async def exists(self, key: str) -> bool:
        """See :meth:`ObjectStorage.exists`."""
        return await self._head(key) is not None

    async def size(self, key: str) -> int:
        """See :meth:`ObjectStorage.size`."""
        head = await self._head(key)
        if head is None:
            raise NotFound(f"Object {key} not found.")
        return int(head["ContentLength"])

    def _listed(self) -> list[ListedObject]:
        found = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", ()):
                name = item["Key"][len(self.prefix) :]
                if "/" not in name and is_valid_key(name):  # tmp/ uploads are not objects
                    found.append(ListedObject(name, item["LastModified"]))
        return found

    async def listing(self) -> AsyncIterator[ListedObject]:
        """See :meth:`ObjectStorage.listing` (``tmp/`` is left to the bucket lifecycle rule)."""
        for item in await asyncio.to_thread(self._listed):
            yield item

    async def delete(self, key: str) -> None:
        """See :meth:`ObjectStorage.delete`."""
        await self._call("delete_object", Bucket=self.bucket, Key=self._object_key(key))

    async def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str:
        """A presigned GET URL (SigV4, computed locally; see :meth:`ObjectStorage.download_url`)."""
        check_expiry(expires_s)
        params: dict[str, str] = {"Bucket": self.bucket, "Key": self._object_key(key)}
        name = safe_filename(filename)
        if name is not None:
            params["ResponseContentDisposition"] = content_disposition(name)
        url: str = await self._call(
            "generate_presigned_url", ClientMethod="get_object", Params=params, ExpiresIn=expires_s
        )
        return url

    async def close(self) -> None:
        """Close the client's connection pool."""
        await asyncio.to_thread(self.client.close)


class _MultipartUpload:
    """One multipart upload to a temporary key; ``discard`` undoes it whatever stage it reached."""

    def __init__(self, storage: S3Storage, content_type: str | None) -> None:
        self._storage = storage
        self._content_type = content_type
        self.tmp_key = f"{storage.prefix}tmp/{uuid.uuid4().hex}"
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._completed = False

    async def start(self) -> None:
        extra = {"ContentType": self._content_type} if self._content_type else {}
        reply = await self._storage._call(
            "create_multipart_upload", Bucket=self._storage.bucket, Key=self.tmp_key, **extra
        )
        self._upload_id = str(reply["UploadId"])

    async def add_part(self, data: bytes) -> None:
        number = len(self._parts) + 1
        reply = await self._storage._call(
            "upload_part",
            Bucket=self._storage.bucket,
            Key=self.tmp_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        self._parts.append({"ETag": reply["ETag"], "PartNumber": number})

    async def complete(self) -> None:
        await self._storage._call(
            "complete_multipart_upload",
            Bucket=self._storage.bucket,
            Key=self.tmp_key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._completed = True

    async def discard(self) -> None:
        # Uploaded parts are billed and invisible until aborted; a completed temporary object
        # must be deleted instead.
        if self._upload_id is None:
            return
        if self._completed:
            await self._storage._call(
                "delete_object", Bucket=self._storage.bucket, Key=self.tmp_key
            )
        else:
            await self._storage._call(
                "abort_multipart_upload",
                Bucket=self._storage.bucket,
                Key=self.tmp_key,
                UploadId=self._upload_id,
            )

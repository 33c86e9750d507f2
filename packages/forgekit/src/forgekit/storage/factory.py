"""Choose the object storage backend from a URL."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

from forgekit.storage.base import ObjectStorage
from forgekit.storage.local import LocalStorage
from forgekit.storage.s3 import DEFAULT_PART_SIZE, S3Storage


def create_storage(url: str, *, signing_key: str | bytes, base_url: str = "") -> ObjectStorage:
    """Build the storage named by ``url``.

    * ``file:///abs/dir`` or a plain path: :class:`LocalStorage`; ``signing_key`` and
      ``base_url`` make its download URLs.
    * ``s3://[access:secret@]bucket[/prefix]?endpoint_url=...&region=...[&part_size=...]``:
      :class:`S3Storage`. Without userinfo, credentials come from the standard AWS chain
      (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profile, instance role); the region
      falls back to ``AWS_REGION``/``AWS_DEFAULT_REGION``.
    """
    parts = urlsplit(url)
    if parts.scheme == "":
        return LocalStorage(url, signing_key, base_url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"file storage URL must be local: {url!r}")
        return LocalStorage(unquote(parts.path), signing_key, base_url)
    if parts.scheme == "s3":
        # netloc, not .hostname: the latter lowercases and drops what a bucket name may hold.
        bucket = parts.netloc.rpartition("@")[2]
        if not bucket:
            raise ValueError(f"s3 storage URL needs a bucket: {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        region = (
            query.get("region")
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
        )
        return S3Storage(
            bucket,
            endpoint_url=query.get("endpoint_url"),
            region=region,
            access_key=unquote(parts.username) if parts.username else None,
            secret_key=unquote(parts.password) if parts.password else None,
            prefix=unquote(parts.path),
            part_size=int(query.get("part_size", DEFAULT_PART_SIZE)),
        )
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r}")

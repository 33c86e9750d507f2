"""``GET /storage/{key}``: serves signed download URLs of :class:`LocalStorage`.

Include ``storage_router`` in the app; the storage is ``app.state.storage`` or, failing that,
``app.state.runtime.storage``. With S3 the URLs point at S3 itself and this route answers 404.
"""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from forgekit.errors import NotFound
from forgekit.storage.keys import content_disposition, is_valid_key
from forgekit.storage.local import ROUTE_PREFIX, LocalStorage

storage_router = APIRouter(tags=["storage"])


def _app_storage(request: Request) -> object:
    state = request.app.state
    storage = getattr(state, "storage", None)
    if storage is None:
        # Apps built by forgekit.app keep their backends on the runtime.
        storage = getattr(getattr(state, "runtime", None), "storage", None)
    return storage


@storage_router.get(
    ROUTE_PREFIX + "/{key}",
    name="storage-download",
    operation_id="storage-download",
    response_class=FileResponse,
    responses={
        403: {"description": "Bad or expired signature"},
        404: {"description": "No such object"},
    },
)
async def download(
    request: Request,
    key: str,
    exp: str | None = None,
    sig: str | None = None,
    filename: str | None = None,
) -> FileResponse:
    """Stream a stored object to whoever holds a valid, unexpired signed URL."""
    storage = _app_storage(request)
    if not isinstance(storage, LocalStorage) or not is_valid_key(key):
        raise NotFound("No such object.")
    storage.verify_download(key, exp, sig, filename)
    path = storage.path_for(key)
    if not await asyncio.to_thread(path.is_file):
        raise NotFound("No such object.")
    max_age = max(0, int(exp or 0) - int(time.time()))
    return FileResponse(
        path,
        # Stored bytes are user content: served as an opaque attachment, never rendered by the
        # browser on our origin (no stored XSS through an uploaded HTML file).
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": f"private, max-age={max_age}, immutable",
        },
    )

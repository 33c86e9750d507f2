"""Content-addressed object storage: a local directory by default, S3 when configured.

Create it with :func:`create_storage`, keep it on ``app.state.storage``, and include
:data:`storage_router` so the local backend's signed download URLs resolve.
"""

from forgekit.storage.base import ObjectStorage, StoredObject
from forgekit.storage.factory import create_storage
from forgekit.storage.keys import InvalidObjectKey, is_valid_key, validate_key
from forgekit.storage.local import LocalStorage
from forgekit.storage.router import storage_router
from forgekit.storage.s3 import S3Storage

__all__ = [
    "InvalidObjectKey",
    "LocalStorage",
    "ObjectStorage",
    "S3Storage",
    "StoredObject",
    "create_storage",
    "is_valid_key",
    "storage_router",
    "validate_key",
]

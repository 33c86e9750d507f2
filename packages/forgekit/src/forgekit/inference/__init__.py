"""Model serving for the kit's products: ONNX Runtime sessions behind dynamic batching.

Models are read from the kit's object storage and verified by sha256, loaded once per process
(:func:`get_session`), warmed up, and served through a per-model :class:`DynamicBatcher`
whose bounded queue answers 503 with ``Retry-After`` when full. Metrics land in the app's
registry. This package imports no product.
"""

from forgekit.inference.batching import DynamicBatcher, pad_concat
from forgekit.inference.errors import InferenceOverloaded, InferenceTimeout, ModelIntegrityError
from forgekit.inference.loading import get_session, providers, read_model, release_session, verify
from forgekit.inference.metrics import InferenceMetrics
from forgekit.inference.runtime import InferenceRuntime, ServedModel
from forgekit.inference.settings import InferenceSettings

__all__ = [
    "DynamicBatcher",
    "InferenceMetrics",
    "InferenceOverloaded",
    "InferenceRuntime",
    "InferenceSettings",
    "InferenceTimeout",
    "ModelIntegrityError",
    "ServedModel",
    "get_session",
    "pad_concat",
    "providers",
    "read_model",
    "release_session",
    "verify",
]

"""Errors of the inference runtime, mapped by the kit's handlers to problem+json."""

from __future__ import annotations

from forgekit.errors import ProblemError, ServiceUnavailable


class InferenceOverloaded(ServiceUnavailable):
    """A model's queue is full: answered 503 with ``Retry-After``, the client retries later."""

    slug, title = "inference-overloaded", "Inference queue full"

    def __init__(self, model: str, retry_after_s: int) -> None:
        super().__init__(
            f"The queue of model {model!r} is full; retry in {retry_after_s} s.",
            headers={"Retry-After": str(retry_after_s)},
            model=model,
        )


class InferenceTimeout(ProblemError):
    """A call waited longer than its timeout for its batch: answered 504, nothing returned."""

    status, slug, title = 504, "inference-timeout", "Inference timed out"

    def __init__(self, model: str, timeout_s: float) -> None:
        super().__init__(f"Model {model!r} did not answer within {timeout_s:g} s.", model=model)


class ModelIntegrityError(Exception):
    """A model file's sha256 is not the one it was registered with (never served)."""

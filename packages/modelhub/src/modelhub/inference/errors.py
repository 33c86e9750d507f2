"""Problems of hosted inference (mapped to problem+json by the kit's handler)."""

from __future__ import annotations

from forgekit.errors import ProblemError


class FreeTierExhausted(ProblemError):
    """A paid model's free calls this month are used up and the caller has no access grant."""

    status, slug, title = 402, "free-tier-exhausted", "Free tier exhausted"

    def __init__(self, slug: str, free_calls: int) -> None:
        super().__init__(
            f"The {free_calls} free calls of {slug} this month are used; buy access to go on.",
            free_calls_per_month=free_calls,
        )


class ModelRejectedInputs(ProblemError):
    """ONNX Runtime refused inputs that fit the signature (a model-internal constraint)."""

    status, slug, title = 422, "model-rejected-inputs", "The model rejected the inputs"


class NotServable(ProblemError):
    """The version has no ONNX model to run (an unsupported format, a pending conversion)."""

    status, slug, title = 409, "not-servable", "Version not servable"

"""Settings of the inference runtime (env prefix ``FORGE_INFERENCE_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class InferenceSettings(BaseSettings):
    """Thread counts, batching and queue bounds; every field can be set as
    ``FORGE_INFERENCE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="FORGE_INFERENCE_", env_file=".env", extra="ignore", validate_default=True
    )

    # One intra-op thread by default: a server runs several workers, and ONNX Runtime's
    # default of one thread per core makes them fight over the cores.
    intra_op_threads: int = Field(default=1, ge=0)
    inter_op_threads: int = Field(default=1, ge=0)
    max_batch_size: int = Field(default=32, ge=1)
    max_queue_delay_ms: float = Field(default=5.0, ge=0.0)
    max_queue_size: int = Field(default=256, ge=1)
    retry_after_s: int = Field(default=1, ge=1)
    warm_up: bool = True
    #: Bytes of model files the runtime keeps loaded; past it the least recently used model
    #: is unloaded (its session and batcher released) before another is loaded.
    memory_budget_bytes: int = Field(default=1024**3, ge=1)
    #: Seconds one call may wait for its batch (queue and compute); past it the caller gets
    #: :class:`InferenceTimeout` (504) and the batch drops its rows.
    call_timeout_s: float = Field(default=30.0, gt=0.0)
    #: Run on the CUDA execution provider when ONNX Runtime offers it (CPU otherwise).
    use_cuda: bool = True

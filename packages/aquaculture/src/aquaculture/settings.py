"""Aquaculture's own settings (env prefix ``AQUA_``); the backbone's are the kit's ``FORGE_``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from forgekit.product import ProductSettings


class AquacultureSettings(ProductSettings):
    """Where and how Aquaculture runs; every field can be set as ``AQUA_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="AQUA_", env_file=".env", extra="ignore")
    product_name: ClassVar[str] = "aquaculture"
    api_key_prefix: ClassVar[str] = "aqk_"
    #: Self-registered accounts may create farms (they own them: the farm's admin).
    default_user_role: ClassVar[str] = "owner"

    port: int = 8002
    data_dir: Path = Path(".aquaculture-data")
    max_page_size: int = 200

    # Images (aquaculture.observations.images).
    #: Largest single image file.
    image_max_bytes: int = 15 * 1024**2
    #: Largest decoded image (pixels); larger ones are refused as decompression bombs.
    image_max_pixels: int = 40_000_000
    #: Largest .zip batch (the kit caps uploads at FORGE_MAX_UPLOAD_BYTES, 50 MiB by default)
    #: and how many images it may hold.
    batch_max_bytes: int = 50 * 1024**2
    batch_max_images: int = 500
    #: Batches with more images than this run as a job on the worker role.
    batch_inline_max: int = 20
    #: A running job whose progress has not moved for this long is re-queued (its worker
    #: died); the sweep looks every ``job_sweep_interval_s``.
    job_stale_s: float = 600.0
    job_sweep_interval_s: float = 60.0
    thumbnail_px: int = 256
    #: Largest labelled-data .zip (built in memory).
    export_max_bytes: int = 256 * 1024**2
    #: How many species each prediction lists.
    top_k: int = 3

    # Webhooks of a farm (aquaculture.webhooks): called when a batch job completes or fails.
    #: Allow webhook URLs on private networks (tests, on-premises receivers); off, the SSRF
    #: guard refuses loopback, link-local and private addresses.
    webhooks_allow_private_networks: bool = False
    webhook_timeout_s: float = 5.0
    #: First retry delay; it doubles per attempt (with jitter) up to ``webhook_retry_max_s``.
    webhook_retry_base_s: float = 10.0
    webhook_retry_max_s: float = 3600.0
    #: A delivery still failing after this long is given up.
    webhook_max_age_s: float = 24 * 3600.0
    #: How often the delivery loop looks for due retries (new deliveries wake it at once).
    webhook_poll_s: float = 1.0

    #: A model directory (ONNX and card) pinned for this process, ignoring the registry;
    #: empty: the registry's live version, else the shipped default (synthetic species).
    model_path: Path | None = None
    #: How long the classifier's batcher holds a request for others to share its batch
    #: (overrides ``FORGE_INFERENCE_MAX_QUEUE_DELAY_MS``, 5 ms; None keeps that). The fish
    #: model runs a batch of one in about 1 ms, so waiting 5 ms for company costs a single
    #: upload more than it saves; concurrent uploads still share batches.
    inference_max_delay_ms: float | None = 1.0
    #: How often each process compares the registry's live version with the one it serves
    #: (changes also arrive at once through the live hub; this catches a missed message).
    model_check_interval_s: float = 30.0


@lru_cache(maxsize=1)
def get_settings() -> AquacultureSettings:
    """The process-wide settings, read once from the environment and ``.env``."""
    return AquacultureSettings()

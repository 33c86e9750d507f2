"""Settings of the ML services (env prefix ``SHOP_ML_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MlSettings(BaseSettings):
    """Nightly retraining and recommendation caching; every field is ``SHOP_ML_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHOP_ML_", env_file=".env", extra="ignore")

    #: UTC time of the nightly retraining on the worker role, ``HH:MM``; empty: off.
    nightly_at: str = Field(default="", pattern=r"^$|^([01]\d|2[0-3]):[0-5]\d$")
    #: Kinds retrained nightly.
    nightly_kinds: list[str] = ["recs", "fraud", "sentiment", "forecast"]
    #: Least rows of the shop's own data per kind before training reads them instead of the
    #: generator (JSON, e.g. ``{"recs": 1000}``; unset kinds keep
    #: :data:`shop.ml.training.source.MIN_SHOP_ROWS`).
    min_shop_rows: dict[str, int] = {}
    #: Seconds a customer's recommendations stay cached.
    recs_cache_ttl_s: float = Field(default=300.0, ge=0.0)

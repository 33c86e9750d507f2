"""Backbone settings shared by every product (env prefix ``FORGE_``).

A product keeps its own settings class (``PYFORGE_`` for PyForge) for what is its own (host,
port, data directory) and builds :class:`ForgeSettings` from it with :meth:`for_product`, so that
one ``.env`` file configures both. Empty URLs mean "embedded": SQLite in the data directory,
in-process cache, rate limiter and event bus, local-directory storage.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The secret used when none is configured; acceptable only outside production.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me-0000000000"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32


class Environment(StrEnum):
    """Deployment mode; production turns on the safety checks."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ForgeSettings(BaseSettings):
    """Settings of the platform kit; every field can be set as ``FORGE_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="FORGE_", env_file=".env", extra="ignore", validate_default=True
    )

    env: Environment = Environment.DEVELOPMENT
    app_name: str = "forge"
    data_dir: Path = Path(".forge-data")
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    public_url: str = "http://127.0.0.1:8000"

    # Backends: empty means the embedded default.
    database_url: str = ""
    # Sized for the concurrency of one API process: an overflow connection is opened and
    # closed per checkout, which costs more than the query it serves.
    database_pool_size: int = 20
    database_max_overflow: int = 10
    database_echo: bool = False
    redis_url: str = ""
    amqp_url: str = ""
    storage_url: str = ""
    # Names on shared servers; empty means derived from ``app_name`` so that two products on
    # one Redis and one RabbitMQ never see each other's keys, events or queues.
    redis_prefix: str = ""
    events_exchange: str = ""
    events_queue_prefix: str = ""
    #: Event type patterns the audit consumer leaves out of ``audit_logs`` (high-volume
    #: metering events that their own tables already record); empty: every event is audited.
    audit_exclude: list[str] = Field(default_factory=list)
    #: Base of the ``type`` URI of problem+json errors; empty: ``{public_url}/problems/``.
    problem_base_url: str = ""

    # Identity.
    #: Marker of this product's API keys (``pfk_`` for PyForge), so a leaked key is
    #: recognisable by secret scanners and tells which product it opens.
    api_key_prefix: str = "fgk_"
    #: Global role of a self-registered account (a product's own role, e.g. "consumer").
    default_user_role: str = "owner"
    jwt_algorithm: str = "HS256"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 7 * 24 * 3600
    email_verification_ttl_s: int = 24 * 3600
    password_reset_ttl_s: int = 3600
    password_min_length: int = 8
    # Argon2id cost (RFC 9106 "second recommended" profile by default); tests lower it.
    password_hash_time_cost: int = 3
    password_hash_memory_kib: int = 65536
    password_hash_parallelism: int = 4
    # Multi-factor authentication (TOTP). A product names the roles and permissions whose
    # holders must enrol (ProductSettings.mfa_required_roles / _permissions).
    #: The issuer shown in authenticator apps; empty: the app name.
    mfa_issuer: str = ""
    #: Lifetime of the challenge a password login of an MFA user returns.
    mfa_challenge_ttl_s: int = 300
    #: Wrong codes allowed per account (a success resets the count).
    mfa_failures_per_account: str = "5/5minute"
    mfa_required_roles: list[str] = Field(default_factory=list)
    mfa_required_permissions: list[str] = Field(default_factory=list)

    # Rate limits ("N/period" where period is second, minute, hour or day).
    rate_limit_enabled: bool = True
    rate_limit_default: str = "600/minute"
    login_failures_per_account: str = "10/15minute"
    login_attempts_per_ip: str = "60/minute"

    # HTTP.
    cors_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = False
    max_body_bytes: int = 1_048_576
    max_upload_bytes: int = 50 * 1_048_576
    #: Slow and oversized requests (``forgekit.http_guard``, applied by ``<product> serve``):
    #: a request's head (request line and headers) must arrive within ``http_head_timeout_s``
    #: and stay within ``http_max_head_bytes`` and ``http_max_headers`` (else 408 / 431); its
    #: body must arrive within ``http_body_timeout_s`` plus one second per
    #: ``http_body_min_rate_bps`` bytes received (a slow upload gets 408); an idle keep-alive
    #: connection is closed after ``http_keep_alive_s``.
    http_head_timeout_s: float = 10.0
    http_max_head_bytes: int = 65_536
    http_max_headers: int = 100
    http_body_timeout_s: float = 20.0
    http_body_min_rate_bps: int = 1024
    http_keep_alive_s: int = 5

    # Email: empty SMTP host means the file sink in the data directory.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = True
    smtp_tls: bool = False
    #: Sender of the kit's e-mails; empty: ``"{app_name} <noreply@{app_name}.local>"``.
    mail_from: str = ""

    # Observability.
    log_level: str = "INFO"
    log_json: bool = True
    otel_endpoint: str = ""

    # Outbox relay.
    outbox_poll_interval_s: float = 0.5
    outbox_batch_size: int = 100
    consumer_max_retries: int = 5
    consumer_retry_base_s: float = 1.0

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_secret_means_default(cls, value: object) -> object:
        # ``FORGE_SECRET_KEY=`` copied from .env.example means "not set", not "the empty key".
        if value in ("", None) or (isinstance(value, SecretStr) and not value.get_secret_value()):
            return SecretStr(DEV_SECRET_KEY)
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.env is not Environment.PRODUCTION:
            return self
        key = self.secret_key.get_secret_value()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"FORGE_SECRET_KEY must be set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters in production"
            )
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError("CORS origin '*' together with credentials is refused in production")
        return self

    @classmethod
    def for_product(cls, app_name: str, data_dir: Path, **overrides: Any) -> ForgeSettings:
        """Kit settings for a product: env and ``.env`` first, the product's data dir beneath."""
        return cls(app_name=app_name, data_dir=data_dir, **overrides)

    # Derived values -------------------------------------------------------------------------

    @property
    def is_production(self) -> bool:
        """True in production mode."""
        return self.env is Environment.PRODUCTION

    @property
    def effective_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{self.app_name}.db').resolve()}"

    @property
    def effective_storage_url(self) -> str:
        """The configured storage URL, or the embedded local directory."""
        return self.storage_url or str((self.data_dir / "objects").resolve())

    @property
    def effective_redis_prefix(self) -> str:
        """Prefix of every Redis key this deployment writes."""
        return self.redis_prefix or f"{self.app_name}:"

    @property
    def effective_events_exchange(self) -> str:
        """The topic exchange this product's events travel on (``{app_name}.events``)."""
        return self.events_exchange or f"{self.app_name}.events"

    @property
    def effective_events_queue_prefix(self) -> str:
        """Prefix of this product's consumer queues (``{app_name}``)."""
        return self.events_queue_prefix or self.app_name

    @property
    def effective_problem_base_url(self) -> str:
        """Base of the problem ``type`` URIs (documentation pages of each error kind)."""
        return self.problem_base_url or f"{self.public_url.rstrip('/')}/problems/"

    @property
    def effective_mail_from(self) -> str:
        """The sender address of the kit's e-mails."""
        return self.mail_from or f"{self.app_name} <noreply@{self.app_name}.local>"

    @property
    def mail_sink_dir(self) -> Path:
        """Where the embedded mail sink writes messages."""
        return self.data_dir / "mail"

    @property
    def embedded(self) -> bool:
        """True when no external server is configured at all (SQLite, no Redis, no broker)."""
        return not (self.redis_url or self.amqp_url) and self.effective_database_url.startswith(
            "sqlite"
        )

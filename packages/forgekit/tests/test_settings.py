"""Settings: env prefix, .env files, and the production safety checks."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from forgekit.settings import DEV_SECRET_KEY, Environment, ForgeSettings

STRONG = "k" * 48


def test_env_prefix_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_ACCESS_TOKEN_TTL_S", "60")
    monkeypatch.setenv("FORGE_REDIS_URL", "redis://example:6379/1")
    s = ForgeSettings(_env_file=None)
    assert s.access_token_ttl_s == 60
    assert s.redis_url == "redis://example:6379/1"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("FORGE_REFRESH_TOKEN_TTL_S=123\nFORGE_ENV=test\n")
    s = ForgeSettings(_env_file=env)
    assert s.refresh_token_ttl_s == 123
    assert s.env is Environment.TEST


def test_embedded_defaults_derive_from_data_dir(tmp_path: Path) -> None:
    s = ForgeSettings.for_product("pyforge", tmp_path, _env_file=None)
    assert s.effective_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/pyforge.db"
    assert s.effective_storage_url == str((tmp_path / "objects").resolve())
    assert s.embedded
    assert s.effective_redis_prefix == "pyforge:"


@pytest.mark.parametrize("key", [DEV_SECRET_KEY, "short-secret"])
def test_production_refuses_default_or_short_secret(key: str) -> None:
    with pytest.raises(ValidationError, match="FORGE_SECRET_KEY"):
        ForgeSettings(_env_file=None, env="production", secret_key=key)


def test_production_refuses_wildcard_cors_with_credentials() -> None:
    with pytest.raises(ValidationError, match="CORS"):
        ForgeSettings(
            _env_file=None,
            env="production",
            secret_key=STRONG,
            cors_origins=["*"],
            cors_allow_credentials=True,
        )


def test_production_accepts_safe_settings() -> None:
    s = ForgeSettings(
        _env_file=None, env="production", secret_key=STRONG, cors_origins=["https://a.example"],
        cors_allow_credentials=True,
    )
    assert s.is_production


def test_development_tolerates_dev_secret() -> None:
    assert ForgeSettings(_env_file=None).secret_key.get_secret_value() == DEV_SECRET_KEY


def test_empty_secret_means_unset_and_is_refused_in_production() -> None:
    assert ForgeSettings(_env_file=None, secret_key="").secret_key.get_secret_value() == DEV_SECRET_KEY
    with pytest.raises(ValidationError):
        ForgeSettings(_env_file=None, env="production", secret_key="")

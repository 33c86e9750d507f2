"""Model versions: a trained model goes live only when its validation accuracy is not worse
than the live one's; rollback returns to the previous one; the app serves the live one."""

import json
import shutil
from pathlib import Path

import httpx
import pytest
from aquaculture.app import create_app
from aquaculture.classifier.registry import (
    DEFAULT_MODEL_DIR,
    PromotionRefused,
    active_dir,
    history,
    promote,
    rollback,
)
from aquaculture.settings import AquacultureSettings
from typer.testing import CliRunner

from forgekit.settings import ForgeSettings


def _candidate(tmp: Path, version: str, val_accuracy: float) -> Path:
    out = tmp / version
    shutil.copytree(DEFAULT_MODEL_DIR, out)
    card = json.loads((out / "card.json").read_text())
    card["version"], card["metrics"]["val_accuracy"] = version, val_accuracy
    (out / "card.json").write_text(json.dumps(card))
    return out


def test_promotion_rule_and_rollback(tmp_path: Path) -> None:
    settings = AquacultureSettings(_env_file=None, data_dir=tmp_path / "data")
    live = json.loads((DEFAULT_MODEL_DIR / "card.json").read_text())["metrics"]["val_accuracy"]
    assert active_dir(settings) == DEFAULT_MODEL_DIR
    with pytest.raises(PromotionRefused, match="below the live"):
        promote(settings, _candidate(tmp_path, "worse", live - 0.01))
    assert history(settings) == [] and active_dir(settings) == DEFAULT_MODEL_DIR
    assert promote(settings, _candidate(tmp_path, "same", live)) == "same"
    assert promote(settings, _candidate(tmp_path, "forced", live - 0.2), force=True) == "forced"
    assert history(settings) == ["same", "forced"]
    assert active_dir(settings) == tmp_path / "data" / "models" / "forced"
    assert rollback(settings) == "same" and rollback(settings) == "default"
    assert active_dir(settings) == DEFAULT_MODEL_DIR


def test_cli_promote_and_rollback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aquaculture.cli import app
    from aquaculture.settings import get_settings

    monkeypatch.setenv("AQUA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        refused = runner.invoke(app, ["promote", str(_candidate(tmp_path, "bad", 0.1))])
        assert refused.exit_code == 1 and "refused" in refused.output
        ok = runner.invoke(app, ["promote", str(_candidate(tmp_path, "good", 1.0))])
        assert ok.exit_code == 0 and "good is live" in ok.output
        back = runner.invoke(app, ["rollback"])
        assert back.exit_code == 0 and "default is live" in back.output
    finally:
        get_settings.cache_clear()


async def test_the_app_serves_the_live_version(
    tmp_path: Path, forge_settings: ForgeSettings
) -> None:
    settings = AquacultureSettings(_env_file=None, data_dir=tmp_path / "aqua")
    promote(settings, _candidate(tmp_path, "v-next", 1.0))
    app = create_app(forge_settings, settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            creds = {"email": "m@example.com", "username": "mia", "password": "correct horse"}
            assert (await client.post("/auth/register", json=creds)).status_code == 201
            token = (
                await client.post(
                    "/auth/login", data={"username": "mia", "password": creds["password"]}
                )
            ).json()
            model = await client.get(
                "/api/v1/model", headers={"Authorization": f"Bearer {token['access_token']}"}
            )
            assert model.json()["version"] == "v-next"

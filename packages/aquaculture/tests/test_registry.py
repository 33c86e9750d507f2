"""The model registry: a trained model goes live only when its validation accuracy is not
worse than the live one's; rollback returns to the previous one; running API and worker
processes switch to the live version without a restart, on both backends."""

import asyncio
import json
import shutil
import time
from pathlib import Path

import httpx
import pytest
from aquaculture.app import create_app
from aquaculture.classifier.registry import (
    DEFAULT,
    DEFAULT_MODEL_DIR,
    PromotionRefused,
    live_model,
    promote,
    rollback,
)
from aquaculture.product import PRODUCT
from aquaculture.runtime import AquacultureRuntime
from aquaculture.settings import AquacultureSettings
from typer.testing import CliRunner

from forgekit.identity.testing import register_and_login
from forgekit.runtime import Runtime
from forgekit.settings import ForgeSettings

LIVE_ACCURACY = json.loads((DEFAULT_MODEL_DIR / "card.json").read_text())["metrics"]["val_accuracy"]


def _candidate(tmp: Path, version: str, val_accuracy: float) -> Path:
    out = tmp / version
    shutil.copytree(DEFAULT_MODEL_DIR, out)
    card = json.loads((out / "card.json").read_text())
    card["version"], card["metrics"]["val_accuracy"] = version, val_accuracy
    (out / "card.json").write_text(json.dumps(card))
    return out


async def _served_version(client: httpx.AsyncClient, headers: dict[str, str], want: str) -> None:
    deadline = time.monotonic() + 60
    while (got := (await client.get("/api/v1/model", headers=headers)).json()["version"]) != want:
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.05)


async def test_promotion_rule_and_rollback(runtime: Runtime, tmp_path: Path) -> None:
    settings = AquacultureSettings(_env_file=None)
    async with runtime.db.transaction() as s:
        assert (await live_model(s, settings)).stamp == DEFAULT
        with pytest.raises(PromotionRefused, match="below the live"):
            await promote(s, runtime.storage, settings,
                          _candidate(tmp_path, "worse", LIVE_ACCURACY - 0.01))  # fmt: skip
        assert (await live_model(s, settings)).stamp == DEFAULT
        same = _candidate(tmp_path, "same", LIVE_ACCURACY)
        assert await promote(s, runtime.storage, settings, same) == "same"
        forced = _candidate(tmp_path, "forced", LIVE_ACCURACY - 0.2)
        with pytest.raises(PromotionRefused):  # worse than "same", which is live now
            await promote(s, runtime.storage, settings, forced)
        assert await promote(s, runtime.storage, settings, forced, force=True) == "forced"
        live = await live_model(s, settings)
        assert (live.stamp, live.key) == ("forced", live.card["sha256"])
        assert await rollback(s) == "same" and await rollback(s) == DEFAULT
        assert (await live_model(s, settings)).directory == DEFAULT_MODEL_DIR
        # A damaged file is refused whatever its card says.
        broken = _candidate(tmp_path, "broken", 1.0)
        (broken / "model.onnx").write_bytes(b"not the model")
        with pytest.raises(PromotionRefused, match="not the file"):
            await promote(s, runtime.storage, settings, broken)


async def test_a_promotion_goes_live_without_a_restart(
    client: httpx.AsyncClient, runtime: Runtime, forge_settings: ForgeSettings, tmp_path: Path,
    backend: str,
) -> None:  # fmt: skip
    """The API (this app) follows promotions and rollbacks through the event and the hub (its
    periodic check is set to an hour). So does a second process on the real servers (Redis
    pub/sub); embedded, a second process shares no hub and catches up by its stamp check."""
    user = await register_and_login(client)
    await _served_version(client, user.headers, json.loads(
        (DEFAULT_MODEL_DIR / "card.json").read_text())["version"])  # fmt: skip
    interval = 3600 if backend == "real" else 0.2
    worker_settings = AquacultureSettings(_env_file=None, model_check_interval_s=interval)
    worker = PRODUCT.build_runtime(forge_settings, worker_settings)
    worker.events.keep_only(["batches"])
    await worker.start(consume=False)  # a second process on the same database and servers
    try:
        assert isinstance(worker, AquacultureRuntime)
        async with runtime.db.transaction() as s:
            await promote(s, runtime.storage, worker_settings, _candidate(tmp_path, "v2", 1.0))
        await _served_version(client, user.headers, "v2")
        await _until(lambda: worker.classifier is not None and worker.classifier.card.version == "v2")
        async with runtime.db.transaction() as s:
            await rollback(s)
        default = json.loads((DEFAULT_MODEL_DIR / "card.json").read_text())["version"]
        await _served_version(client, user.headers, default)
        await _until(lambda: worker.classifier is not None and worker.classifier.card.version == default)
    finally:
        await worker.close()


async def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


@pytest.fixture
def app_factory():
    settings = AquacultureSettings(_env_file=None, model_check_interval_s=3600)
    return lambda forge: create_app(forge, settings)


def test_cli_promote_and_rollback(
    tmp_path: Path, forge_settings: ForgeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aquaculture.cli import app
    from aquaculture.settings import get_settings

    monkeypatch.setenv("FORGE_DATABASE_URL", forge_settings.effective_database_url)
    monkeypatch.setenv("FORGE_DATA_DIR", str(forge_settings.data_dir))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        refused = runner.invoke(app, ["promote", str(_candidate(tmp_path, "bad", 0.1))])
        assert refused.exit_code == 1 and "refused" in refused.output
        missing = runner.invoke(app, ["promote", str(tmp_path / "nowhere")])
        assert missing.exit_code == 2 and "no model.onnx" in missing.output
        ok = runner.invoke(app, ["promote", str(_candidate(tmp_path, "good", 1.0))])
        assert ok.exit_code == 0 and "good is live" in ok.output, ok.output
        back = runner.invoke(app, ["rollback"])
        assert back.exit_code == 0 and "default is live" in back.output
    finally:
        get_settings.cache_clear()

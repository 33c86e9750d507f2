"""Test helpers: synthetic fish photographs as upload bytes, and a farm with a tank."""

from __future__ import annotations

import io

import httpx
import numpy as np

from aquaculture.classifier.synth import SPECIES, render


def fish_png(index: int = 0, seed: int = 0, size: int = 96, fmt: str = "PNG") -> bytes:
    """A synthetic fish photograph of species ``index`` as image bytes."""
    img = render(SPECIES[index], np.random.default_rng(seed), size, source=seed % 12)
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


async def make_farm(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, str, str]:
    """A farm with one site and one tank: ``(farm_id, site_id, tank_id)``."""
    farm = await client.post("/api/v1/farms", json={"name": "North Bay"}, headers=headers)
    assert farm.status_code == 201, farm.text
    fid = farm.json()["id"]
    site = await client.post(f"/api/v1/farms/{fid}/sites", json={"name": "Pier 1"}, headers=headers)
    assert site.status_code == 201, site.text
    tank = await client.post(f"/api/v1/farms/{fid}/sites/{site.json()['id']}/tanks",
                             json={"name": "T1", "kind": "pen"}, headers=headers)  # fmt: skip
    assert tank.status_code == 201, tank.text
    return fid, site.json()["id"], tank.json()["id"]

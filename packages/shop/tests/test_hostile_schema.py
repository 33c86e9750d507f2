"""Hostile input: schemathesis over Shop's whole OpenAPI schema, authenticated (all checks but
the two :mod:`forgekit.testing.schemafuzz` explains, bounded examples per operation).

The fuzzing user is staff, enrolled in TOTP (the shop holds staff sessions to enrolment until
they are), and the paths name a seeded channel (beside the demo catalogue ``serve`` seeds), category and published product with its
variant, so that the catalogue operations reach their handlers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from forgekit.testing.schemafuzz import FuzzSetup, FuzzUser, assert_schema_holds

USER_VALUES: dict[str, object] = {"role": "staff", "is_verified": 1}


def _ok(resp: httpx.Response, *status: int) -> Any:
    assert resp.status_code in status, (resp.request.method, resp.request.url, resp.text[:500])
    return resp.json() if resp.content else None


def prepare(client: httpx.Client, user: FuzzUser) -> FuzzSetup:
    """Log in as staff, enrol TOTP, seed a channel, a category and a published product."""
    # Log in again: the session was issued before the account became staff.
    login = client.post("/auth/login", data={"username": user.username, "password": user.password})
    h = {"Authorization": f"Bearer {_ok(login, 200)['access_token']}"}
    secret = _ok(client.post("/auth/mfa/totp", headers=h), 200, 201)["secret"]
    _ok(client.post("/auth/mfa/totp/confirm", headers=h,
                    json={"code": pyotp.TOTP(secret).now()}), 200)  # fmt: skip
    _ok(client.post("/api/v1/channels", headers=h,
                    json={"code": "fz", "name": "Fuzz", "currency": "eur"}), 201)  # fmt: skip
    category = _ok(client.post("/api/v1/categories", headers=h,
                               json={"slug": "fuzz", "name": "Fuzz"}), 201)  # fmt: skip
    product = _ok(client.post("/api/v1/products", headers=h, json={
        "slug": "fuzz-product", "name": "Fuzz product",
        "variants": [{"sku": "FUZZ-1", "prices": {"fz": 1000}}]}), 201)  # fmt: skip
    product = _ok(client.post(f"/api/v1/products/{product['id']}/publish", headers=h), 200)
    config = f"""
[parameters]
"path.product_id" = "{product['id']}"
"path.slug" = "{product['slug']}"
"path.variant_id" = "{product['variants'][0]['id']}"
"path.channel_code" = "fz"
"path.category_id" = "{category['id']}"

# The ML services answer 503 problem+json with the command that trains them until a model
# is trained (`shop train ...`); a scratch server has none, by design.
[[operations]]
include-path-regex = "^/api/v1/(forecasts/|recommendations$|sentiment$)"
checks = {{ not_a_server_error = {{ expected-statuses = ["1XX", "2XX", "3XX", "4XX", 503] }} }}

"""
    return FuzzSetup(h, config)


@pytest.mark.hostile
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    assert_schema_holds("shop.cli", "SHOP", tmp_path, "schemathesis-shop",
                        user_values=USER_VALUES, prepare=prepare)  # fmt: skip

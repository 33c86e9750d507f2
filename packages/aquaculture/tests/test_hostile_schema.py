"""Hostile input: schemathesis over Aquaculture's whole OpenAPI schema, authenticated.

All checks run (no 500, responses match their schema, documented status codes and content
types, negative data rejected, auth enforced) with a bounded number of examples per operation
so the run fits in CI; ``make reliability`` also runs the stateful phase (links).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forgekit.testing.faults import record
from forgekit.testing.schemafuzz import fuzz_product

pytestmark = pytest.mark.hostile


def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    phases = os.environ.get("FORGE_FUZZ_PHASES", "examples,coverage,fuzzing")
    run = fuzz_product("aquaculture.cli", "AQUA", tmp_path, phases=phases)
    record("schemathesis-aquaculture", operations=run.operations, returncode=run.returncode,
           summary=run.summary)  # fmt: skip
    assert run.returncode == 0, run.failures

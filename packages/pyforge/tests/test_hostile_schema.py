"""Hostile input: schemathesis over PyForge's whole OpenAPI schema, authenticated (all checks but
the two :mod:`forgekit.testing.schemafuzz` explains, bounded examples per operation)."""

from pathlib import Path

import pytest

from forgekit.testing.schemafuzz import assert_schema_holds


@pytest.mark.hostile
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    assert_schema_holds("pyforge.cli", "PYFORGE", tmp_path, "schemathesis-pyforge")

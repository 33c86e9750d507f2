"""Semantic versions (semver.org 2.0, through the ``semver`` library) for model versions."""

from __future__ import annotations

from typing import Any

import semver

from forgekit.errors import Unprocessable


def parse(text: str) -> semver.Version:
    """``text`` as a semantic version, or 422 problem naming the field."""
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise Unprocessable(
            f"{text!r} is not a semantic version (MAJOR.MINOR.PATCH[-prerelease]).",
            errors=[{"field": "body.version", "message": "not a semantic version",
                     "type": "value_error"}],
        ) from None  # fmt: skip


def order_key(row: Any) -> semver.Version:
    """Sort key of a version row (semantic order: 1.0.0-rc.1 < 1.0.0 < 1.0.1)."""
    return semver.Version.parse(row.version)

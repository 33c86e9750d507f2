"""Reading the fake's form parameters with Stripe's validation errors."""

from __future__ import annotations

from typing import Any

from forgekit.payments.fake.errors import invalid


def text(params: dict[str, Any], name: str, default: str | None = None) -> str | None:
    """An optional string parameter."""
    value = params.get(name, default)
    if value is not None and not isinstance(value, str):
        raise invalid(f"Invalid string: {name}", "parameter_invalid_string", name)
    return value


def required(params: dict[str, Any], name: str) -> str:
    """A required string parameter."""
    value = text(params, name)
    if not value:
        raise invalid(f"Missing required param: {name}.", "parameter_missing", name)
    return value


def integer(params: dict[str, Any], name: str, *, minimum: int = 0) -> int | None:
    """An optional integer parameter of at least ``minimum``."""
    value = text(params, name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise invalid(f"Invalid integer: {value}", "parameter_invalid_integer", name) from None
    if number < minimum:
        raise invalid(f"{name} must be at least {minimum}", "parameter_invalid_integer", name)
    return number


def flag(params: dict[str, Any], name: str, default: bool) -> bool:
    """A ``true``/``false`` parameter."""
    value = text(params, name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise invalid(f"Invalid boolean: {value}", "parameter_invalid_boolean", name)
    return value == "true"


def choice(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of ``allowed``."""
    value = text(params, name, default) or default
    if value not in allowed:
        raise invalid(f"Invalid {name}: must be one of {', '.join(allowed)}", None, name)
    return value


def currency(params: dict[str, Any]) -> str:
    """A lower-case three-letter currency code."""
    value = required(params, "currency").lower()
    if len(value) != 3 or not value.isalpha():
        raise invalid(f"Invalid currency: {value}", "parameter_invalid_string", "currency")
    return value


def metadata(params: dict[str, Any]) -> dict[str, str]:
    """The ``metadata[...]`` map."""
    value = params.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("Invalid metadata", "parameter_invalid_string", "metadata")
    return dict(value)

"""Stripe-shaped error answers of the fake: ``{"error": {"type", "code", "message", ...}}``."""

from __future__ import annotations

from typing import Any


class FakeError(Exception):
    """An error the fake answers with ``status`` and Stripe's error body."""

    def __init__(
        self, status: int, type_: str, message: str, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, code: str | None = None, param: str | None = None) -> FakeError:
    """A 400 ``invalid_request_error``."""
    extra = {"param": param} if param else {}
    return FakeError(400, "invalid_request_error", message, code, **extra)


def missing(kind: str, id_: str) -> FakeError:
    """A 404 for an unknown id."""
    return FakeError(
        404, "invalid_request_error", f"No such {kind}: '{id_}'", "resource_missing", param="id"
    )


def declined(code: str, decline_code: str, **extra: Any) -> FakeError:
    """A 402 ``card_error``."""
    messages = {
        "insufficient_funds": "Your card has insufficient funds.",
        "expired_card": "Your card has expired.",
    }
    message = messages.get(decline_code, "Your card was declined.")
    return FakeError(402, "card_error", message, code, decline_code=decline_code, **extra)

"""Rate definitions: ``Rate(60, 60.0)`` or ``parse_rate("60/minute")``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS: dict[str, float] = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}  # fmt: skip

_RATE_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([a-zA-Z]+)\s*")


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``period_s`` seconds, with bursts of up to ``limit``.

    The limiter is a GCRA: one request's worth of quota comes back every
    ``period_s / limit`` seconds, and an idle client may spend the whole ``limit`` at once.
    """

    limit: int
    period_s: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"rate limit must be at least 1, got {self.limit}")
        if not self.period_s > 0:
            raise ValueError(f"rate period must be positive, got {self.period_s}")

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests at the sustained rate (the emission interval).

        Whole microseconds keep the GCRA arithmetic exact in both Python and Lua (whose numbers
        are doubles); the rounding changes the effective period by under a microsecond per
        request.
        """
        return max(1, round(self.period_s * 1_000_000 / self.limit))

    @property
    def burst_us(self) -> int:
        """The GCRA tolerance: how far ahead of now the schedule may run (``limit`` intervals)."""
        return self.interval_us * self.limit

    def __str__(self) -> str:
        return f"{self.limit}/{self.period_s:g}s"


def parse_rate(text: str) -> Rate:
    """Parse ``"60/minute"``, ``"10/s"``, ``"5/15minutes"`` or ``"1000/hour"`` into a :class:`Rate`.

    Raises ``ValueError`` for anything else.
    """
    match = _RATE_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid rate {text!r}; expected e.g. '60/minute'")
    count, multiplier, unit = match.groups()
    seconds = _UNITS.get(unit.lower())
    if seconds is None:
        raise ValueError(f"invalid rate unit {unit!r} in {text!r}")
    period = seconds * (float(multiplier) if multiplier else 1.0)
    return Rate(int(count), period)

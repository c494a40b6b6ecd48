"""Retry-After (RFC 9110 §10.2.3): ``delay-seconds`` or an ``HTTP-date``."""

from __future__ import annotations

from dataclasses import dataclass

from apiaudit.http.headers.fields import http_date, non_negative_int


@dataclass(frozen=True)
class RetryAfter:
    raw: str
    kind: str  # "delay" | "date" | "invalid"
    seconds: float | None  # delay from the response; None when unknown (invalid, or a date without Date)


def parse_retry_after(value: str | None, *, date_header: str | None = None) -> RetryAfter | None:
    """Parse one Retry-After value; an HTTP-date is turned into a delay relative to the response's
    ``Date`` (the origin's clock, so no local clock is needed and skew does not matter)."""
    if value is None:
        return None
    raw = value.strip()
    delay = non_negative_int(raw)
    if delay is not None:
        return RetryAfter(raw, "delay", float(delay))
    when = http_date(raw)
    if when is None:
        return RetryAfter(raw, "invalid", None)
    now = http_date(date_header)
    return RetryAfter(raw, "date", max(0.0, when - now) if now is not None else None)

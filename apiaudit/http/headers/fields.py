"""Header access shared by the parsers: case-insensitive lookup over several header shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

# Headers as a mapping (one value per name) or as (name, value) pairs (repeats kept).
HeaderInput = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[list[str]]


def pairs(headers: HeaderInput) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out = []
    for pair in items:
        name, value = pair[0], pair[1]
        out.append((str(name), str(value)))
    return out


def values(headers: HeaderInput, name: str) -> list[str]:
    """Every value of ``name`` (case-insensitive), in order."""
    wanted = name.lower()
    return [v for k, v in pairs(headers) if k.lower() == wanted]


def joined(headers: HeaderInput, name: str) -> str | None:
    """Field lines combined with ", " (RFC 9110 §5.3), or None when absent."""
    found = values(headers, name)
    return ", ".join(found) if found else None


def http_date(text: str | None) -> float | None:
    """An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, rfc850 or asctime) as a POSIX timestamp."""
    if not text:
        return None
    try:
        return parsedate_to_datetime(text.strip()).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def non_negative_int(text: str | None) -> int | None:
    """A 1*DIGIT value (delta-seconds style); None if it is anything else."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return int(text)

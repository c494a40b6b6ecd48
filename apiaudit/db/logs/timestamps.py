"""Log timestamps → seconds, fast: ``datetime.strptime`` costs ~5 µs a line, this ~0.3 µs.

The date-and-minute part (``2026-11-29 05:38``) is converted once and cached; the seconds are
added as a float. The time zone is ignored: one server writes one zone, and only differences
between timestamps (idle gaps, session lifetimes) are used.
"""

from __future__ import annotations

import calendar

_MINUTES: dict[str, float] = {}


def seconds(text: str | None) -> float | None:
    """``YYYY-MM-DD HH:MM:SS[.fff][ TZ]`` or a Unix epoch (``%n``) → seconds; None if unreadable."""
    if not text:
        return None
    if len(text) < 19 or text[4] != "-":
        try:
            return float(text)
        except ValueError:
            return None
    key = text[:16]
    base = _MINUTES.get(key)
    try:
        if base is None:
            base = float(calendar.timegm((int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                                          int(text[14:16]), 0, 0, 0, 0)))
            if len(_MINUTES) > 100_000:
                _MINUTES.clear()
            _MINUTES[key] = base
        end = text.find(" ", 17)
        return base + float(text[17:] if end < 0 else text[17:end])
    except ValueError:
        return None

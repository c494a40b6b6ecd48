"""Which request/response header values are secrets, and how they are kept out of evidence.

Beyond the well-known names (``apiaudit.redact.SENSITIVE_HEADERS``) any header whose name says
it carries a credential (``X-Custom-Token``, ``X-Api-Key``, ``X-Session-Id``...) is treated as one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apiaudit.redact import MASK, SENSITIVE_HEADERS

_SECRET_NAME = re.compile(r"auth|token|api[-_]?key|secret|session|password|passwd|cookie|signature", re.I)


def is_secret_header(name: str) -> bool:
    return name.lower() in SENSITIVE_HEADERS or bool(_SECRET_NAME.search(name))


def mask_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Hide secret values; for Set-Cookie keep the cookie name and attributes (checks need them)."""
    out = []
    for name, value in pairs:
        if name.lower() == "set-cookie":
            cookie, _, attrs = value.partition(";")
            value = f"{cookie.split('=', 1)[0]}={MASK}" + (f";{attrs}" if attrs else "")
        elif is_secret_header(name):
            value = MASK
        out.append((name, value))
    return out

"""Keep secrets out of every output.

Three layers, applied when a report is assembled and on every error message:

1. Known secret values (auth header values from config and ``-H``, DSN and cache passwords,
   ``${ENV}`` expansions) are registered with :func:`register_secret` and replaced wherever they occur.
2. Passwords in URLs/DSNs (``scheme://user:pass@host``, ``password=...`` in key/value DSNs).
3. Values of sensitive headers (Authorization, Cookie, Set-Cookie, X-API-Key, ...) in header mappings.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

MASK = "***"
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
    }
)
_SECRETS: set[str] = set()
# The password runs to the LAST '@' of the token: unencoded '@', '/' or ':' in passwords are the most
# common DSN typo, and a lazy match would print the rest of the password as the "host".
_URL_PASSWORD = re.compile(r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)(?P<pw>\S*)(?P<at>@)")
# key=value conninfo: a quoted value may hold spaces and doubled quotes, or be cut off unbalanced.
_KV_PASSWORD = re.compile(r"(?P<pre>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.|'')*(?:'|$)|\S+)", re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"(?P<pre>[?&](?:password|passwd|pwd|token|api_key|apikey|access_token|secret)=)(?P<pw>[^&#\s]+)",
    re.IGNORECASE,
)

T = TypeVar("T")


def register_secret(value: str | None) -> None:
    """Remember a secret value; short values are ignored (they would mask ordinary text)."""
    if value and len(value.strip()) >= 4:
        _SECRETS.add(value.strip())
        # Bearer tokens: also hide the token alone.
        parts = value.strip().split(None, 1)
        if len(parts) == 2 and len(parts[1]) >= 4:
            _SECRETS.add(parts[1])


def register_userinfo(target: str) -> None:
    """Register the password of ``scheme://user:password@host`` before anything tries to parse it.

    Splits at the last '@' so an unencoded '@' or '/' in the password cannot hide part of it."""
    rest = target.strip().split("://", 1)[1] if "://" in target else ""
    if "@" in rest:
        userinfo = rest.rsplit("@", 1)[0]
        if ":" in userinfo:
            register_secret(userinfo.split(":", 1)[1])


def clear_secrets() -> None:
    _SECRETS.clear()


def redact_text(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}{m['at']}", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['pre']}{MASK}", text)


def redact_value(value: T) -> T:
    """Redact every string inside ``value`` (dicts, lists, tuples); header-like keys lose their values."""
    return _walk(value, depth=0)  # type: ignore[no-any-return]


def _walk(value: Any, depth: int) -> Any:
    if depth > 64:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and k.lower() in SENSITIVE_HEADERS and v not in (None, "", [], {}):
                out[k] = _mask_header(k, v)
            else:
                out[k] = _walk(v, depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        items = [_walk_pair(v, depth + 1) for v in value]
        return type(value)(items) if isinstance(value, tuple) else items
    return value


def _walk_pair(value: Any, depth: int) -> Any:
    # Header lists are [name, value] pairs.
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and isinstance(value[0], str)
        and value[0].lower() in SENSITIVE_HEADERS
    ):
        masked = _mask_header(value[0], value[1])
        return type(value)((value[0], masked)) if isinstance(value, tuple) else [value[0], masked]
    return _walk(value, depth)


def _mask_header(name: str, value: Any) -> str:
    if name.lower() in {"set-cookie", "cookie"} and isinstance(value, str):
        # Keep cookie names (they are the evidence of sticky sessions); hide the values.
        names = [part.split("=", 1)[0].strip() for part in value.split(";" if name.lower() == "cookie" else "\n")]
        first = value.split(";", 1)[0].split("=", 1)[0].strip()
        shown = names if name.lower() == "cookie" else [first]
        return "; ".join(f"{n}={MASK}" for n in shown if n)
    return MASK

"""Validate target URLs and DSNs given on the command line or in config (bad ones are usage errors)."""

from __future__ import annotations

from urllib.parse import urlsplit

from apiaudit.errors import UsageError
from apiaudit.redact import encode_userinfo, redact_text, register_secret, register_userinfo


def http_url(url: str) -> str:
    register_userinfo(url)
    if "://" not in url:
        raise UsageError(f"not an http(s) URL: {redact_text(url)!r} (did you mean http://{url.strip()}?)")
    return _checked_url(url, ("http", "https"), "http:// or https://", "URL")


def _checked_url(url: str, schemes: tuple[str, ...], expected: str, what: str) -> str:
    """Scheme, host and port must parse; a password in the URL becomes a secret."""
    register_userinfo(url)
    parts = urlsplit(url.strip())
    if parts.scheme not in schemes:
        raise UsageError(f"unsupported {what} scheme {parts.scheme!r} in {redact_text(url)!r} (expected {expected})")
    if not parts.hostname:
        raise UsageError(f"{what} has no host: {redact_text(url)!r}")
    try:
        _ = parts.port
    except ValueError:
        raise UsageError(f"{what} has an invalid port: {redact_text(url)!r}") from None
    if parts.password:
        register_secret(parts.password)
    return url.strip()


def postgres_dsn(dsn: str) -> str:
    """Accept postgresql:// URLs and key=value conninfo strings; reject what libpq would not parse."""
    from psycopg import conninfo

    text = dsn.strip()
    register_userinfo(text)
    if "://" in text and not text.startswith(("postgresql://", "postgres://")):
        raise UsageError(f"not a PostgreSQL DSN: {redact_text(text)!r} (expected postgresql://user@host:port/db)")
    try:
        params = conninfo.conninfo_to_dict(text)
    except Exception as exc:  # psycopg raises ProgrammingError with libpq's message
        raise UsageError(f"invalid DSN {redact_text(text)!r}: {redact_text(str(exc).strip())}") from None
    if params.get("password"):
        register_secret(str(params["password"]))
    return text


def cache_url(url: str) -> str:
    """Host after the LAST '@' (a password with an unencoded '@' or '/'), user info percent-encoded."""
    register_userinfo(url)
    return _checked_url(encode_userinfo(url), ("redis", "rediss", "memcached"),
                        "redis://, rediss:// or memcached://", "cache URL")

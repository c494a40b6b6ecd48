"""Check a PostgreSQL DSN before use, without ever echoing it: a malformed DSN often holds a password.

The commonest typo is an unencoded '@', '/', '#' or space in a URL password
(``postgresql://app:p@ss@host/db``): libpq then reads part of the password as the host, port or
path, and its error messages quote those parts. So the password-looking part is registered as a
secret first, such DSNs are refused with a hint (RFC 3986 §3.2.1: userinfo characters outside
unreserved/sub-delims/':' must be percent-encoded), and libpq's parse errors are shown with their
quoted fragments masked.
"""

from __future__ import annotations

import re

from apiaudit.errors import UsageError
from apiaudit.redact import redact_text, register_secret, split_userinfo

_QUOTED = re.compile(r'"(?!=")[^"]*"')  # not the '"="' of 'missing "=" after'
NOT_SHOWN = "the DSN is not shown, it may hold a password"


def checked_dsn(dsn: str) -> str:
    """The DSN if libpq can parse it and its port is a port; else a UsageError that never quotes it."""
    from psycopg import conninfo

    from apiaudit.targets import postgres_dsn

    text = dsn.strip()
    _guard_password(text)
    try:
        params = conninfo.conninfo_to_dict(text)
    except Exception as exc:  # psycopg.ProgrammingError with libpq's message
        why = _QUOTED.sub('"…"', redact_text(str(exc).strip()))  # libpq quotes the bad fragment
        raise UsageError(f"invalid DSN: {why} ({NOT_SHOWN})") from None
    text = postgres_dsn(text)
    for port in str(params.get("port") or "5432").split(","):
        if not port.strip().isdigit() or not 0 < int(port) < 65536:
            raise UsageError(f"invalid port in the DSN: expected a number from 1 to 65535 ({NOT_SHOWN})")
    return text


def _guard_password(text: str) -> None:
    """Register what looks like the password; refuse a URL whose userinfo needs percent-encoding."""
    _scheme, userinfo, _rest = split_userinfo(text)  # up to the LAST '@': the password may hold one
    if userinfo is None:
        return  # key=value (libpq's parse errors are shown with their quoted fragments masked), no user
    _user, colon, password = userinfo.partition(":")
    if password:
        register_secret(password)
    if colon and any(c in userinfo for c in "/@# \t"):
        raise UsageError(
            f"the DSN's user:password part holds '@', '/', '#' or a space: percent-encode them "
            f"(%40, %2F, %23, %20) ({NOT_SHOWN})"
        )

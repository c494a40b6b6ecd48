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
from collections.abc import Mapping

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
    register_dsn_secrets(params)
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


# conninfo keys whose values are secrets (libpq docs, "Parameter Key Words").
SECRET_KEYS = ("password", "sslpassword")
_URL_USERINFO = re.compile(r"^(?P<pre>postgres(?:ql)?://[^:/@]*:)[^/]*@", re.IGNORECASE)  # to the last '@'
_URL_SECRET = re.compile(r"(?P<pre>[?&](?:ssl)?password=)(?P<value>[^&#]*)", re.IGNORECASE)
_KV_SECRET = re.compile(
    r"(?P<pre>(?:^|\s)(?:ssl)?password\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*(?:'|$)|\S*)", re.IGNORECASE
)


def register_dsn_secrets(params: Mapping[str, object]) -> None:
    """Every conninfo secret (password, sslpassword) is masked wherever it would appear later."""
    for key in SECRET_KEYS:
        if params.get(key):
            register_secret(str(params[key]))


def display_dsn(dsn: str) -> str:
    """The DSN as shown in reports: every secret value masked, in URL and key=value form."""
    text = _URL_USERINFO.sub(lambda m: f"{m['pre']}***@", dsn.strip())
    text = _URL_SECRET.sub(lambda m: f"{m['pre']}***", text)
    text = _KV_SECRET.sub(lambda m: f"{m['pre']}***", text)
    return redact_text(text)


def workload_search_path(dsn: str, environ: dict[str, str] | None = None) -> list[str] | None:
    """The application's search_path from the DSN's ``options`` (else ``PGOPTIONS``), as schema names.

    libpq passes ``options`` to the server as command-line switches: ``-c name=value``,
    ``-cname=value`` or ``--name=value``, split on whitespace, ``\\`` escaping the next character.
    None when neither sets it (the caller falls back to the database's default)."""
    import os

    from psycopg import conninfo

    try:
        options = conninfo.conninfo_to_dict(dsn).get("options")
    except Exception:  # checked_dsn has parsed it already; be safe anyway
        options = None
    if not options:
        options = (os.environ if environ is None else environ).get("PGOPTIONS")
    value = _option_value(str(options or ""), "search_path")
    return None if value is None else split_search_path(value)


def _option_value(options: str, name: str) -> str | None:
    args, cur, escaped = [], "", False
    for ch in options:
        if escaped:
            cur, escaped = cur + ch, False
        elif ch == "\\":
            escaped = True
        elif ch.isspace():
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        args.append(cur)
    found = None
    i = 0
    while i < len(args):
        arg = args[i]
        setting = None
        if arg == "-c" and i + 1 < len(args):
            setting, i = args[i + 1], i + 1
        elif arg.startswith("-c") or arg.startswith("--"):
            setting = arg[2:]
        if setting and "=" in setting:
            key, value = setting.split("=", 1)
            if key.replace("-", "_").lower() == name:
                found = value  # the last one wins, as in the server
        i += 1
    return found


def split_search_path(value: str) -> list[str]:
    """``"$user", public, "Tenant A"`` -> ['$user', 'public', 'Tenant A'] (identifier rules)."""
    out, cur, quoted, i = [], "", False, 0
    text = value.strip()
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1 : i + 2] == '"':
                cur, i = cur + '"', i + 1
            elif ch == '"':
                quoted = False
            else:
                cur += ch
        elif ch == '"':
            quoted = True
        elif ch == ",":
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch.lower() if not ch.isspace() else ch
        i += 1
    out.append(cur.strip())
    return [s for s in out if s]

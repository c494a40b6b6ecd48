"""Keep secrets out of every output.

Three layers, applied when a report is assembled and on every error message:

1. Known secret values (auth header values from config and ``-H``, DSN and cache passwords,
   ``${ENV}`` expansions) are registered with :func:`register_secret` and replaced wherever they occur.
2. Passwords in URLs/DSNs (``scheme://user:pass@host``, ``password=...`` in key/value DSNs).
3. Values of sensitive headers (Authorization, Cookie, Set-Cookie, X-API-Key, ...) in header mappings.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

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
# Query-string credentials: API keys (Google ``key=``), OAuth/OIDC tokens, presigned-URL signatures
# (AWS SigV4 ``X-Amz-Signature``/``X-Amz-Credential``, GCS ``X-Goog-Signature``), session ids, JWTs.
_QUERY_NAMES = (
    r"[\w.-]*(?:token|secret|signature|password|passwd|credential|api[-_]?key)"
    r"|key|pwd|sig|auth|authorization|jwt|session|session[-_]?id"
)
_QUERY_SECRET = re.compile(rf"(?P<pre>[?&;](?:{_QUERY_NAMES})=)(?P<pw>[^&#\s\"'<>]+)", re.IGNORECASE)

T = TypeVar("T")


def register_secret(value: str | None) -> None:
    """Remember a secret value; short values are ignored (they would mask ordinary text).

    Its encoded forms are remembered too, since a server may echo it back in any of them: base64
    (Basic credentials, JWT payloads, binary bodies), URL-safe base64 and percent-encoding."""
    if not value or len(value.strip()) < 4:
        return
    value = value.strip()
    _add_forms(value)
    parts = value.split(None, 1)  # "Bearer <token>", "Basic <base64>": hide the credential alone too
    if len(parts) == 2 and len(parts[1]) >= 4:
        _add_forms(parts[1])
        if parts[0].lower() == "basic":
            _register_basic(parts[1])


def _add_forms(value: str, *, plain: bool = True) -> None:
    if plain:
        _SECRETS.add(value)
    raw = value.encode("utf-8")
    b64 = base64.b64encode(raw).decode("ascii")
    for form in (b64, b64.rstrip("="), base64.urlsafe_b64encode(raw).decode("ascii").rstrip("="),
                 quote(value, safe=""), quote_plus(value, safe="")):
        if len(form) >= 4:
            _SECRETS.add(form)


def _register_basic(token: str) -> None:
    """A Basic credential given by the user: its decoded ``user:pass`` and the password are secrets."""
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return
    if len(decoded) >= 4:
        _add_forms(decoded)
    password = decoded.partition(":")[2]
    if len(password) >= 4:
        _add_forms(password)


def split_userinfo(target: str) -> tuple[str, str | None, str]:
    """``scheme://user:pass@host/rest`` -> (``scheme://``, ``user:pass`` or None, ``host/rest``).

    The user info runs to the LAST '@' before the query: an unencoded '@' or '/' in a password is the
    commonest URL/DSN typo, and a split at the first '@' or '/' reads part of the password as the
    host (and prints it). Shared by DSNs (db/dsn.py), cache URLs and the redaction below."""
    text = target.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return "", None, text
    head, qmark, query = rest.partition("?")
    if "@" not in head:
        return scheme + sep, None, rest
    userinfo, _, hostpart = head.rpartition("@")
    return scheme + sep, userinfo, hostpart + qmark + query


def encode_userinfo(target: str) -> str:
    """The URL with its user and password percent-encoded (RFC 3986 §3.2.1), host taken after the
    last '@'; unchanged when there is no user info."""
    scheme, userinfo, rest = split_userinfo(target)
    if userinfo is None:
        return target.strip()
    user, colon, password = userinfo.partition(":")
    safe = "!$&'()*+,;=-._~%"  # already-encoded '%XX' stays as written
    return f"{scheme}{quote(user, safe=safe)}{colon}{quote(password, safe=safe)}@{rest}"


def register_userinfo(target: str) -> None:
    """Register the password of ``scheme://user:password@host`` (and its Basic-auth form, which an
    HTTP client sends for it) and any query-string credential, before anything tries to parse it."""
    _scheme, userinfo, _rest = split_userinfo(target)
    if userinfo and ":" in userinfo:
        user, _, password = userinfo.partition(":")
        register_secret(password)
        register_secret(unquote(password))
        basic = f"{unquote(user)}:{unquote(password)}"
        # httpx sends it as "Authorization: Basic base64(user:pass)"; the plain form is left alone so the
        # user name stays readable (its password part is a secret of its own).
        _add_forms(basic, plain=False)
    for m in _QUERY_SECRET.finditer(target):
        register_secret(m["pw"])
        register_secret(unquote(m["pw"]))


def clear_secrets() -> None:
    _SECRETS.clear()


def redact_text(text: str) -> str:
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}{m['at']}", text)
    text = _KV_PASSWORD.sub(lambda m: f"{m['pre']}{MASK}", text)
    return _QUERY_SECRET.sub(lambda m: f"{m['pre']}{MASK}", text)


def redact_bytes(data: bytes) -> bytes:
    """Registered secrets (in every form :func:`register_secret` derives) replaced in raw bytes:
    for bodies saved base64-encoded, where text redaction cannot see them."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        for raw in {secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("latin-1", "ignore")}:
            if len(raw) >= 4 and raw in data:
                data = data.replace(raw, MASK.encode("ascii"))
    return data


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
        return (value[0], masked) if isinstance(value, tuple) else [value[0], masked]
    return _walk(value, depth)


def _mask_header(name: str, value: Any) -> str:
    if name.lower() in {"set-cookie", "cookie"} and isinstance(value, str):
        # Keep cookie names (they are the evidence of sticky sessions); hide the values.
        names = [part.split("=", 1)[0].strip() for part in value.split(";" if name.lower() == "cookie" else "\n")]
        first = value.split(";", 1)[0].split("=", 1)[0].strip()
        shown = names if name.lower() == "cookie" else [first]
        return "; ".join(f"{n}={MASK}" for n in shown if n)
    return MASK

"""Set-Cookie (RFC 6265 §5.2) and whether a cookie looks like a server-side session.

A session cookie ties a client to state held by one server instance (or to a load balancer's
sticky backend), which is what the guide's "Stateless design" item rules out for APIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from apiaudit.redact import MASK

# Names used by common frameworks for server-side session ids.
_SESSION_NAMES = re.compile(
    r"^(?:.*sess(?:ion)?(?:id)?|.*[_.-]?sid|phpsessid|jsessionid|asp\.net_sessionid|aspsessionid\w*|"
    r"connect\.sid|laravel_session|_.+_session|rack\.session|ci_session|cfid|cftoken|sessionid)$",
    re.IGNORECASE,
)
# Load-balancer affinity ("sticky session") cookies: AWS ALB/ELB, HAProxy, F5, Traefik, nginx ingress.
_STICKY_NAMES = re.compile(
    r"^(?:awsalb\w*|awselb\w*|serverid|routeid|route|bigipserver.*|_sticky\w*|ingresscookie|"
    r"jsessionid\.\w+|__stickysession|x-backend-server)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cookie:
    name: str
    value_len: int | None  # None when the recorded value was already masked (the scan client hides it)
    attributes: tuple[str, ...]  # lower-cased attribute names (path, httponly, max-age, ...)
    persistent: bool  # has Max-Age or Expires
    session_like: str | None  # why it looks like a session, or None


def parse_set_cookie(value: str) -> Cookie | None:
    """Parse one Set-Cookie line (RFC 6265 §5.2); None when there is no name=value pair."""
    first, _, rest = value.partition(";")
    if "=" not in first:
        return None
    name, _, cval = first.partition("=")
    name, cval = name.strip(), cval.strip().strip('"')
    if not name:
        return None
    attrs = tuple(a.split("=", 1)[0].strip().lower() for a in rest.split(";") if a.strip())
    persistent = "max-age" in attrs or "expires" in attrs
    value_len = None if cval == MASK else len(cval)
    return Cookie(name, value_len, attrs, persistent, _why_session(name, value_len, attrs, persistent))


def _why_session(name: str, value_len: int | None, attrs: tuple[str, ...], persistent: bool) -> str | None:
    if _STICKY_NAMES.match(name):
        return "load-balancer affinity cookie"
    if _SESSION_NAMES.match(name):
        return "session cookie name"
    # HttpOnly (scripts cannot read it, unlike CSRF tokens), no expiry, and an opaque value.
    if "httponly" in attrs and not persistent and (value_len is None or value_len >= 16):
        return "opaque HttpOnly cookie without expiry"
    return None


def session_cookies(set_cookie_values: list[str]) -> list[Cookie]:
    out = []
    for raw in set_cookie_values:
        cookie = parse_set_cookie(raw)
        if cookie is not None and cookie.session_like:
            out.append(cookie)
    return out

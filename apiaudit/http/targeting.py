"""Which URLs a scan may send to, and how URLs are built from paths (the SSRF guard).

The scan only talks to its targets: the origins (scheme, host, port) of the URLs the user gave, plus
host names listed in ``http.allow_hosts``. Everything else a target serves — OpenAPI ``paths`` keys
and ``servers``, Link headers, ``next`` links, asset URLs, redirects — is data, not a destination.

* :func:`join_path` builds a URL from a base and a *path*, never by gluing strings: a key such as
  ``@evil:80/x``, ``.attacker.net/x``, ``//other/x``, ``\\\\other`` or an absolute URL is refused.
* :class:`TargetGuard` re-checks every URL just before it is sent (``ScanClient`` calls it for each
  request and each redirect hop), parsing it with httpx, the library that sends it: what is compared
  is the host httpx would connect to (IDNA-encoded, lower-cased, default port filled in), so userinfo
  tricks, upper-case or IDNA variants, IPv6 literals and port changes cannot slip past.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) as httpx will connect; None for anything that is not an http(s) URL."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeError, ValueError, TypeError):
        return None
    if parsed.scheme not in DEFAULT_PORTS or not host:
        return None
    return parsed.scheme, host.rstrip("."), parsed.port or DEFAULT_PORTS[parsed.scheme]


def _host_name(name: str) -> str:
    try:
        return (origin_of(f"http://{name.strip()}/") or ("", name.lower(), 0))[1]
    except Exception:
        return name.strip().lower()


class TargetGuard:
    """``guard.refusal(url)`` is None for an on-target URL, else the reason it is not sent."""

    def __init__(self, targets: Iterable[str] = (), allow_hosts: Iterable[str] = ()) -> None:
        self.origins: set[Origin] = set()
        self.allow_hosts = {_host_name(h) for h in allow_hosts if h.strip()}
        for url in targets:
            self.trust(url)

    def trust(self, url: str) -> None:
        """Add the origin of a URL the *user* gave (command line, config, a local OpenAPI file)."""
        origin = origin_of(url)
        if origin is not None:
            self.origins.add(origin)

    def refusal(self, url: str) -> str | None:
        origin = origin_of(url)
        if origin is None:
            return "not an http(s) URL with a host"
        if origin in self.origins or origin[1] in self.allow_hosts:
            return None
        scheme, host, port = origin
        return (f"off the target: {scheme}://{host}:{port} is not a scanned origin "
                "(allow it with http.allow_hosts)")


def join_path(base: str, path: str) -> str | None:
    """``base`` (scheme://host[:port][/prefix]) + an absolute *path* (``/items/{id}``); None when
    ``path`` is not a plain path: OpenAPI requires paths keys to start with '/' (3.1 §4.8.8), and
    anything else is a way to change the host the URL points at."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return None
    if any(c in path for c in "\\#?") or any(ord(c) < 0x21 or ord(c) == 0x7F for c in path):
        return None
    try:
        parts = urlsplit(base)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    # Percent-encode anything that is not a path character; keep '{param}' slots for later filling.
    safe_path = quote(path, safe="/{}:;=,+!$&'()*~.-_%@")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + safe_path, "", ""))

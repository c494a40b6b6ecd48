"""Static assets and CDN (``scaling.cdn``).

Exchanges read (in ``ScanEvidence.extra``, written by ``apiaudit.http.probes.static``):
``static:<url>`` (first fetch) and ``static-repeat:<url>`` (the same URL again, to see a cache hit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Exchange, ScanEvidence
from apiaudit.http.headers import cache_evidence
from apiaudit.model import Finding
from apiaudit.requirements import Req

# A content hash in the file name: hex of 8+ chars, hex of 6-7 mixing letters and digits (the README's
# "app.3f9a1c.js"; "facade" or "202401" are words/dates), or a base64url/base36 run of 8+ mixing letters
# and digits (webpack "app.3f2a9c1b.js", Vite "index-Df3kq9Lz.js", Rails "app-<sha256>.css").
_HASH_SEGMENT = re.compile(r"(?:^|[.\-_~])([0-9a-f]{6,}|[A-Za-z0-9_]{8,})(?=[.\-_~])")
_VERSION_QUERY = re.compile(r"(?:^|&)(?:v|ver|version|hash|h|rev)=[^&]{6,}")


def fingerprinted(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed URL in replayed evidence
        return False
    name = parts.path.rsplit("/", 1)[-1]
    for match in _HASH_SEGMENT.finditer(name):
        token = match.group(1)
        mixed = re.search(r"\d", token) and re.search(r"[A-Za-z]", token)
        if re.fullmatch(r"[0-9a-f]{8,}", token) or (mixed and (len(token) >= 8 or re.fullmatch(r"[0-9a-f]+", token))):
            return True
    return bool(_VERSION_QUERY.search(parts.query))


def cache_control(value: str | None) -> dict[str, str | None]:
    """Directives of a Cache-Control value (RFC 9111 §5.2), names lower-cased."""
    out: dict[str, str | None] = {}
    for part in (value or "").split(","):
        name, _, arg = part.strip().partition("=")
        if name:
            out.setdefault(name.lower(), arg.strip().strip('"') or None)
    return out


def max_age(directives: dict[str, str | None]) -> int | None:
    for name in ("s-maxage", "max-age"):
        raw = directives.get(name)
        if raw is not None and raw.isdigit():
            return int(raw)
    return None


def static_pairs(ev: ScanEvidence) -> dict[str, list[Exchange]]:
    """Asset URL -> its fetches (first, repeat)."""
    out: dict[str, list[Exchange]] = {}
    for ex in ev.extra:
        kind, _, url = ex.purpose.partition(":")
        if kind in ("static", "static-repeat") and url:
            out.setdefault(url, []).append(ex)
    return out


@check("http.static.not-immutable", "http.static.no-cache-headers", "http.static.no-cdn-hit", kind="scan",
       requires=(Req.PROBE_STATIC,))
def check_static(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    min_age = int(ctx.threshold("static_immutable_min_age_s"))
    assets = {url: exs for url, exs in static_pairs(ev).items() if any(_ok(ex) for ex in exs)}
    if not assets:
        yield NotApplicable("no static assets configured (config 'static:') or linked from an HTML page")
        return
    never_hit: list[str] = []
    for url, exchanges in assets.items():
        first = next(ex for ex in exchanges if _ok(ex))
        cc_raw = first.header("cache-control")
        cc = cache_control(cc_raw)
        age = max_age(cc)
        where = {"url": url, "method": "GET"}
        evidence = {"cache_control": cc_raw, "fingerprinted": fingerprinted(url),
                    "etag": first.header("etag"), "last_modified": first.header("last-modified")}
        if fingerprinted(url) and (age is None or age < min_age or "immutable" not in cc):
            yield Finding("http.static.not-immutable", where,
                          {"cache_control": cc_raw or "(none)", "min_age": min_age}, evidence)
        elif age is None and not first.header("etag") and not first.header("last-modified") \
                and "no-store" not in cc:
            yield Finding("http.static.no-cache-headers", where, {}, evidence)
        signals = [cache_evidence(ex.response_headers) for ex in exchanges if _ok(ex)]
        if len(exchanges) >= 2 and not any(s.hit for s in signals):
            never_hit.append(url)
    if never_hit and len(never_hit) == len(assets):
        yield Finding("http.static.no-cdn-hit", {"url": never_hit[0], "method": "GET"},
                      {"count": len(never_hit)}, {"assets": never_hit[:20]})
    if len(never_hit) == len(assets):
        # No asset was ever served by a cache: a CDN is not seen, so the item cannot pass (its cache
        # headers still make it warn when they are wrong).
        yield NotApplicable("no CDN or cache hit was seen on any static asset (Cache-Status, X-Cache, Age)",
                            items=("scaling.cdn",))


def _ok(ex: Exchange) -> bool:
    return ex.ok and ex.status is not None and 200 <= ex.status < 300

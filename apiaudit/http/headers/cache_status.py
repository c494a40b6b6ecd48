"""Evidence that a shared cache (CDN, reverse proxy, application cache) served a response.

``Cache-Status`` (RFC 9211) is parsed as the RFC 8941 List it is: one member per cache, the
origin-most first (§2), with ``hit`` / ``fwd`` / ``fwd-status`` / ``ttl`` / ``stored`` / ``detail``
parameters. The older vendor headers are read too: ``Age`` (RFC 9111 §5.1: > 0 means a cache
stored it), ``Via`` (RFC 9110 §7.6.3), ``X-Cache`` (Squid, Varnish, CloudFront, Fastly),
``CF-Cache-Status`` (Cloudflare), ``X-Cache-Status`` (nginx ``$upstream_cache_status``),
``X-Varnish`` with two ids (a hit) and ``X-Served-By`` / ``X-Amz-Cf-Id`` / ``CF-Ray`` (CDN presence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from apiaudit.http.headers.fields import HeaderInput, joined, non_negative_int
from apiaudit.http.headers.sfv import SFVError, parse_list


@dataclass(frozen=True)
class CacheStatusEntry:
    cache: str
    hit: bool
    fwd: str | None = None
    fwd_status: int | None = None
    ttl: int | None = None
    stored: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class CacheEvidence:
    hit: bool | None  # True: some cache answered; False: caches present, all missed; None: no signal
    cdn: tuple[str, ...] = ()  # names of caches/CDNs seen
    signals: dict[str, str] = field(default_factory=dict)  # header -> raw value (shortened)

    @property
    def cached_layer(self) -> bool:
        return bool(self.cdn) or self.hit is not None


def parse_cache_status(value: str | None) -> list[CacheStatusEntry]:
    """Parse Cache-Status; an invalid field yields [] (RFC 9211 §2: ignore the whole field)."""
    if not value:
        return []
    try:
        items = parse_list(value)
    except SFVError:
        return []
    out = []
    for it in items:
        if not isinstance(it.value, str):
            continue
        p = it.params
        fwd_status, ttl = _int(p.get("fwd-status")), _int(p.get("ttl"))
        detail = p.get("detail")
        out.append(CacheStatusEntry(
            cache=str(it.value), hit=p.get("hit") is True, fwd=str(p["fwd"]) if "fwd" in p else None,
            fwd_status=fwd_status, ttl=ttl,
            stored=p.get("stored") is True, detail=str(detail) if isinstance(detail, str) else None,
        ))
    return out


_HIT_WORDS = ("HIT", "STALE", "REVALIDATED", "UPDATING")
_MISS_WORDS = ("MISS", "EXPIRED", "BYPASS", "DYNAMIC", "PASS", "REFRESH")
_CDN_MARKERS = {
    "x-amz-cf-id": "cloudfront", "cf-ray": "cloudflare", "x-served-by": "fastly",
    "x-akamai-request-id": "akamai", "x-azure-ref": "azure-front-door", "x-vercel-cache": "vercel",
    "x-nf-request-id": "netlify", "fly-request-id": "fly",
}


def cache_evidence(headers: HeaderInput) -> CacheEvidence:
    """Combine every cache signal of one response. Never raises."""
    signals: dict[str, str] = {}
    cdn: list[str] = []
    verdicts: list[bool] = []

    status = joined(headers, "cache-status")
    if status is not None:
        signals["cache-status"] = status[:200]
        entries = parse_cache_status(status)
        cdn.extend(e.cache for e in entries)
        if entries:
            verdicts.append(any(e.hit for e in entries))
    for name in ("x-cache", "cf-cache-status", "x-cache-status", "x-vercel-cache"):
        raw = joined(headers, name)
        if raw is None:
            continue
        signals[name] = raw[:200]
        word = _word(raw)
        if word is not None:
            verdicts.append(word)
        if name == "cf-cache-status":
            cdn.append("cloudflare")
    age = non_negative_int(joined(headers, "age"))
    if age is not None:
        signals["age"] = str(age)
        if age > 0:
            verdicts.append(True)
    via = joined(headers, "via")
    if via is not None:
        signals["via"] = via[:200]
        cdn.extend(part.strip().split(" ")[-1] for part in via.split(",") if part.strip())
    varnish = joined(headers, "x-varnish")
    if varnish is not None:
        signals["x-varnish"] = varnish[:200]
        cdn.append("varnish")
        verdicts.append(len(varnish.split()) >= 2)  # "req-id cached-id" means a hit
    for name, label in _CDN_MARKERS.items():
        if joined(headers, name) is not None:
            cdn.append(label)
    hit = any(verdicts) if verdicts else None
    return CacheEvidence(hit=hit, cdn=tuple(dict.fromkeys(c for c in cdn if c)), signals=signals)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _word(raw: str) -> bool | None:
    """HIT/MISS words of X-Cache-style headers; ``X-Cache: MISS, HIT`` (two tiers) counts as a hit."""
    upper = raw.upper()
    if any(w in upper for w in _HIT_WORDS):
        return True
    if any(w in upper for w in _MISS_WORDS):
        return False
    return None

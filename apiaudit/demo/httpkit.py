"""Small HTTP building blocks for the sample API: validators, gzip, a token bucket and a latency histogram.

Stdlib only; the sample API ships inside the package and must not pull a web framework in.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import threading
import time
from collections.abc import Iterable

# Compress only bodies of at least 1 KB: below that gzip's header overhead eats the savings
# (GUIDE.md "Compression": "Compresses responses > 1KB").
GZIP_MIN_BYTES = 1024


def strong_etag(body: bytes, coding: str = "") -> str:
    """A strong validator of the representation; a different content coding is a different
    representation and gets a different strong ETag (RFC 9110 §8.8.3.3)."""
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f'"{digest}-{coding}"' if coding else f'"{digest}"'


def etag_matches(if_none_match: str | None, etags: Iterable[str]) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): ``W/`` prefixes are ignored."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return any(tag.removeprefix("W/") in wanted for tag in etags)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when ``gzip`` is acceptable with a non-zero qvalue (RFC 9110 §12.5.3)."""
    for part in (accept_encoding or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().lower().removeprefix("q=")
            try:
                return not params or float(q) > 0
            except ValueError:
                return False
    return False


def gzip_body(body: bytes) -> bytes:
    # mtime=0 keeps the compressed bytes (and so their ETag) stable between requests.
    return gzip.compress(body, compresslevel=6, mtime=0)


class TokenBucket:
    """Per-client token buckets (GUIDE.md "Token Bucket Algorithm"): ``capacity`` requests, refilled at
    ``rate`` per second. ``take`` answers (allowed, remaining, seconds until the bucket is full again)."""

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity, self.rate = capacity, rate
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> tuple[bool, int, int]:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (float(self.capacity), now))
            tokens = min(float(self.capacity), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._state[key] = (tokens, now)
        wait = (1.0 - tokens) / self.rate if not allowed else (self.capacity - tokens) / self.rate
        return allowed, int(tokens), max(1, math.ceil(wait))

    def policy(self) -> str:
        """``RateLimit-Policy`` (draft-ietf-httpapi-ratelimit-headers: quota ``q`` per ``w`` seconds)."""
        return f'"default";q={self.capacity};w={math.ceil(self.capacity / self.rate)}'


BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Histogram:
    """Request durations per route, exposed as a Prometheus histogram on /metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[str, int], list[float]] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        with self._lock:
            row = self._data.setdefault((route, status), [0.0] * (len(BUCKETS_S) + 2))
            for i, bound in enumerate(BUCKETS_S):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += 1  # count (+Inf bucket)
            row[-1] += seconds

    def exposition(self) -> str:
        name = "http_request_duration_seconds"
        lines = [f"# HELP {name} Request duration by route.", f"# TYPE {name} histogram"]
        with self._lock:
            items = sorted(self._data.items())
        for (route, status), row in items:
            labels = f'route="{route}",status="{status}"'
            for bound, count in zip(BUCKETS_S, row, strict=False):
                lines.append(f'{name}_bucket{{{labels},le="{bound}"}} {int(count)}')
            lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {int(row[-2])}')
            lines.append(f"{name}_sum{{{labels}}} {row[-1]:.6f}")
            lines.append(f"{name}_count{{{labels}}} {int(row[-2])}")
        return "\n".join(lines) + "\n"

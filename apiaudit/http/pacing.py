"""Per-host pacing and back-off of the scan client: the scan must not trip a limiter and then blame
the API for it (issue 14, point 2).

* **Advertised quota.** Every answer is read for RateLimit / X-RateLimit headers
  (:func:`apiaudit.http.headers.parse_ratelimits`). When the remaining quota is down to what the
  requests in flight could spend (:data:`RESERVE`, at least the per-host concurrency), the next request
  waits for the reset when that is within ``retry_after_cap_s``; otherwise the host is left alone for
  the rest of the phase — the next request would only earn a 429.
* **429, 503 + Retry-After, a run of 503s.** RFC 9110 §15.5.30 / §15.6.4 and §10.2.3: the server asks the
  client to go away for a while. During the base GETs (every endpoint needs its one plain answer) the
  delay is waited out, as before; during the probes the host is not probed again in that phase. A 503
  *without* Retry-After after the same host answered below 500 is what nginx's ``limit_req`` sends by
  default (``limit_req_status 503``); two in a row are taken as rate limiting.
* **Phases.** ``new_phase()`` lifts the blocks whose delay has passed or is within the cap (the caller
  sleeps the returned seconds first); a host that asked for more than the cap stays blocked.

Deliberate ``burst-*`` requests are never paced: they exist to meet the limit.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from apiaudit.http.evidence import Exchange
from apiaudit.http.headers import parse_ratelimits, parse_retry_after

__all__ = ["RESERVE", "THROTTLED_BASE", "Pacer", "limiter_answers", "wait_hint"]

RESERVE = 1  # quota left when the next request must wait for the reset (plus the requests in flight)
# Waits for an advertised reset per host and scan: a short window (1 s) refills quickly, so a polite scan
# waits a few times rather than leaving items unassessed; a long one is above the cap and blocks at once.
MAX_RESET_WAITS = 5
MAX_CONSECUTIVE_429 = 3
RUN_OF_503 = 2  # 503s in a row after answers below 500: a limiter (nginx limit_req), not an outage
THROTTLED_BASE = "base-throttled"  # purpose of a base GET the limiter refused (asked again as "base")
LIMITER_SPACING_S = 0.5  # after a limiter's 503: requests this far apart to that host, doubling ...
MAX_SPACING_S = 2.0  # ... on each further refusal up to this (limit_req rates are per second or minute)
WAIT_PHASES = frozenset({"base"})  # phases whose requests wait out a short Retry-After and go on


def limiter_answers(exchanges: Iterable[Exchange]) -> list[Exchange]:
    """The answers that are rate limiting, not errors: every 429, a 503 with Retry-After, and a bare 503
    from a URL that answered below 500 at another time of the scan when it came in a run of 503s or
    is nginx's own error page (``limit_req`` answers 503 with no header by default). An endpoint that
    is down answers 503 every time; one that fails now and then answers single 503s of its own.
    Pure: checks use it so a limiter is never counted as an error rate, a broken next page or
    "no rate limiting"."""
    listed = sorted(exchanges, key=lambda e: e.started_ms)
    working = {_path_key(ex.url) for ex in listed if ex.status is not None and ex.status < 500}
    bare = [ex for ex in listed if ex.status == 503 and ex.header("retry-after") is None]
    in_run = _in_runs(listed)
    return [ex for ex in listed if ex.status == 429 or (ex.status == 503 and (
        ex not in bare or (_path_key(ex.url) in working and (id(ex) in in_run or _nginx_page(ex)))))]


def _in_runs(listed: list[Exchange]) -> set[int]:
    """Ids of bare 503s that follow or precede another 503 from the same host (start order)."""
    by_host: dict[str, list[Exchange]] = {}
    for ex in listed:
        by_host.setdefault(_path_key(ex.url).split("/")[2] if "://" in ex.url else "", []).append(ex)
    out: set[int] = set()
    for seq in by_host.values():
        for a, b in itertools.pairwise(seq):
            if a.status == 503 and b.status == 503:
                out.update((id(a), id(b)))
    return out


def _nginx_page(ex: Exchange) -> bool:
    return (ex.header("server") or "").lower().startswith("nginx") and b"503 Service Temporarily" in ex.body


def _path_key(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def wait_hint(ex: Exchange) -> float | None:
    """Seconds the response tells the client to wait: Retry-After, else a RateLimit reset (``t``)."""
    ra = parse_retry_after(ex.header("retry-after"), date_header=ex.header("date"))
    if ra is not None and ra.kind != "invalid":
        return ra.seconds if ra.seconds is not None else 0.0
    for q in parse_ratelimits(ex.response_headers):
        if q.reset_s is not None:
            return q.reset_s
    return None


@dataclass
class _Host:
    not_before: float = 0.0
    spacing: float = 0.0  # seconds between requests once a header-less limiter showed itself
    spaced_at: float = 0.0  # when the spacing last changed
    strikes: int = 0  # consecutive 429s
    run_503: int = 0  # consecutive 503s after an answer below 500
    answered: bool = False  # some answer below 500 seen
    reset_waits: int = 0  # waits for an advertised reset; a second one means the quota did not refill
    blocked: str | None = None  # why nothing more is sent in this phase
    resume_at: float | None = None  # when a phase block may lift (None: never, beyond the cap)
    quota_block: bool = False  # blocked only because the advertised quota ran low (lifted for the burst)


class Pacer:
    """Pure bookkeeping (the client sleeps and raises); ``clock`` is injectable for tests."""

    def __init__(self, *, cap_s: float, concurrency: int = 4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # requests already past their slot when a low quota is seen: up to two volleys of the per-host limit
        self.cap_s, self.reserve = cap_s, RESERVE + 2 * max(0, concurrency)
        self.clock = clock
        self.phase = "base"
        self.hosts: dict[str, _Host] = {}
        self.messages: list[tuple[Exchange, str]] = []  # (exchange, what the scan did) for the report

    def _host(self, host: str) -> _Host:
        return self.hosts.setdefault(host, _Host())

    def blocked(self, host: str) -> str | None:
        return self._host(host).blocked

    def slot(self, host: str) -> float:
        """Seconds to wait before sending to ``host``; with a spacing, each caller gets its own slot."""
        h, now = self._host(host), self.clock()
        slot = max(now, h.not_before)
        if h.spacing:
            h.not_before = slot + h.spacing
        return slot - now

    def new_phase(self, name: str) -> float:
        """Start phase ``name``; returns the seconds to sleep before the lifted hosts may be probed."""
        self.phase = name
        now, wait = self.clock(), 0.0
        for h in self.hosts.values():
            if h.quota_block and name == "burst":  # the burst exists to meet the limit
                h.blocked, h.quota_block = None, False
            if h.blocked and h.resume_at is not None and h.resume_at - now <= self.cap_s:
                wait = max(wait, h.resume_at - now)
                h.blocked, h.resume_at, h.strikes, h.run_503 = None, None, 0, 0
        return wait

    def after(self, host: str, ex: Exchange) -> None:
        h = self._host(host)
        burst = ex.purpose.startswith("burst-")
        if ex.status == 429:
            h.strikes += 1
            self._limited(h, ex, "HTTP 429", burst)
        elif ex.status == 503:
            h.run_503 += 1
            if ex.header("retry-after") is not None:
                self._limited(h, ex, "HTTP 503 with Retry-After", burst)
            elif h.answered and (h.run_503 >= RUN_OF_503 or burst or _nginx_page(ex)):
                self._space(h)
                self._limited(h, ex, f"HTTP 503 without Retry-After ({h.run_503} in a row) after answers "
                                     "below 500 (nginx limit_req's default answer), taken as rate limiting",
                              burst)
        elif ex.status is not None:
            h.strikes = h.run_503 = 0
            if ex.status < 500:
                h.answered = True
                if not burst:
                    self._quota(h, ex)

    def _space(self, h: _Host) -> None:
        """Space requests out, twice as far on every refusal that was not part of one volley."""
        now = self.clock()
        if not h.spacing or now - h.spaced_at >= h.spacing:
            h.spacing = min(MAX_SPACING_S, h.spacing * 2) if h.spacing else LIMITER_SPACING_S
            h.spaced_at = now
        h.not_before = max(h.not_before, now + h.spacing)

    def _block(self, h: _Host, why: str, resume_in: float | None) -> None:
        h.blocked, h.quota_block = why, False
        h.resume_at = self.clock() + resume_in if resume_in is not None and resume_in <= self.cap_s else None

    def _limited(self, h: _Host, ex: Exchange, what: str, burst: bool) -> None:
        delay = wait_hint(ex)
        cap = self.cap_s
        if delay is not None and delay > cap:
            self._block(h, f"{what}: Retry-After {delay:.0f} s is above the {cap:.0f} s cap", None)
            self._say(ex, f"{what}: Retry-After {delay:.0f} s is above the {cap:.0f} s cap "
                          "(http.retry_after_cap_s): no further requests sent to this host", burst)
        elif burst or self.phase not in WAIT_PHASES:
            self._block(h, f"rate limited ({ex.status}): {what} during the {self.phase} phase, backed off",
                        delay if delay is not None else 0.0)
            if delay is not None:
                h.not_before = max(h.not_before, self.clock() + delay)
            self._say(ex, f"{what}: backed off, no further {self.phase} requests sent to this host", burst)
        elif h.strikes >= MAX_CONSECUTIVE_429:
            self._block(h, f"{what} {h.strikes} times in a row", None)
            self._say(ex, f"{what} {h.strikes} times in a row: no further requests sent to this host", burst)
        elif delay is not None:
            h.not_before = max(h.not_before, self.clock() + delay)
            self._say(ex, f"{what}: throttled, waited {delay:.0f} s before the next request", burst)
        elif h.spacing:
            self._say(ex, f"{what}: requests to this host spaced {h.spacing:.2g} s apart", burst)
        else:
            self._say(ex, f"{what} without a usable Retry-After (RFC 9110 §10.2.3) or RateLimit "
                          "reset: went on without waiting", burst)

    def _quota(self, h: _Host, ex: Exchange) -> None:
        """Wait for the reset (or leave the host alone) when the advertised quota is nearly spent."""
        for q in parse_ratelimits(ex.response_headers):
            if q.remaining is None or q.remaining > self.reserve:
                continue
            reset = q.reset_s if q.reset_s is not None else q.window_s
            if h.not_before > self.clock():  # answers of requests already in flight: that wait is scheduled
                return
            if reset is not None and reset <= self.cap_s and h.reset_waits < MAX_RESET_WAITS:
                h.reset_waits += 1
                h.not_before = max(h.not_before, self.clock() + reset)
                self._say(ex, f"advertised quota nearly spent (remaining {q.remaining}): waited "
                              f"{reset:.0f} s for the reset", False)
            else:
                when = f"resets in {reset:.0f} s, above the {self.cap_s:.0f} s cap" if reset is not None \
                    else "no reset advertised"
                self._block(h, f"advertised quota nearly spent (remaining {q.remaining}, {when})", None)
                h.quota_block = True
                self._say(ex, f"advertised quota nearly spent (remaining {q.remaining}, {when}): no "
                              "further requests sent to this host, so the scan does not trip the limiter",
                          False)
            return

    def _say(self, ex: Exchange, message: str, burst: bool) -> None:
        if not burst:  # a provoked 429 is the burst probe's result, not news for the errors list
            self.messages.append((ex, message))

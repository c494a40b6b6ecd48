"""The scan's HTTP client: one httpx.AsyncClient with a request budget, a per-host concurrency limit,
timeouts, bounded reads, our own bounded decoding, same-host redirects and Retry-After.

Every request becomes an :class:`Exchange`; transport failures become an Exchange with ``error`` set
(never an exception), except :class:`BudgetExhausted` when the budget is spent, and its subclasses
:class:`OffTarget` (the URL is not on a scanned origin: never sent) and :class:`DeadlineReached`
(the scan's ``--deadline`` has passed). All three end up as skipped probes with their reason.

This is the one send path of a scan: the SSRF guard (:mod:`apiaudit.http.targeting`) and the deadline
are enforced here, for every request and every redirect hop, whatever code built the URL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from apiaudit.deadline import Deadline
from apiaudit.http.decode import decode
from apiaudit.http.evidence import BODY_KEEP_BYTES, HEAD_KEEP_BYTES, RETAINED_BODY_BUDGET, Exchange, keeps_body
from apiaudit.http.pacing import Pacer
from apiaudit.http.probes import BudgetExhausted, HostBackedOff
from apiaudit.http.secrets import is_secret_header, mask_headers
from apiaudit.http.targeting import TargetGuard
from apiaudit.redact import redact_text, register_secret

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_REDIRECTS = 5
# What a browser offers; probes ask for one coding at a time.
DEFAULT_ACCEPT_ENCODING = "gzip, deflate, br, zstd"


class OffTarget(BudgetExhausted):
    """The URL points outside the scanned origins (and http.allow_hosts): not sent."""


class DeadlineReached(BudgetExhausted):
    """The scan's overall deadline has passed: no further request is sent."""


@dataclass
class ClientSettings:
    max_requests: int = 500
    concurrency: int = 4
    timeout_s: float = 10.0
    max_body_bytes: int = 8 * 1024 * 1024  # wire bytes read per response
    max_decoded_bytes: int = 64 * 1024 * 1024  # decoded bytes produced per response (bomb guard)
    retained_body_bytes: int = RETAINED_BODY_BUDGET  # whole bodies kept across the scan (memory bound)
    insecure: bool = False
    http2: bool = True
    allow_methods: frozenset[str] = SAFE_METHODS
    follow_redirects: bool = True
    allow_hosts: frozenset[str] = frozenset()
    retry_after_cap_s: float = 30.0
    user_agent: str = "apiaudit"
    headers: dict[str, str] = field(default_factory=dict)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to str.isdigit
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))


class ScanClient:
    """Use as ``async with ScanClient(settings, targets=[...]) as client: ex = await client.fetch(url, ...)``.

    ``targets``: the URLs the user gave; only their origins (and ``allow_hosts``) are ever sent to.
    Without ``targets`` (tests driving a single server), the origin of the first URL fetched is the
    target. ``deadline``: no request starts after it, and none runs past it."""

    def __init__(self, settings: ClientSettings, *, targets: list[str] | None = None,
                 deadline: Deadline | None = None) -> None:
        self.settings = settings
        self.guard = TargetGuard(targets or (), settings.allow_hosts)
        self._first_is_target = targets is None
        self.deadline = deadline
        self.requests_made = 0
        self._t0 = time.monotonic()
        self._sems: dict[str, asyncio.Semaphore] = {}
        self.pacer = Pacer(cap_s=settings.retry_after_cap_s, concurrency=settings.concurrency)
        self._ids = 0
        self._retained = 0  # bytes of whole bodies kept so far (see _retain)
        self.throttled: list[dict[str, str]] = []  # report errors entries: 429s met and what we did
        self._client: httpx.AsyncClient | None = None
        self._registered: set[str] = set()  # secret header values already registered for redaction

    async def __aenter__(self) -> ScanClient:
        s = self.settings
        self._client = httpx.AsyncClient(
            http2=s.http2, verify=not s.insecure, follow_redirects=False, timeout=httpx.Timeout(s.timeout_s),
            headers={"User-Agent": s.user_agent},
            limits=httpx.Limits(max_connections=max(4, s.concurrency * 4)),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def remaining(self) -> int:
        return max(0, self.settings.max_requests - self.requests_made)

    def _take_budget(self) -> None:
        if self.requests_made >= self.settings.max_requests:
            raise BudgetExhausted(f"request budget of {self.settings.max_requests} spent")
        self.requests_made += 1

    def _sem(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        if host not in self._sems:
            self._sems[host] = asyncio.Semaphore(max(1, self.settings.concurrency))
        return self._sems[host]

    def refusal(self, url: str) -> str | None:
        """Why ``url`` would not be sent (off the target), or None."""
        if self._first_is_target and not self.guard.origins:
            self.guard.trust(url)
        return self.guard.refusal(url)

    def cap(self, seconds: float) -> float:
        """``seconds``, shortened to what is left of the deadline."""
        return self.deadline.cap(seconds) if self.deadline is not None else max(0.0, seconds)

    def _check_deadline(self) -> None:
        if self.deadline is not None and self.deadline.expired():
            raise DeadlineReached(self.deadline.reached("(request not sent)"))

    async def fetch(self, url: str, *, purpose: str, headers: Mapping[str, str] | None = None,
                    method: str = "GET") -> Exchange:
        method = method.upper()
        if method not in self.settings.allow_methods:
            raise ValueError(f"method {method} is not allowed (http.allow_methods)")
        hops: list[str] = []
        current = url
        while True:
            ex = await self._one(current, purpose=purpose, headers=headers, method=method)
            location = ex.header("location") if ex.status in (301, 302, 303, 307, 308) else None
            if not location or not self.settings.follow_redirects:
                break
            target = urljoin(current, location)
            why = self.refusal(target)
            if why is not None:
                ex.error = f"redirected off the target host to {redact_text(target)} ({why}; not followed)"
                break
            if len(hops) >= MAX_REDIRECTS or target in hops or target == url:
                ex.error = f"redirect loop or more than {MAX_REDIRECTS} redirects ({len(hops) + 1} hops)"
                break
            hops.append(current)
            current = target
        ex.redirects = hops
        return ex

    async def _one(self, url: str, *, purpose: str, headers: Mapping[str, str] | None,
                   method: str) -> Exchange:
        why = self.refusal(url)
        if why is not None:  # never sent, whoever built the URL
            raise OffTarget(f"{redact_text(url)}: {why}")
        host = urlsplit(url).netloc.lower()
        if (why := self.pacer.blocked(host)) is not None:
            raise HostBackedOff(f"{host}: {why}")
        self._check_deadline()
        self._take_budget()
        if not purpose.startswith("burst-") and (wait := self.pacer.slot(host)) > 0:
            if self.deadline is not None and wait >= self.deadline.remaining():
                raise DeadlineReached(self.deadline.reached("while waiting for Retry-After"))
            await asyncio.sleep(wait)
        merged = {"Accept-Encoding": DEFAULT_ACCEPT_ENCODING, **self.settings.headers, **(headers or {})}
        for name, value in merged.items():  # echoed credentials are redacted from bodies and reports
            if value not in self._registered and is_secret_header(name):
                self._registered.add(value)
                register_secret(value)
        self._ids += 1
        ex = Exchange(id=f"x{self._ids}", purpose=purpose, method=method, url=url,
                      request_headers=mask_headers(list(merged.items())))
        async with self._sem(url):
            self._check_deadline()  # the wait for a slot may have used up the deadline
            start = time.monotonic()
            ex.started_ms = round((start - self._t0) * 1000, 2)
            # A wall-clock cap per request too: per-read timeouts alone let a trickling server run
            # for ever; and no request outlives the scan's deadline.
            limit = self.cap(self.settings.timeout_s * 3)
            try:
                async with asyncio.timeout(limit):
                    await self._send(ex, merged, start)
            except TimeoutError:
                if self.deadline is not None and self.deadline.expired():
                    # Our limit, not the API's failure: the exchange is dropped, not counted as an error.
                    raise DeadlineReached(self.deadline.reached("during the request (answer not used)")) from None
                ex.error = f"timed out after {limit:.0f} s"
            except httpx.HTTPError as exc:
                ex.error = redact_text(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            except Exception as exc:  # invalid header values, TLS oddities: report, never crash the scan
                ex.error = redact_text(f"{type(exc).__name__}: {exc}")
            ex.elapsed_ms = round((time.monotonic() - start) * 1000, 2)
        self._after(host, ex)
        return ex

    def _after(self, host: str, ex: Exchange) -> None:
        """Pacing and back-off (``apiaudit.http.pacing``): Retry-After, 503 limiters, advertised quota."""
        self.pacer.after(host, ex)
        for said, message in self.pacer.messages:
            self._throttled(said, message)
        self.pacer.messages.clear()

    async def new_phase(self, name: str) -> None:
        """Base GETs, probes, burst: a host that asked us to back off is left alone until the next one."""
        wait = self.pacer.new_phase(name)
        if wait > 0:
            await asyncio.sleep(min(wait, self.settings.retry_after_cap_s))

    def _throttled(self, ex: Exchange, message: str) -> None:
        """Say in the report that the scan was throttled (once per host and message)."""
        entry = {"where": redact_text(ex.url), "message": message}
        host = urlsplit(ex.url).netloc.lower()
        if not any(urlsplit(e["where"]).netloc.lower() == host and e["message"] == message
                   for e in self.throttled):
            self.throttled.append(entry)

    async def _send(self, ex: Exchange, headers: dict[str, str], start: float) -> None:
        assert self._client is not None
        request = self._client.build_request(ex.method, ex.url, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            ex.ttfb_ms = round((time.monotonic() - start) * 1000, 2)
            ex.status = response.status_code
            ex.http_version = response.http_version
            ex.response_headers = mask_headers([(k.decode("latin-1"), v.decode("latin-1"))
                                                for k, v in response.headers.raw])
            wire = bytearray()
            async for chunk in response.aiter_raw():
                wire += chunk
                if len(wire) > self.settings.max_body_bytes:
                    ex.truncated = True
                    ex.over_cap = (f"body cut at the {self.settings.max_body_bytes} byte read limit "
                                   "(http.max_body_bytes)")
                    break
        finally:
            await response.aclose()
        del wire[self.settings.max_body_bytes:]  # in place: no copy of a body that may be megabytes
        self._decode(ex, wire)

    def _decode(self, ex: Exchange, wire: bytearray) -> None:
        ex.wire_size = len(wire)
        codings = [c.strip().lower() for c in (ex.header("content-encoding") or "").split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        ex.content_coding = ",".join(codings) or "identity"
        if len(codings) > 1:
            ex.decode_error = f"stacked content-codings {ex.content_coding} not decoded"
            coding = "identity"
        else:
            coding = codings[0] if codings else "identity"
        wanted = keeps_body(ex.purpose)
        room = self.settings.retained_body_bytes - self._retained  # no 2 MiB copy once the budget is spent
        keep = min(BODY_KEEP_BYTES, max(room, HEAD_KEEP_BYTES)) if wanted else HEAD_KEEP_BYTES
        out = decode(wire, coding, cap=self.settings.max_decoded_bytes, keep=keep)
        ex.body_size, ex.body_sha256 = out.size, out.sha256
        if out.over_cap:  # after a cut wire read too: a bomb is worth naming as one
            bomb = (f"decoded {ex.content_coding} body over {self.settings.max_decoded_bytes} bytes: "
                    "decoding stopped (decompression bomb guard)")
            ex.over_cap = f"{ex.over_cap}; {bomb}" if ex.over_cap else bomb
        ex.truncated = ex.truncated or out.over_cap or out.size > BODY_KEEP_BYTES
        ex.decode_error = ex.decode_error or out.error
        ex.body = self._retain(ex, out.body, wanted)

    def _retain(self, ex: Exchange, body: bytes, wanted: bool) -> bytes:
        """Whole bodies only for purposes checks parse, within the scan-wide budget; a head otherwise.
        A cut body is useless to a parser, so a truncated one keeps only its head too."""
        if ex.truncated:
            return body[:HEAD_KEEP_BYTES]
        whole = len(body) == ex.body_size
        if whole and len(body) <= HEAD_KEEP_BYTES:  # small bodies: always whole (a head's worth each)
            return body
        if whole and wanted and self._retained + len(body) <= self.settings.retained_body_bytes:
            self._retained += len(body)
            return body
        ex.body_dropped = True
        return body[:HEAD_KEEP_BYTES]


def settings_from(http_cfg: Mapping[str, Any], headers: Mapping[str, str], **cli: Any) -> ClientSettings:
    """Config ``http:`` section + CLI overrides (None = not given) -> ClientSettings."""
    def pick(key: str, default: Any) -> Any:
        if cli.get(key) is not None:
            return cli[key]
        return http_cfg.get(key, default)

    base = ClientSettings()
    methods = SAFE_METHODS | {m.upper() for m in http_cfg.get("allow_methods") or []}
    return ClientSettings(
        max_requests=int(pick("max_requests", base.max_requests)),
        concurrency=int(pick("concurrency", base.concurrency)),
        timeout_s=float(pick("timeout_s", base.timeout_s)),
        max_body_bytes=int(pick("max_body_bytes", base.max_body_bytes)),
        insecure=bool(pick("insecure", False)),
        http2=bool(http_cfg.get("http2", True)),
        allow_methods=frozenset(methods),
        follow_redirects=bool(http_cfg.get("follow_redirects", True)),
        allow_hosts=frozenset(http_cfg.get("allow_hosts") or ()),
        retry_after_cap_s=float(http_cfg.get("retry_after_cap_s", base.retry_after_cap_s)),
        user_agent=str(http_cfg.get("user_agent", base.user_agent)),
        headers=dict(headers),
    )

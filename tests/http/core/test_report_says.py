"""What the scan report must say (hardening H1, H2, H3, H17): undecodable or capped bodies, 429
throttling, error answers on the base GET, and bodies not retained under the scan-wide budget.

Evidence is built by hand (offline, as --from-evidence replays it) except where the client itself
decides (429 bookkeeping, the retained-body budget): those run against a real local server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from apiaudit.config import Config
from apiaudit.errors import AuditError
from apiaudit.http.audit import build_report
from apiaudit.http.client import ClientSettings, ScanClient
from apiaudit.http.evidence import HEAD_KEEP_BYTES, Endpoint, Exchange, ScanEvidence

JSON = [("Content-Type", "application/json")]


def ex(purpose: str, url: str = "http://127.0.0.1:9/a", status: int | None = 200, **kw: Any) -> Exchange:
    return Exchange(id=purpose, purpose=purpose, method="GET", url=url, status=status,
                    response_headers=kw.pop("headers", JSON), **kw)


def report_errors(make_config: Callable[..., Config], *endpoints: Endpoint) -> list[dict[str, str]]:
    evidence = ScanEvidence(endpoints=list(endpoints), targets=["http://127.0.0.1:9"])
    rep = build_report(evidence, make_config(), started_at="2026-01-01T00:00:00Z", duration_s=0.1)
    return list(rep.errors)


def test_undecodable_and_capped_bodies_are_errors_once_per_url(make_config: Callable[..., Config]) -> None:
    bad = "gzip decoding failed: error: Error -3 while decompressing data: incorrect header check"
    cap = "decoded gzip body over 67108864 bytes: decoding stopped (decompression bomb guard)"
    ep = Endpoint(url="http://127.0.0.1:9/a", exchanges=[
        ex("base", decode_error=bad), ex("coding-gzip", decode_error=bad),  # same url + message: once
        ex("coding-br", url="http://127.0.0.1:9/b", over_cap=cap, truncated=True),
    ])
    errors = report_errors(make_config, ep)
    assert errors.count({"where": "http://127.0.0.1:9/a", "message": bad}) == 1
    assert {"where": "http://127.0.0.1:9/b", "message": cap} in errors


def test_error_status_on_base_is_said_and_all_5xx_is_exit_3(make_config: Callable[..., Config]) -> None:
    html = [("Content-Type", "text/html; charset=utf-8")]
    down = Endpoint(url="http://127.0.0.1:9/down", exchanges=[ex("base", "http://127.0.0.1:9/down", 502,
                                                                 headers=html)])
    fine = Endpoint(url="http://127.0.0.1:9/a", exchanges=[ex("base", body=b"{}", body_size=2)])
    errors = report_errors(make_config, down, fine)
    said = [e for e in errors if e["where"] == "http://127.0.0.1:9/down"]
    assert len(said) == 1 and said[0]["message"].startswith("HTTP 502 (text/html)")
    # Only error pages seen: nothing of the API was audited, so a CI gate must not pass (exit 3).
    with pytest.raises(AuditError, match="5xx"):
        report_errors(make_config, down)
    # Issue 13: a 404 on every endpoint (a wrong base URL) audited nothing either: exit 3, one line.
    gone = Endpoint(url="http://127.0.0.1:9/gone", exchanges=[ex("base", "http://127.0.0.1:9/gone", 404)])
    with pytest.raises(AuditError, match=r"^could not audit: not found on 1/1 endpoint "):
        report_errors(make_config, gone)
    # Beside an endpoint that answered, the 404 is audited and said.
    assert any(e["message"].startswith("HTTP 404") for e in report_errors(make_config, gone, fine))


def test_bodies_not_retained_are_summarised(make_config: Callable[..., Config]) -> None:
    ep = Endpoint(url="http://127.0.0.1:9/a", exchanges=[
        ex("base", body=b"[" * 10, body_size=3_000_000, body_dropped=True),
        ex("coding-gzip", body=b"[", body_size=3_000_000, body_dropped=True),  # judged on size + hash
    ])
    errors = report_errors(make_config, ep)
    assert next(e for e in errors if e["where"] == "scan")["message"].startswith("1 response bodies")


def test_dropped_body_is_not_parsed_but_round_trips() -> None:
    dropped = ex("base", body=b"[1, 2", body_size=9, body_dropped=True, over_cap=None)
    with pytest.raises(ValueError):
        dropped.json()
    again = Exchange.from_dict(json.loads(json.dumps(dropped.to_dict())))
    assert again.body_dropped and again.over_cap is None


class _Big(BaseHTTPRequestHandler):
    """Every path: a 300 KB JSON array (over the kept head, under the per-body keep limit)."""

    protocol_version = "HTTP/1.1"
    body = json.dumps([{"id": i, "pad": "x" * 20} for i in range(10_000)]).encode()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


class _Throttle(BaseHTTPRequestHandler):
    """First request 429 + Retry-After: 1, then 200 (a throttled scan that went on)."""

    protocol_version = "HTTP/1.1"
    hits: ClassVar[int] = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        _Throttle.hits += 1
        self.send_response(429 if _Throttle.hits == 1 else 200)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def serve() -> Iterator[Callable[[type[BaseHTTPRequestHandler]], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_retained_body_budget(serve: Callable[[type[BaseHTTPRequestHandler]], str]) -> None:
    base = serve(_Big)
    size = len(_Big.body)

    async def go() -> list[Exchange]:
        # Room for two whole bodies: the third base body and every probe variant keep only a head.
        async with ScanClient(ClientSettings(retained_body_bytes=2 * size + 10)) as client:
            return [await client.fetch(f"{base}/{p}", purpose=p) for p in ("base", "page-2", "base", "coding-gzip")]

    first, page, third, variant = asyncio.run(go())
    assert len(first.json()) == len(page.json()) == 10_000
    for dropped in (third, variant):
        assert dropped.body_dropped and not dropped.truncated and len(dropped.body) == HEAD_KEEP_BYTES
        assert dropped.body_size == size and dropped.body_sha256 == first.body_sha256


def test_429_is_recorded_with_the_wait(serve: Callable[[type[BaseHTTPRequestHandler]], str]) -> None:
    _Throttle.hits = 0
    base = serve(_Throttle)

    async def go() -> list[dict[str, str]]:
        async with ScanClient(ClientSettings(retry_after_cap_s=5)) as client:
            await client.fetch(base + "/a", purpose="base")
            await client.fetch(base + "/b", purpose="base")
            return client.throttled

    assert asyncio.run(go()) == [{"where": base + "/a",
                                  "message": "HTTP 429: throttled, waited 1 s before the next request"}]


def test_exchange_repr_leaves_the_body_out() -> None:
    # asyncio.run() formats repr() of its main task's result on exit (the SIGINT handler check):
    # a bytes repr of every retained body was the largest allocation of a big scan.
    big = ex("base", body=b"\x00" * 100_000, body_size=100_000)
    assert len(repr(big)) < 2_000


def test_unparsable_target_never_prints_its_password() -> None:
    """H20 (scan side): an unencoded '/' in the password breaks the URL and the URL redaction rule."""
    from apiaudit import redact
    from apiaudit.errors import UsageError
    from apiaudit.http.audit import target_url

    saved = set(redact._SECRETS)
    try:
        with pytest.raises(UsageError) as info:
            target_url("http://user:pa/ssNOTSHOWN42@127.0.0.1:1/")
        assert "NOTSHOWN42" not in str(info.value) and "127.0.0.1" in str(info.value)
    finally:
        redact._SECRETS.clear()
        redact._SECRETS.update(saved)

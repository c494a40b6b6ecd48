"""The scan client against real misbehaving servers: redirects, huge bodies, silence, refused and
unresolvable hosts, the request budget and Retry-After. Every failure is an Exchange, never a raise."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from apiaudit import pgcluster
from apiaudit.http.client import ClientSettings, ScanClient, retry_after_seconds
from apiaudit.http.evidence import Exchange
from apiaudit.http.probes import BudgetExhausted
from apiaudit.http.secrets import mask_headers


def fetch(url: str, **settings: object) -> Exchange:
    async def go() -> Exchange:
        async with ScanClient(ClientSettings(**settings)) as client:  # type: ignore[arg-type]
            return await client.fetch(url, purpose="base")

    return asyncio.run(go())


def test_same_host_redirect_followed(odd_base: str) -> None:
    ex = fetch(odd_base + "/hop")
    assert ex.status == 200 and ex.url == odd_base + "/landed" and ex.redirects == [odd_base + "/hop"]


def test_redirect_loop_is_an_error(odd_base: str) -> None:
    ex = fetch(odd_base + "/loop")
    assert ex.status == 302 and "redirect loop" in (ex.error or "")


def test_offsite_redirect_not_followed(odd_base: str) -> None:
    ex = fetch(odd_base + "/offsite")
    assert ex.status == 302 and "off the target host" in (ex.error or "")


def test_huge_body_read_is_bounded(odd_base: str) -> None:
    ex = fetch(odd_base + "/huge", max_body_bytes=2 * 1024 * 1024)
    assert ex.status == 200 and ex.truncated and ex.wire_size == 2 * 1024 * 1024
    assert ex.header("content-length") == str(50 * 1024 * 1024)


def test_silent_server_times_out(odd_base: str) -> None:
    ex = fetch(odd_base + "/silent", timeout_s=0.5)
    assert ex.status is None
    assert "Timeout" in (ex.error or "") or "timed out" in (ex.error or "")


def test_refused_and_unresolvable_hosts() -> None:
    refused = fetch(f"http://127.0.0.1:{pgcluster.free_port()}/x", timeout_s=2)
    assert refused.status is None and "ConnectError" in (refused.error or "")
    dns = fetch("http://no-such-host.invalid/x", timeout_s=2)
    assert dns.status is None and dns.error


def test_budget_is_global(odd_base: str) -> None:
    async def go() -> int:
        async with ScanClient(ClientSettings(max_requests=2)) as client:
            await client.fetch(odd_base + "/landed", purpose="a")
            await client.fetch(odd_base + "/landed", purpose="b")
            with pytest.raises(BudgetExhausted):
                await client.fetch(odd_base + "/landed", purpose="c")
            return client.requests_made

    assert asyncio.run(go()) == 2


def test_unsafe_methods_refused_unless_allowed(odd_base: str) -> None:
    async def go() -> None:
        async with ScanClient(ClientSettings()) as client:
            await client.fetch(odd_base + "/landed", purpose="p", method="POST")

    with pytest.raises(ValueError, match="not allowed"):
        asyncio.run(go())


class _Limited(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        _Limited.hits.append(self.path)
        status = 429 if len(_Limited.hits) == 1 else 200
        self.send_response(status)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def limited() -> Iterator[str]:
    _Limited.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Limited)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_retry_after_honoured(limited: str) -> None:
    async def go() -> tuple[float, float]:
        async with ScanClient(ClientSettings(retry_after_cap_s=5)) as client:
            first = await client.fetch(limited + "/a", purpose="a")
            second = await client.fetch(limited + "/b", purpose="b")
            return first.started_ms, second.started_ms

    t1, t2 = asyncio.run(go())
    assert t2 - t1 >= 1000  # waited for Retry-After: 1 (within the cap) before the next request
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("²") is None  # a Unicode digit, not delay-seconds (RFC 9110 §10.2.3: 1*DIGIT)
    assert retry_after_seconds("Fri, 31 Dec 99999 23:59:59 GMT") is None


def test_secret_headers_masked() -> None:
    masked = dict(
        mask_headers(
            [
                ("Authorization", "Bearer abc"),
                ("Set-Cookie", "sid=xyz; Path=/; HttpOnly"),
                ("ETag", '"e"'),
                ("X-Custom-Token", "abc"),
            ]
        )
    )
    assert masked == {
        "Authorization": "***",
        "Set-Cookie": "sid=***; Path=/; HttpOnly",
        "ETag": '"e"',
        "X-Custom-Token": "***",
    }


class _Gone(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: ClassVar[int] = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        _Gone.hits += 1
        self.send_response(429)
        self.send_header("Retry-After", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_retry_after_beyond_cap_leaves_host_alone() -> None:
    _Gone.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gone)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"

    async def go() -> str:
        async with ScanClient(ClientSettings(retry_after_cap_s=5)) as client:
            first = await client.fetch(url + "/a", purpose="a")
            assert first.status == 429
            with pytest.raises(BudgetExhausted, match="Retry-After 86400") as info:
                await client.fetch(url + "/b", purpose="b")
            return str(info.value)

    try:
        asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert _Gone.hits == 1  # no second request, and no day-long sleep

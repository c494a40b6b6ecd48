"""The hostile HTTP corpus: one small real server per misbehaviour, all on 127.0.0.1.

``with hostile("gzip-bomb") as t: ...`` starts the server and yields a :class:`Target` (the URL to scan,
the server with its counters, and any helper server such as the off-host canary). ``CORPUS`` lists every
behaviour with a one-line description; the tests and ``bench/hostile_figures.py`` iterate over it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import handlers as h
from .handlers import JSON, W
from .payloads import brotli_bomb, gzip_bomb, h2_only, zstd_bomb
from .rawserver import RawServer, Request, respond


@dataclass
class Target:
    url: str
    server: RawServer
    helpers: dict[str, RawServer] = field(default_factory=dict)


@dataclass(frozen=True)
class Behaviour:
    name: str
    description: str
    build: Callable[[], RawServer]
    path: str = "/api/items"
    openapi: str | None = None  # path of an OpenAPI document to pass with --openapi


CORPUS: list[Behaviour] = [
    Behaviour("gzip-bomb", "gzip stream of zeros, ~1 KB per MiB, 16 GiB decoded", lambda: h.bomb(gzip_bomb, "gzip")),
    Behaviour("brotli-bomb", "brotli stream of zeros, 13 bytes per MiB", lambda: h.bomb(brotli_bomb, "br")),
    Behaviour("zstd-bomb", "zstd RLE blocks, 4 bytes per 128 KiB", lambda: h.bomb(zstd_bomb, "zstd")),
    Behaviour("gzip-garbage", "Content-Encoding: gzip over random bytes", lambda: RawServer(h.garbage_gzip)),
    Behaviour("body-50mb", "a 50 MB JSON body with Content-Length", lambda: RawServer(h.big_body)),
    Behaviour("endless-chunked", "a chunked body that never ends", lambda: RawServer(h.endless_chunked)),
    Behaviour("slowloris", "the response head arrives one byte per second", lambda: RawServer(h.slowloris)),
    Behaviour("never-answers", "accepts, reads the request, never answers", lambda: RawServer(h.never_answers)),
    Behaviour("reset-mid-body", "TCP RST after 20 of 100000 promised bytes", lambda: RawServer(h.reset_mid_body)),
    Behaviour("close-before-headers", "closes after reading the request", lambda: RawServer(h.close_before_headers)),
    Behaviour(
        "early-hints-flood", "103 Early Hints forever, never a final response", lambda: RawServer(h.early_hints_flood)
    ),
    Behaviour(
        "content-length-lie",
        "Content-Length: 1000000, 3 bytes sent, then silence",
        lambda: RawServer(h.content_length_lie),
    ),
    Behaviour(
        "chunk-size-overflow",
        "a chunk size of 2**80 in hex",
        lambda: h.raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n100000000000000000000\r\n[1]\r\n0\r\n\r\n"
        ),
    ),
    Behaviour(
        "te-and-content-length",
        "Transfer-Encoding: chunked and Content-Length together (smuggling)",
        lambda: h.raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n"
        ),
    ),
    Behaviour(
        "head-with-body", "bodies on HEAD, 204 and 304 on a keep-alive connection", lambda: RawServer(h.head_with_body)
    ),
    Behaviour("invalid-status-line", "HTTP/1.1 2OO BAD", lambda: h.raw_bytes(b"HTTP/1.1 2OO BAD\r\n\r\n")),
    Behaviour("garbage-response", "random bytes instead of HTTP", lambda: h.raw_bytes(os.urandom(2048))),
    Behaviour(
        "header-folding",
        "obs-fold continuation lines (RFC 9112 §5.2)",
        lambda: h.raw_bytes(h.response(b"X-Folded: first\r\n  second\r\n\tthird\r\n"), close=False),
    ),
    Behaviour("10k-headers", "10,000 response headers", lambda: h.raw_bytes(h.response(h.headers(10_000, "v")))),
    Behaviour(
        "1mb-header",
        "one 1 MB header line",
        lambda: h.raw_bytes(h.response(b"X-Huge: " + b"a" * (1 << 20) + b"\r\n")),
    ),
    Behaviour(
        "duplicate-content-length",
        "Content-Length sent twice, same value",
        lambda: h.raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nnull",
            close=False,
        ),
    ),
    Behaviour(
        "conflicting-content-length",
        "Content-Length: 4 and Content-Length: 40",
        lambda: h.raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nnull"
        ),
    ),
    Behaviour(
        "invalid-utf8-header",
        "header values with bytes that are not UTF-8",
        lambda: h.raw_bytes(h.response(b'X-Bytes: \xff\xfe\xc3\x28 caf\xe9\r\nETag: "\xff\xff"\r\n')),
    ),
    Behaviour(
        "nul-in-header",
        "a NUL byte inside a header value",
        lambda: h.raw_bytes(h.response(b"X-Nul: a\x00b\r\n")),
    ),
    Behaviour(
        "redirect-loop",
        "/loop/a -> /loop/b -> /loop/a ...",
        lambda: RawServer(h.redirect_loop),
        path="/loop/a",
    ),
    Behaviour(
        "redirect-off-host",
        "302 to another host (a canary counts any visit)",
        lambda: h.redirect_to(lambda s: str(s.state["canary_url"]) + "/stolen"),
    ),
    Behaviour(
        "redirect-metadata",
        "302 to the cloud metadata address 169.254.169.254",
        lambda: h.redirect_to(lambda s: "http://169.254.169.254/latest/meta-data/"),
    ),
    Behaviour(
        "redirect-file-scheme",
        "302 to file:///etc/passwd",
        lambda: h.redirect_to(lambda s: "file:///etc/passwd"),
    ),
    Behaviour("redirect-ftp-scheme", "301 to ftp://", lambda: h.redirect_to(lambda s: "ftp://127.0.0.1/x", 301)),
    Behaviour("retry-after-day", "429 with Retry-After: 86400 on every request", lambda: RawServer(h.retry_after_day)),
    Behaviour(
        "retry-after-superscript",
        "429 with Retry-After: \\xb2 (latin-1 '²', which str.isdigit() accepts)",
        lambda: h.raw_bytes(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: \xb2\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}",
            close=False,
        ),
    ),
    Behaviour("tls-self-signed", "HTTPS with a self-signed certificate", h.tls),
    Behaviour(
        "http2-only",
        "speaks only HTTP/2 (prior knowledge); HTTP/1.1 gets a GOAWAY",
        lambda: RawServer(raw=h2_only),
    ),
    Behaviour("json-deep", "JSON nested 100,000 deep", lambda: h.static(200, JSON, b"[" * 100_000 + b"]" * 100_000)),
    Behaviour(
        "json-huge-number",
        "a JSON number with 1,000,000 digits",
        lambda: h.static(200, JSON, b'{"items": [1], "n": ' + b"9" * 1_000_000 + b"}"),
    ),
    Behaviour(
        "json-utf16",
        "a JSON collection encoded as UTF-16 with a BOM",
        lambda: h.static(
            200, [("Content-Type", "application/json; charset=utf-16")], '{"items": [{"id": 1}]}'.encode("utf-16")
        ),
    ),
    Behaviour(
        "json-is-binary",
        "application/json over undeclared gzip bytes",
        lambda: h.static(200, JSON, gzip.compress(b'{"items": [1, 2, 3]}' * 100)),
    ),
    Behaviour(
        "html-error-page",
        "an nginx HTML 502 page on an API path",
        lambda: h.static(502, [("Content-Type", "text/html")], h.HTML_ERROR, reason="Bad Gateway"),
    ),
    Behaviour(
        "html-200-on-api",
        "text/html 200 on a JSON API path",
        lambda: h.static(
            200,
            [("Content-Type", "text/html; charset=utf-8")],
            b"<html><body><h1>Welcome</h1><script>alert(1)</script></body></html>",
        ),
    ),
    Behaviour(
        "openapi-20mb",
        "a 20 MB OpenAPI document",
        lambda: h.openapi_server(
            h.openapi_doc({"/api/items": {"get": {"responses": {"200": {"description": "ok"}}}}}, pad=20 * (1 << 20))
        ),
        openapi="/openapi.json",
    ),
    Behaviour(
        "openapi-ref-loop",
        "OpenAPI with $ref loops (A->B->A, self-reference)",
        lambda: h.openapi_server(
            h.openapi_doc(
                {
                    "/api/items": h.GET_ITEMS,
                    "/api/other": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}},
                },
                h.LOOP_COMPONENTS,
            )
        ),
        openapi="/openapi.json",
    ),
]
BY_NAME = {b.name: b for b in CORPUS}


async def _canary(req: Request, w: W, srv: RawServer) -> bool:
    return await respond(w, srv, 200, JSON, b'{"canary": true}')


@contextlib.contextmanager
def hostile(name: str) -> Iterator[Target]:
    behaviour = BY_NAME[name]
    server = behaviour.build()
    with contextlib.ExitStack() as stack:
        helpers: dict[str, RawServer] = {}
        if name == "redirect-off-host":
            # Same machine, different host name and port: off-target for the scan.
            canary = RawServer(_canary, host="127.0.0.1")
            url = stack.enter_context(canary.running())
            server.state["canary_url"] = url.replace("127.0.0.1", "localhost")
            helpers["canary"] = canary
        base = stack.enter_context(server.running())
        yield Target(base + behaviour.path, server, helpers)


def polite_api(*, delay_s: float = 0.1, limit_after: int | None = None, retry_after: str = "1") -> RawServer:
    """A well-behaved JSON API that is slow enough for requests to overlap: every collection has a
    ``Link: rel=next`` to a further page (pagination never ends), and after ``limit_after`` requests
    every answer is 429 with ``Retry-After: <retry_after>``. Used to measure politeness server-side."""

    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        await asyncio.sleep(delay_s)
        if limit_after is not None and srv.counters.requests > limit_after:
            return await respond(
                w,
                srv,
                429,
                [*JSON, ("Retry-After", retry_after)],
                b'{"error": "rate limited"}',
                reason="Too Many Requests",
                head_only=req.method == "HEAD",
            )
        path, _, query = req.target.partition("?")
        page = int(query.rsplit("page=", 1)[1].split("&")[0]) if "page=" in query else 1
        items = [{"id": page * 100 + i, "name": f"item {i}"} for i in range(20)]
        headers = [
            *JSON,
            ("Link", f'<{path}?page={page + 1}>; rel="next"'),
            ("Cache-Control", "max-age=60"),
            ("ETag", f'"{path}-{page}"'),
        ]
        return await respond(w, srv, 200, headers, json.dumps(items).encode(), head_only=req.method == "HEAD")

    return RawServer(handler)


def big_json_api(items: int = 15_000) -> RawServer:
    """Every path answers the same ~3.4 MB JSON array (a collection without pagination)."""
    body = json.dumps([{"id": i, "pad": "x" * 200} for i in range(items)]).encode()

    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, 200, JSON, body, head_only=req.method == "HEAD")

    return RawServer(handler)

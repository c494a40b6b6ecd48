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

from .payloads import Bomb, brotli_bomb, gzip_bomb, h2_only, tls_context, zstd_bomb
from .rawserver import RawServer, Request, reset, respond, send, stream_forever

GIB = 1 << 30
JSON = [("Content-Type", "application/json")]
W = asyncio.StreamWriter


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


def _bomb(bomb: Callable[[], Bomb], coding: str) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        b = bomb()
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: {coding}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        await send(w, head.encode(), srv)
        # Each chunk decodes to at most 64 MiB and is at most 64 KB on the wire.
        reps = max(1, min((64 * 1024) // len(b.block), (64 << 20) // b.block_decoded))
        block = b.block * reps
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        await send(w, f"{len(b.head):x}\r\n".encode() + b.head + b"\r\n", srv)
        # Decoded size capped server-side at 16 GiB so a broken client cannot keep the test forever.
        wire_cap = int(16 * GIB / b.ratio())
        await stream_forever(w, srv, chunk, max_bytes=wire_cap, max_seconds=90)
        await send(w, b"0\r\n\r\n", srv)
        return False

    return RawServer(handler)


def _static(status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "OK") -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, status, headers, body, reason=reason, head_only=req.method == "HEAD")

    return RawServer(handler)


def _raw_bytes(data: bytes, *, close: bool = True) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        await send(w, data, srv)
        return not close

    return RawServer(handler)


async def _garbage_gzip(req: Request, w: W, srv: RawServer) -> bool:
    body = os.urandom(4096)
    return await respond(w, srv, 200, [*JSON, ("Content-Encoding", "gzip")], body)


async def _big_body(req: Request, w: W, srv: RawServer) -> bool:
    size = 50 * (1 << 20)
    await send(
        w,
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode(),
        srv,
    )
    if req.method == "HEAD":
        return True
    await send(w, b"[", srv)
    await stream_forever(w, srv, b"0," * (32 * 1024), max_bytes=size - 2, max_seconds=60)
    return False


async def _endless_chunked(req: Request, w: W, srv: RawServer) -> bool:
    await send(w, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", srv)
    piece = b'{"id": 1, "name": "again"},' * 1000
    await stream_forever(w, srv, f"{len(piece):x}\r\n".encode() + piece + b"\r\n", max_bytes=20 * GIB, max_seconds=90)
    return False


async def _slowloris(req: Request, w: W, srv: RawServer) -> bool:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"z" * 400
    for i in range(len(response)):
        await send(w, response[i : i + 1], srv)
        await asyncio.sleep(1.0)
    return False


async def _never_answers(req: Request, w: W, srv: RawServer) -> bool:
    await asyncio.sleep(600)
    return False


async def _reset_mid_body(req: Request, w: W, srv: RawServer) -> bool:
    await send(
        w,
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"items": [1, 2, 3',
        srv,
    )
    await asyncio.sleep(0.05)
    reset(w)
    return False


async def _early_hints_flood(req: Request, w: W, srv: RawServer) -> bool:
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
    await stream_forever(w, srv, hint, max_bytes=1 << 30, max_seconds=90, pause=0.01)
    return False


async def _content_length_lie(req: Request, w: W, srv: RawServer) -> bool:
    await send(w, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[1,", srv)
    await asyncio.sleep(120)
    return False


async def _head_with_body(req: Request, w: W, srv: RawServer) -> bool:
    """Sends the body even to HEAD, and a body with 204/304: the bytes left on a keep-alive connection
    would be read as the next response by a client that trusts the framing rules (RFC 9112 §6.3)."""
    body = b'{"items": [1, 2, 3]}'
    status = b"204 No Content" if "If-None-Match" not in str(req.headers) else b"304 Not Modified"
    if req.method == "GET" and "page=" not in req.target:
        status = b"200 OK"
    head = b"HTTP/1.1 " + status + b'\r\nContent-Type: application/json\r\nETag: "v1"\r\n'
    await send(w, head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body, srv)
    return True


async def _close_before_headers(req: Request, w: W, srv: RawServer) -> bool:
    return False


async def _redirect_loop(req: Request, w: W, srv: RawServer) -> bool:
    nxt = "/loop/b" if req.target.endswith("/a") else "/loop/a"
    return await respond(w, srv, 302, [("Location", nxt)], b"", reason="Found")


def _redirect_to(location: Callable[[RawServer], str], status: int = 302) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, status, [("Location", location(srv))], b"", reason="Found")

    return RawServer(handler)


async def _retry_after_day(req: Request, w: W, srv: RawServer) -> bool:
    return await respond(
        w, srv, 429, [*JSON, ("Retry-After", "86400")], b'{"error": "slow down"}', reason="Too Many Requests"
    )


def _tls() -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, 200, [*JSON, ("Cache-Control", "no-store")], b'{"items": [1, 2, 3]}')

    return RawServer(handler, tls=tls_context())


def _headers(n: int, value: str) -> bytes:
    return "".join(f"X-H{i}: {value}\r\n" for i in range(n)).encode("latin-1")


def _response(extra: bytes, body: bytes = b'{"ok": true}') -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def _openapi_doc(paths: dict[str, object], components: dict[str, object] | None = None, pad: int = 0) -> bytes:
    doc: dict[str, object] = {
        "openapi": "3.0.3",
        "info": {"title": "hostile", "version": "1", "description": "x" * pad},
        "paths": paths,
    }
    if components:
        doc["components"] = components
    return json.dumps(doc).encode()


def openapi_server(doc: bytes) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        if req.target.startswith("/openapi.json"):
            return await respond(w, srv, 200, JSON, doc, head_only=req.method == "HEAD")
        return await respond(w, srv, 200, JSON, b'{"items": [{"id": 1}]}', head_only=req.method == "HEAD")

    return RawServer(handler)


_GET_ITEMS = {
    "get": {
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}},
            }
        }
    }
}
_LOOP_COMPONENTS = {
    "schemas": {
        "A": {"$ref": "#/components/schemas/B"},
        "B": {"$ref": "#/components/schemas/A"},
        "Self": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Self"}}},
    },
    "responses": {"R": {"$ref": "#/components/responses/R"}},
}

HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>"
    b"502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)

CORPUS: list[Behaviour] = [
    Behaviour("gzip-bomb", "gzip stream of zeros, ~1 KB per MiB, 16 GiB decoded", lambda: _bomb(gzip_bomb, "gzip")),
    Behaviour("brotli-bomb", "brotli stream of zeros, 13 bytes per MiB", lambda: _bomb(brotli_bomb, "br")),
    Behaviour("zstd-bomb", "zstd RLE blocks, 4 bytes per 128 KiB", lambda: _bomb(zstd_bomb, "zstd")),
    Behaviour("gzip-garbage", "Content-Encoding: gzip over random bytes", lambda: RawServer(_garbage_gzip)),
    Behaviour("body-50mb", "a 50 MB JSON body with Content-Length", lambda: RawServer(_big_body)),
    Behaviour("endless-chunked", "a chunked body that never ends", lambda: RawServer(_endless_chunked)),
    Behaviour("slowloris", "the response head arrives one byte per second", lambda: RawServer(_slowloris)),
    Behaviour("never-answers", "accepts, reads the request, never answers", lambda: RawServer(_never_answers)),
    Behaviour("reset-mid-body", "TCP RST after 20 of 100000 promised bytes", lambda: RawServer(_reset_mid_body)),
    Behaviour("close-before-headers", "closes after reading the request", lambda: RawServer(_close_before_headers)),
    Behaviour(
        "early-hints-flood", "103 Early Hints forever, never a final response", lambda: RawServer(_early_hints_flood)
    ),
    Behaviour(
        "content-length-lie",
        "Content-Length: 1000000, 3 bytes sent, then silence",
        lambda: RawServer(_content_length_lie),
    ),
    Behaviour(
        "chunk-size-overflow",
        "a chunk size of 2**80 in hex",
        lambda: _raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n100000000000000000000\r\n[1]\r\n0\r\n\r\n"
        ),
    ),
    Behaviour(
        "te-and-content-length",
        "Transfer-Encoding: chunked and Content-Length together (smuggling)",
        lambda: _raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n3\r\n[1]\r\n0\r\n\r\n"
        ),
    ),
    Behaviour(
        "head-with-body", "bodies on HEAD, 204 and 304 on a keep-alive connection", lambda: RawServer(_head_with_body)
    ),
    Behaviour("invalid-status-line", "HTTP/1.1 2OO BAD", lambda: _raw_bytes(b"HTTP/1.1 2OO BAD\r\n\r\n")),
    Behaviour("garbage-response", "random bytes instead of HTTP", lambda: _raw_bytes(os.urandom(2048))),
    Behaviour(
        "header-folding",
        "obs-fold continuation lines (RFC 9112 §5.2)",
        lambda: _raw_bytes(_response(b"X-Folded: first\r\n  second\r\n\tthird\r\n"), close=False),
    ),
    Behaviour("10k-headers", "10,000 response headers", lambda: _raw_bytes(_response(_headers(10_000, "v")))),
    Behaviour(
        "1mb-header",
        "one 1 MB header line",
        lambda: _raw_bytes(_response(b"X-Huge: " + b"a" * (1 << 20) + b"\r\n")),
    ),
    Behaviour(
        "duplicate-content-length",
        "Content-Length sent twice, same value",
        lambda: _raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nnull",
            close=False,
        ),
    ),
    Behaviour(
        "conflicting-content-length",
        "Content-Length: 4 and Content-Length: 40",
        lambda: _raw_bytes(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nnull"
        ),
    ),
    Behaviour(
        "invalid-utf8-header",
        "header values with bytes that are not UTF-8",
        lambda: _raw_bytes(_response(b'X-Bytes: \xff\xfe\xc3\x28 caf\xe9\r\nETag: "\xff\xff"\r\n')),
    ),
    Behaviour(
        "nul-in-header",
        "a NUL byte inside a header value",
        lambda: _raw_bytes(_response(b"X-Nul: a\x00b\r\n")),
    ),
    Behaviour(
        "redirect-loop",
        "/loop/a -> /loop/b -> /loop/a ...",
        lambda: RawServer(_redirect_loop),
        path="/loop/a",
    ),
    Behaviour(
        "redirect-off-host",
        "302 to another host (a canary counts any visit)",
        lambda: _redirect_to(lambda s: str(s.state["canary_url"]) + "/stolen"),
    ),
    Behaviour(
        "redirect-metadata",
        "302 to the cloud metadata address 169.254.169.254",
        lambda: _redirect_to(lambda s: "http://169.254.169.254/latest/meta-data/"),
    ),
    Behaviour(
        "redirect-file-scheme",
        "302 to file:///etc/passwd",
        lambda: _redirect_to(lambda s: "file:///etc/passwd"),
    ),
    Behaviour("redirect-ftp-scheme", "301 to ftp://", lambda: _redirect_to(lambda s: "ftp://127.0.0.1/x", 301)),
    Behaviour("retry-after-day", "429 with Retry-After: 86400 on every request", lambda: RawServer(_retry_after_day)),
    Behaviour(
        "retry-after-superscript",
        "429 with Retry-After: \\xb2 (latin-1 '²', which str.isdigit() accepts)",
        lambda: _raw_bytes(
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: \xb2\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n\r\n{}",
            close=False,
        ),
    ),
    Behaviour("tls-self-signed", "HTTPS with a self-signed certificate", _tls),
    Behaviour(
        "http2-only",
        "speaks only HTTP/2 (prior knowledge); HTTP/1.1 gets a GOAWAY",
        lambda: RawServer(raw=h2_only),
    ),
    Behaviour("json-deep", "JSON nested 100,000 deep", lambda: _static(200, JSON, b"[" * 100_000 + b"]" * 100_000)),
    Behaviour(
        "json-huge-number",
        "a JSON number with 1,000,000 digits",
        lambda: _static(200, JSON, b'{"items": [1], "n": ' + b"9" * 1_000_000 + b"}"),
    ),
    Behaviour(
        "json-utf16",
        "a JSON collection encoded as UTF-16 with a BOM",
        lambda: _static(
            200, [("Content-Type", "application/json; charset=utf-16")], '{"items": [{"id": 1}]}'.encode("utf-16")
        ),
    ),
    Behaviour(
        "json-is-binary",
        "application/json over undeclared gzip bytes",
        lambda: _static(200, JSON, gzip.compress(b'{"items": [1, 2, 3]}' * 100)),
    ),
    Behaviour(
        "html-error-page",
        "an nginx HTML 502 page on an API path",
        lambda: _static(502, [("Content-Type", "text/html")], HTML_ERROR, reason="Bad Gateway"),
    ),
    Behaviour(
        "html-200-on-api",
        "text/html 200 on a JSON API path",
        lambda: _static(
            200,
            [("Content-Type", "text/html; charset=utf-8")],
            b"<html><body><h1>Welcome</h1><script>alert(1)</script></body></html>",
        ),
    ),
    Behaviour(
        "openapi-20mb",
        "a 20 MB OpenAPI document",
        lambda: openapi_server(
            _openapi_doc({"/api/items": {"get": {"responses": {"200": {"description": "ok"}}}}}, pad=20 * (1 << 20))
        ),
        openapi="/openapi.json",
    ),
    Behaviour(
        "openapi-ref-loop",
        "OpenAPI with $ref loops (A->B->A, self-reference)",
        lambda: openapi_server(
            _openapi_doc(
                {
                    "/api/items": _GET_ITEMS,
                    "/api/other": {"get": {"responses": {"200": {"$ref": "#/components/responses/R"}}}},
                },
                _LOOP_COMPONENTS,
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

"""Handlers of the hostile corpus: each coroutine answers one request the way a broken or
malicious server would (see servers.py for the list and what each one does)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable

from .payloads import Bomb, tls_context
from .rawserver import RawServer, Request, reset, respond, send, stream_forever

GIB = 1 << 30
JSON = [("Content-Type", "application/json")]
W = asyncio.StreamWriter


def bomb(bomb: Callable[[], Bomb], coding: str) -> RawServer:
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


def static(status: int, headers: list[tuple[str, str]], body: bytes, reason: str = "OK") -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, status, headers, body, reason=reason, head_only=req.method == "HEAD")

    return RawServer(handler)


def raw_bytes(data: bytes, *, close: bool = True) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        await send(w, data, srv)
        return not close

    return RawServer(handler)


async def garbage_gzip(req: Request, w: W, srv: RawServer) -> bool:
    body = os.urandom(4096)
    return await respond(w, srv, 200, [*JSON, ("Content-Encoding", "gzip")], body)


async def big_body(req: Request, w: W, srv: RawServer) -> bool:
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


async def endless_chunked(req: Request, w: W, srv: RawServer) -> bool:
    await send(w, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", srv)
    piece = b'{"id": 1, "name": "again"},' * 1000
    await stream_forever(w, srv, f"{len(piece):x}\r\n".encode() + piece + b"\r\n", max_bytes=20 * GIB, max_seconds=90)
    return False


async def slowloris(req: Request, w: W, srv: RawServer) -> bool:
    response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"z" * 400
    for i in range(len(response)):
        await send(w, response[i : i + 1], srv)
        await asyncio.sleep(1.0)
    return False


async def never_answers(req: Request, w: W, srv: RawServer) -> bool:
    await asyncio.sleep(600)
    return False


async def reset_mid_body(req: Request, w: W, srv: RawServer) -> bool:
    await send(
        w,
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"items": [1, 2, 3',
        srv,
    )
    await asyncio.sleep(0.05)
    reset(w)
    return False


async def early_hints_flood(req: Request, w: W, srv: RawServer) -> bool:
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
    await stream_forever(w, srv, hint, max_bytes=1 << 30, max_seconds=90, pause=0.01)
    return False


async def content_length_lie(req: Request, w: W, srv: RawServer) -> bool:
    await send(w, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n[1,", srv)
    await asyncio.sleep(120)
    return False


async def head_with_body(req: Request, w: W, srv: RawServer) -> bool:
    """Sends the body even to HEAD, and a body with 204/304: the bytes left on a keep-alive connection
    would be read as the next response by a client that trusts the framing rules (RFC 9112 §6.3)."""
    body = b'{"items": [1, 2, 3]}'
    status = b"204 No Content" if "If-None-Match" not in str(req.headers) else b"304 Not Modified"
    if req.method == "GET" and "page=" not in req.target:
        status = b"200 OK"
    head = b"HTTP/1.1 " + status + b'\r\nContent-Type: application/json\r\nETag: "v1"\r\n'
    await send(w, head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body, srv)
    return True


async def close_before_headers(req: Request, w: W, srv: RawServer) -> bool:
    return False


async def redirect_loop(req: Request, w: W, srv: RawServer) -> bool:
    nxt = "/loop/b" if req.target.endswith("/a") else "/loop/a"
    return await respond(w, srv, 302, [("Location", nxt)], b"", reason="Found")


def redirect_to(location: Callable[[RawServer], str], status: int = 302) -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, status, [("Location", location(srv))], b"", reason="Found")

    return RawServer(handler)


async def retry_after_day(req: Request, w: W, srv: RawServer) -> bool:
    return await respond(
        w, srv, 429, [*JSON, ("Retry-After", "86400")], b'{"error": "slow down"}', reason="Too Many Requests"
    )


def tls() -> RawServer:
    async def handler(req: Request, w: W, srv: RawServer) -> bool:
        return await respond(w, srv, 200, [*JSON, ("Cache-Control", "no-store")], b'{"items": [1, 2, 3]}')

    return RawServer(handler, tls=tls_context())


def headers(n: int, value: str) -> bytes:
    return "".join(f"X-H{i}: {value}\r\n" for i in range(n)).encode("latin-1")


def response(extra: bytes, body: bytes = b'{"ok": true}') -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def openapi_doc(paths: dict[str, object], components: dict[str, object] | None = None, pad: int = 0) -> bytes:
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


GET_ITEMS = {
    "get": {
        "responses": {
            "200": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}},
            }
        }
    }
}
LOOP_COMPONENTS = {
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

"""Stdlib servers on 127.0.0.1 that stall or lure the auditor (issue 12 items 3 and 6).

``with serve_http(handler) as (url, hits):`` runs a ThreadingHTTPServer whose ``handler(req)`` returns
``(status, headers, body)`` (or writes itself and returns None); ``hits`` lists every request seen.
``with serve_tcp(handle) as port:`` runs a raw TCP server, ``handle(conn)`` per connection (a thread).
The fake PostgreSQL, Redis and Memcached peers below speak just enough protocol to get the client
past its handshake, then stall.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, list[tuple[str, str]], bytes] | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def serve_http(handler: Callable[[BaseHTTPRequestHandler], Reply]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    hits: list[dict[str, Any]] = []

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _any(self) -> None:
            hits.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items())})
            reply = handler(self)
            if reply is None:
                return
            status, headers, body = reply
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_OPTIONS = do_POST = _any

    srv = _Server(("127.0.0.1", 0), H)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    finally:
        srv.shutdown()
        srv.server_close()


def json_reply(data: Any, *headers: tuple[str, str]) -> Reply:
    return 200, [("Content-Type", "application/json"), *headers], json.dumps(data).encode()


@contextlib.contextmanager
def serve_tcp(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=_guarded, args=(handle, conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()


def _guarded(handle: Callable[[socket.socket], None], conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(1.0)
    with contextlib.suppress(OSError), conn:
        handle(conn) if not stop.is_set() else None


def _recv(conn: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = conn.recv(n - len(out))
        if not chunk:
            raise OSError("closed")
        out += chunk
    return out


def _until_closed(conn: socket.socket, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue


def pg_silent_after_auth(conn: socket.socket) -> None:
    """PostgreSQL v3 protocol: refuse SSL/GSS, accept the startup packet with trust auth, announce
    ReadyForQuery, then read queries for ever without answering one."""

    def msg(kind: bytes, payload: bytes) -> bytes:
        return kind + struct.pack("!I", len(payload) + 4) + payload

    while True:
        size = struct.unpack("!I", _recv(conn, 4))[0]
        body = _recv(conn, size - 4)
        if struct.unpack("!I", body[:4])[0] in (80877103, 80877104):  # SSLRequest, GSSENCRequest
            conn.sendall(b"N")
            continue
        break
    out = msg(b"R", struct.pack("!I", 0))
    for key, value in ((b"server_version", b"15.0"), (b"client_encoding", b"UTF8"), (b"DateStyle", b"ISO, MDY"),
                       (b"standard_conforming_strings", b"on"), (b"integer_datetimes", b"on")):
        out += msg(b"S", key + b"\0" + value + b"\0")
    conn.sendall(out + msg(b"K", struct.pack("!II", 1, 2)) + msg(b"Z", b"I"))
    _until_closed(conn)


REDIS_INFO = (b"# Server\r\nredis_version:7.0.0\r\nuptime_in_seconds:100000\r\n# Stats\r\nkeyspace_hits:100\r\n"
              b"keyspace_misses:10\r\n# Memory\r\nused_memory:1000\r\nmaxmemory:0\r\n# Keyspace\r\n"
              b"db0:keys=3,expires=0\r\n")


def redis_trickle(conn: socket.socket, step_s: float = 0.5) -> None:
    """Answers every command with INFO's reply, one byte per ``step_s`` (inside any socket timeout)."""
    reply = b"$%d\r\n%s\r\n" % (len(REDIS_INFO), REDIS_INFO)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue
        for i in range(len(reply)):
            conn.sendall(reply[i:i + 1])
            time.sleep(step_s)


MEMCACHED_STATS = (b"STAT pid 1\r\nSTAT uptime 100\r\nSTAT time 1700000000\r\nSTAT version 1.6.0\r\n"
                   b"STAT curr_items 5\r\nSTAT get_hits 10\r\nSTAT get_misses 1\r\n")


def memcached_endless_stats(conn: socket.socket) -> None:
    """``stats`` gets a sane head, then STAT lines for ever (never END), a little at a time."""
    conn.recv(4096)
    conn.sendall(MEMCACHED_STATS)
    end = time.monotonic() + 60
    i = 0
    while time.monotonic() < end:
        conn.sendall(b"".join(b"STAT filler_%d %d\r\n" % (i + j, j) for j in range(50)))
        i += 50
        time.sleep(0.05)


def memcached_endless_line(conn: socket.socket) -> None:
    """Sane ``stats``; ``lru_crawler metadump`` answered with one endless line (no LF)."""
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return
        buf += data
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            if line == b"stats":
                conn.sendall(MEMCACHED_STATS + b"STAT bytes 100\r\nSTAT limit_maxbytes 1000000\r\nEND\r\n")
            elif line == b"stats settings":
                conn.sendall(b"STAT maxconns 1024\r\nSTAT evictions on\r\nEND\r\n")
            elif line.startswith(b"lru_crawler metadump"):
                conn.sendall(b"key=")
                chunk = b"A" * (1 << 20)
                end = time.monotonic() + 30
                while time.monotonic() < end:
                    conn.sendall(chunk)
                return
            else:
                conn.sendall(b"ERROR\r\n")


def http_tarpit(step_s: float, steps: int) -> Callable[[BaseHTTPRequestHandler], Reply]:
    """Every response completes just under the per-request cap: a byte, then a pause, ``steps`` times."""
    def handler(req: BaseHTTPRequestHandler) -> Reply:
        body = json.dumps([{"id": i} for i in range(5)]).encode()
        req.send_response(200)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.flush()
        with contextlib.suppress(OSError):
            for i in range(len(body)):
                if i < steps:
                    time.sleep(step_s)
                if req.command != "HEAD":
                    req.wfile.write(body[i:i + 1])
                    req.wfile.flush()
        return None
    return handler


def http_slow_drip(req: BaseHTTPRequestHandler) -> Reply:
    """A body promised at 100,000 bytes, one byte every 0.5 s (each read well inside any timeout)."""
    req.send_response(200)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", "100000")
    req.end_headers()
    end = time.monotonic() + 120
    with contextlib.suppress(OSError):
        while time.monotonic() < end:
            req.wfile.write(b" ")
            req.wfile.flush()
            time.sleep(0.5)
    return None

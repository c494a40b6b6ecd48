"""A tiny raw HTTP/1.x server on 127.0.0.1 that is allowed to misbehave.

Frameworks (uvicorn, wsgiref) refuse to send a broken status line, ten thousand headers or a body
that never ends; this server hands the handler the raw ``asyncio.StreamWriter`` instead. It runs its
own event loop in a daemon thread and counts what reaches it, so politeness is measured server-side:
requests, connections, methods, paths, and the peak number of requests in flight at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

# A request head larger than this is refused (the server is the hostile party, not the victim).
MAX_HEAD = 256 * 1024


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class Counters:
    """What reached the server. Updated from the server's loop thread only."""

    requests: int = 0
    connections: int = 0
    open_connections: int = 0
    max_connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    methods: Counter[str] = field(default_factory=Counter)
    paths: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # monotonic arrival time of each request
    statuses: list[int] = field(default_factory=list)  # status sent for each request, in order
    bytes_sent: int = 0


# handler(request, writer, server) -> keep the connection open for another request?
Handler = Callable[[Request, asyncio.StreamWriter, "RawServer"], Awaitable[bool]]
RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "RawServer"], Awaitable[None]]


class RawServer:
    """Serve ``handler`` on a free port; ``with server.running() as url: ...``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        raw: RawHandler | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.handler = handler
        self.tls = tls
        self.raw = raw  # reads the socket itself (HTTP/2)
        self.host = host
        self.port = 0
        self.counters = Counters()
        self.state: dict[str, object] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("hostile server did not start")
        try:
            yield self.url
        finally:
            self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(
            self._accept, self.host, 0, ssl=self.tls, limit=MAX_HEAD, reuse_address=True
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        c = self.counters
        c.connections += 1
        c.open_connections += 1
        c.max_connections = max(c.max_connections, c.open_connections)
        try:
            if self.raw is not None:
                await self.raw(reader, writer, self)
            else:
                await self._serve(reader, writer)
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ssl.SSLError,
            asyncio.CancelledError,
            OSError,
            ValueError,
        ):
            pass
        finally:
            c.open_connections -= 1
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.transport.set_write_buffer_limits(high=256 * 1024)
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            req = parse_head(head)
            if req is None:
                return
            c = self.counters
            c.requests += 1
            c.methods[req.method] += 1
            c.paths.append(req.target)
            c.times.append(time.monotonic())
            c.in_flight += 1
            c.max_in_flight = max(c.max_in_flight, c.in_flight)
            try:
                assert self.handler is not None
                keep = await self.handler(req, writer, self)
            finally:
                c.in_flight -= 1
            if not keep:
                return


def parse_head(head: bytes) -> Request | None:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        return None
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers.append((name.strip(), value.strip()))
    return Request(parts[0], parts[1], parts[2], headers)


async def send(writer: asyncio.StreamWriter, data: bytes, server: RawServer) -> None:
    writer.write(data)
    server.counters.bytes_sent += len(data)
    await writer.drain()


async def respond(
    writer: asyncio.StreamWriter,
    server: RawServer,
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    reason: str = "OK",
    head_only: bool = False,
) -> bool:
    """A well-formed response with Content-Length; returns True (keep-alive)."""
    server.counters.statuses.append(status)
    lines = [f"HTTP/1.1 {status} {reason}"]
    hdrs = list(headers or [])
    if not any(k.lower() == "content-length" for k, _ in hdrs):
        hdrs.append(("Content-Length", str(len(body))))
    lines += [f"{k}: {v}" for k, v in hdrs]
    await send(writer, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body), server)
    return True


async def stream_forever(
    writer: asyncio.StreamWriter,
    server: RawServer,
    chunk: bytes,
    *,
    max_bytes: int,
    max_seconds: float = 120.0,
    pause: float = 0.0,
) -> None:
    """Write ``chunk`` until the client goes away or a server-side safety cap is reached."""
    deadline = time.monotonic() + max_seconds
    sent = 0
    while sent < max_bytes and time.monotonic() < deadline:
        await send(writer, chunk, server)
        sent += len(chunk)
        if pause:
            await asyncio.sleep(pause)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    writer.transport.abort()

"""The embedded sample API: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 serving ``endpoints.routes``.

Every response passes through one policy step (``_finish``): Cache-Control, strong ETags with 304 on
If-None-Match, gzip when asked and worth it, RateLimit headers from a token bucket (429 + Retry-After
when empty), ``?fields=`` selection and the session cookie the bad endpoints set. Start it with
:func:`start_sample_api`; ``stop()`` closes the socket and the store.

Run it alone: ``python -m apiaudit.demo.sample_api [PORT]`` (in-memory data).
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from apiaudit.demo import httpkit
from apiaudit.demo.data import MemoryStore, Store
from apiaudit.demo.endpoints import BadRequest, Endpoints, Reply, Request, Route, routes
from apiaudit.demo.pages import pages

# Token bucket per client and route: 60 requests, refilled at one a second (a 60/minute policy).
BUCKET_CAPACITY = 60
BUCKET_RATE = 1.0


class SampleApi:
    """The running sample API; ``url`` is its base URL."""

    def __init__(self, store: Store, *, port: int = 0, fixes: frozenset[str] = frozenset()) -> None:
        self.store = store
        self.fixes = fixes
        self.metrics = httpkit.Histogram()
        self.bucket = httpkit.TokenBucket(BUCKET_CAPACITY, BUCKET_RATE)
        self.routes: list[tuple[Any, Route]] = [
            (r.pattern, r) for r in routes(Endpoints(store, fixes), pages(self.metrics))
        ]
        handler = type("DemoHandler", (_Handler,), {"app": self})
        self.server = _Server(("127.0.0.1", port), handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-api", daemon=True
        )

    def start(self) -> SampleApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        self.store.close()

    def match(self, path: str) -> tuple[Route | None, dict[str, str]]:
        for pattern, route in self.routes:
            m = pattern.match(path)
            if m:
                return route, m.groupdict()
        return None, {}


def start_sample_api(
    store: Store | None = None, *, port: int = 0, fixes: frozenset[str] = frozenset()
) -> SampleApi:
    return SampleApi(store or MemoryStore(), port=port, fixes=fixes).start()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-response is not worth a traceback on the demo's terminal


def _select_fields(body: Any, fields: set[str]) -> Any:
    """``?fields=id,name``: keep only those keys, on each item of an envelope or on one object."""

    def pick(obj: Any) -> Any:
        return {k: v for k, v in obj.items() if k in fields} if isinstance(obj, dict) else obj

    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return {**body, "data": [pick(item) for item in body["data"]]}
    return pick(body)


class _Handler(BaseHTTPRequestHandler):
    app: SampleApi
    protocol_version = "HTTP/1.1"
    server_version = "apiaudit-demo/1.0"
    timeout = 30
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms
    # to every keep-alive response and the whole demo would look slow.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_OPTIONS(self) -> None:
        self._send(204, {"Allow": "GET, HEAD, OPTIONS"}, b"", head=False)

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._send(
            405,
            {"Allow": "GET, HEAD, OPTIONS", "Content-Type": "application/json"},
            b'{"error":"method not allowed"}',
            head=False,
        )

    do_POST = do_PUT = do_PATCH = do_DELETE = _method_not_allowed

    def _serve(self, *, head: bool) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        route, params = self.app.match(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if route is None:
            self._send(404, {"Content-Type": "application/json"}, b'{"error":"not found"}', head=head)
            return
        headers: dict[str, str] = {}
        if route.policy.ratelimit and not self._rate_limit(route, headers, head):
            self.app.metrics.observe(route.template, 429, time.perf_counter() - started)
            return
        request = Request(path=split.path, query=query, params=params, base_url=self.app.url)
        try:
            reply = route.handler(request)
        except BadRequest as exc:
            reply = Reply(400, {"error": str(exc)})
        except Exception as exc:  # the demo must answer, never hang: report the failure as a 500
            reply = Reply(500, {"error": f"{type(exc).__name__}"})
        if route.fields and reply.status == 200 and query.get("fields"):
            reply.body = _select_fields(
                reply.body, {f.strip() for f in query["fields"].split(",") if f.strip()}
            )
        status = self._finish(route, reply, headers, head)
        self.app.metrics.observe(route.template, status, time.perf_counter() - started)

    def _rate_limit(self, route: Route, headers: dict[str, str], head: bool) -> bool:
        allowed, remaining, reset = self.app.bucket.take(f"{self.client_address[0]} {route.template}")
        headers["RateLimit-Policy"] = self.app.bucket.policy()
        headers["RateLimit"] = f'"default";r={remaining};t={reset}'
        if not allowed:
            headers.update({"Retry-After": str(reset), "Content-Type": "application/json"})
            self._send(429, headers, b'{"error":"too many requests"}', head=head)
        return allowed

    def _finish(self, route: Route, reply: Reply, headers: dict[str, str], head: bool) -> int:
        body = _encode(reply.body)
        headers.update(reply.headers)
        headers["Content-Type"] = reply.content_type
        policy, status = route.policy, reply.status
        if policy.session_cookie:
            headers["Set-Cookie"] = f"sessionid={secrets.token_hex(16)}; Path=/; HttpOnly; SameSite=Lax"
        if status != 200:
            self._send(status, headers, body, head=head)
            return status
        if policy.cache_control:
            headers["Cache-Control"] = policy.cache_control
        coding = ""
        if policy.gzip and len(body) >= httpkit.GZIP_MIN_BYTES:
            headers["Vary"] = "Accept-Encoding"
            if httpkit.accepts_gzip(self.headers.get("Accept-Encoding")):
                coding = "gzip"
        if policy.etag:
            headers["ETag"] = httpkit.strong_etag(body, coding)
            if httpkit.etag_matches(self.headers.get("If-None-Match"), [headers["ETag"]]):
                headers.pop("Content-Type", None)
                self._send(304, headers, b"", head=True)
                return 304
        if coding:
            body = httpkit.gzip_body(body)
            headers["Content-Encoding"] = "gzip"
        self._send(200, headers, body, head=head)
        return 200

    def _send(self, status: int, headers: dict[str, str], body: bytes, *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304 and status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    api = start_sample_api(port=int(args[0]) if args else 0)
    print(f"sample API on {api.url} (in-memory data); Ctrl-C stops it", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

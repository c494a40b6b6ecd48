"""Servers for the scan-engine tests: two FastAPI apps under uvicorn (one behind GZipMiddleware, one
plain, each with good and bad endpoints), and a stdlib server for behaviour no framework produces."""


import gzip
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from conftest import serve_asgi

from apiaudit.config import Config
from apiaudit.rules import load_rules

LAST_MODIFIED = "Tue, 01 Sep 2026 10:00:00 GMT"
ROWS = [{"id": i, "name": f"user {i}", "email": f"user{i}@example.com"} for i in range(60)]
BODY = json.dumps(ROWS)  # ~3.5 KB: above the 1 KB compression threshold
RENDER_S = 0.12  # "expensive" rendering for the 304-timing endpoints


def _etag(body: str) -> str:
    return '"' + hashlib.md5(body.encode()).hexdigest() + '"'


def gz_app() -> Any:
    """GZipMiddleware (guide, "Compression") on every route."""
    from fastapi import FastAPI, Request, Response
    from fastapi.middleware.gzip import GZipMiddleware
    from fastapi.responses import JSONResponse

    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.api_route("/good/items", methods=["GET", "HEAD"])  # HEAD where GET works (RFC 9110 §9.3.2)
    def good_items(request: Request) -> Response:
        # Weak ETag (same content in every coding), validators checked before any rendering,
        # and the 304 repeats every caching header of the 200 (RFC 9110 §15.4.5).
        etag = 'W/"items-v7"'
        headers = {
            "ETag": etag,
            "Cache-Control": "private, max-age=120",
            "Vary": "Accept-Encoding",
            "Last-Modified": LAST_MODIFIED,
        }
        if (
            request.headers.get("if-none-match") == etag
            or request.headers.get("if-modified-since") == LAST_MODIFIED
        ):
            return Response(status_code=304, headers=headers)
        time.sleep(RENDER_S)
        return Response(BODY, media_type="application/json", headers=headers)

    @app.get("/bad/guide-etag")
    def guide_etag(request: Request) -> Response:
        # The guide's handler verbatim in spirit: strong ETag from the body, bare 304, slow render first.
        time.sleep(RENDER_S)
        etag = _etag(BODY)
        if request.headers.get("If-None-Match") == etag:
            return Response(status_code=304)
        return Response(
            BODY, media_type="application/json", headers={"ETag": etag, "Cache-Control": "max-age=60"}
        )

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "not found", "help": "x" * 3000}, status_code=404)

    return app


def plain_app() -> Any:
    """No compression middleware; each route shows one problem (or none)."""
    from fastapi import FastAPI, Request, Response
    from fastapi.responses import HTMLResponse, StreamingResponse

    app = FastAPI()
    counter = {"n": 0}

    def j(body: str = BODY, **headers: str) -> Response:
        return Response(body, media_type="application/json", headers=headers)

    @app.get("/bad/nocache")
    def nocache() -> Response:
        return j()

    @app.get("/bad/vary-star")
    def vary_star() -> Response:
        return j("{}", **{"Cache-Control": "max-age=60", "Vary": "*", "ETag": '"v"'})

    @app.get("/bad/public-auth")
    def public_auth(request: Request) -> Response:
        if not request.headers.get("authorization"):
            return Response(status_code=401)
        return j("{}", **{"Cache-Control": "public, max-age=60", "ETag": '"p"'})

    @app.get("/bad/band")
    def band() -> Response:
        return j("{}", **{"Cache-Control": "max-age=5", "ETag": '"b"'})

    @app.get("/bad/etag-ignored")
    def etag_ignored() -> Response:
        return j("{}", **{"Cache-Control": "max-age=60", "ETag": '"same"'})

    @app.get("/bad/etag-changing")
    def etag_changing() -> Response:
        counter["n"] += 1
        return j(json.dumps({"n": counter["n"]}), **{"Cache-Control": "max-age=60", "ETag": '"constant"'})

    @app.get("/bad/ims-ignored")
    def ims_ignored() -> Response:
        return j("{}", **{"Cache-Control": "max-age=60", "Last-Modified": LAST_MODIFIED})

    @app.get("/bad/heuristic")
    def heuristic() -> Response:
        return j("{}", **{"Cache-Control": "public", "Last-Modified": LAST_MODIFIED, "ETag": '"h"'})

    @app.get("/bad/gone")
    def gone() -> Response:
        return Response(status_code=410)

    @app.get("/bad/lint")
    def lint() -> Response:
        return j("{}", **{"Cache-Control": "max-age=abc", "ETag": '"l"'})

    @app.get("/bad/big")
    def big() -> Response:
        return j(
            json.dumps([{"id": i, "pad": "x" * 100} for i in range(12000)]), **{"Cache-Control": "no-store"}
        )

    @app.get("/good/stream")
    def stream() -> StreamingResponse:
        def rows() -> Iterator[bytes]:
            for i in range(12000):
                yield (json.dumps({"id": i, "pad": "x" * 100}) + "\n").encode()

        return StreamingResponse(
            rows(), media_type="application/x-ndjson", headers={"Cache-Control": "no-store"}
        )

    @app.get("/bad/gzip-novary")
    def gzip_novary(request: Request) -> Response:
        headers = {"Cache-Control": "max-age=60", "ETag": 'W/"g"'}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                gzip.compress(BODY.encode()),
                media_type="application/json",
                headers={**headers, "Content-Encoding": "gzip"},
            )
        return j(**headers)

    @app.get("/bad/gzip-larger")
    def gzip_larger(request: Request) -> Response:
        headers = {"Cache-Control": "max-age=60", "ETag": 'W/"s"', "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                gzip.compress(b'{"a":1}'),
                media_type="application/json",
                headers={**headers, "Content-Encoding": "gzip"},
            )
        return j('{"a":1}', **headers)

    @app.get("/bad/gzip-mismatch")
    def gzip_mismatch(request: Request) -> Response:
        headers = {"Cache-Control": "max-age=60", "ETag": 'W/"m"', "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                gzip.compress(BODY.encode()),
                media_type="application/json",
                headers={**headers, "Content-Encoding": "gzip"},
            )
        return j(BODY.replace("user", "USER"), **headers)

    @app.get("/odd/html")
    def html() -> HTMLResponse:
        return HTMLResponse("<html><body>not json</body></html>")

    @app.get("/odd/invalid-json")
    def invalid_json() -> Response:
        return j('{"a": [1, 2,')

    @app.get("/odd/500")
    def error500() -> Response:
        return Response("boom", status_code=500)

    return app


class _Odd(BaseHTTPRequestHandler):
    """Behaviour frameworks do not produce: redirect loops, huge bodies, silence."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/loop"):
            self._send(302, b"", Location="/loop2" if self.path == "/loop" else "/loop")
        elif self.path == "/offsite":
            self._send(302, b"", Location="http://example.invalid/elsewhere")
        elif self.path == "/hop":
            self._send(301, b"", Location="/landed")
        elif self.path == "/landed":
            self._send(200, b"{}", **{"Content-Type": "application/json", "Cache-Control": "no-store"})
        elif self.path == "/huge":
            self._huge(50 * 1024 * 1024)
        elif self.path == "/silent":
            time.sleep(30)
        else:
            self._send(404, b"")

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _huge(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b" " * 65536
        try:
            for _ in range(size // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # the scanner stops reading at its cap and closes: expected


@pytest.fixture(scope="package")
def gz_base() -> Iterator[str]:
    with serve_asgi(gz_app()) as base:
        yield base


@pytest.fixture(scope="package")
def plain_base() -> Iterator[str]:
    with serve_asgi(plain_app()) as base:
        yield base


@pytest.fixture(scope="package")
def odd_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def make_config() -> Callable[..., Config]:
    def make(**kw: Any) -> Config:
        return Config(ruleset=load_rules(), **kw)

    return make

"""Issue 14 point 5 (part): a server that answers 304 to any validator is broken (RFC 9110 §13.1.2),
and HEAD refused where GET works is a finding (RFC 9110 §9.3.2; FastAPI's APIRoute does this).
Servers: the FastAPI app of tests/scan_accuracy.py, nginx serving a file, and a stdlib server
that answers 304 whenever If-None-Match is present."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nginx_server import run_nginx
from scan_accuracy import findings, scan

from apiaudit import pgcluster
from apiaudit.model import Severity


class _AnyTag(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match"):  # the bug: presence, not a match
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.end_headers()
            return
        body = b'{"id": 1}'
        self.send_response(200)
        self.send_header("ETag", '"v1"')
        self.send_header("Cache-Control", "max-age=60")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


@pytest.fixture
def any_tag() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnyTag)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_304_to_any_validator_is_high(any_tag: str) -> None:
    report = scan([any_tag + "/item"])
    bad = findings(report, "http.validation.304-to-any")
    assert [f.severity for f in bad] == [Severity.HIGH]


def test_fastapi_head_405_is_reported(realapp: str) -> None:
    report = scan([realapp + "/orders/42"])
    head = findings(report, "http.validation.head-not-allowed")
    assert head and head[0].location["method"] == "HEAD" and "405" in head[0].message


def test_nginx_is_quiet_on_both(tmp_path: Path) -> None:
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "item.json").write_text('{"id": 1}')
    port = pgcluster.free_port()
    conf = f"server {{ listen 127.0.0.1:{port}; root {tmp_path}/www; etag on; }}"
    with run_nginx(tmp_path, conf, [port]):
        report = scan([f"http://127.0.0.1:{port}/item.json"])
    assert not findings(report, "http.validation.304-to-any")
    assert not findings(report, "http.validation.head-not-allowed")

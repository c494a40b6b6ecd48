"""End to end through `apiaudit scan`: a hostile target and secrets on the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
from conftest import serve_wsgi

SCHEMA = Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "schema.json"
XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
TOKEN = "tok-9a8b7c6d5e4f3a2b1c0d"
COOKIE = "cookieval-1f2e3d4c5b6a"
FORMATS = ("json", "html", "sarif", "junit", "markdown")


def hostile_app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    """Reflects the request's credentials and puts markup in headers and bodies."""
    path = environ["PATH_INFO"]
    if path == "/api/echo":
        body = json.dumps(
            {
                "auth": environ.get("HTTP_AUTHORIZATION"),
                "cookie": environ.get("HTTP_COOKIE"),
                "note": XSS_SCRIPT,
            }
        ).encode()
    elif path == "/api/list":
        body = json.dumps(
            [{"id": i, "name": f"{XSS_IMG} {i}", "bio": XSS_SCRIPT * 3} for i in range(400)]
        ).encode()
    else:
        start("404 Not Found", [("Content-Type", "text/html"), ("Content-Length", "9")])
        return [b"not found"]
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("X-Debug", XSS_SCRIPT),
        ("Link", f'<{XSS_IMG}>; rel="next"'),
        ("Set-Cookie", f"session={COOKIE}; Path=/"),
        ("Cache-Control", f'max-age=60, private="{XSS_IMG}"'),
    ]
    start("200 OK", headers)
    return [body]


def test_hostile_target_with_credentials(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with serve_wsgi(hostile_app) as base:
        args = [
            "scan",
            f"{base}/api/echo",
            f"{base}/api/list",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            "-H",
            f"Cookie: session={COOKIE}",
            "--output-dir",
            str(out),
            "--fail-on",
            "none",
            "-q",
        ]
        for fmt in FORMATS:
            args += ["--format", fmt]
        res = run_cli(*args)
    assert res.code == 0, res
    files = sorted(out.iterdir())
    assert len(files) == len(FORMATS)
    for path in files:
        text = path.read_text()
        assert TOKEN not in text and COOKIE not in text, f"{path.name} leaks a credential"
    for stream in (res.stdout, res.stderr):
        assert TOKEN not in stream and COOKIE not in stream
    html = (out / "report.html").read_text()
    assert XSS_SCRIPT not in html and "<img" not in html
    assert "<script" not in html.lower()
    assert "&lt;img src=x onerror" in html  # the hostile header value reached the report, escaped
    doc = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["findings"], "the scan found nothing: the escaping checks above would be vacuous"

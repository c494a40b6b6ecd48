"""Issue 13: a scan that could not audit the API never passes the gate.

Every endpoint answering 401 (an expired token), 403 (a WAF page), 404 (a wrong base URL), a redirect to a
login page (same host or SSO), a 200 login form, 429 or 5xx audited nothing: exit 3 with a one-line
reason. Before the fix these scored 70-80 and exited 0. A real threaded WSGI server per test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import CliResult, serve_wsgi

HTML = "text/html; charset=utf-8"
LOGIN_FORM = b'<html><form method="post"><input name="user"><input type="password" name="pw"></form></html>'


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    mode = path.strip("/").split("/")[0]

    def send(status: str, body: bytes, ctype: str = "application/json", extra: list[tuple[str, str]] | None = None
             ) -> list[bytes]:
        start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), *(extra or [])])
        return [body]

    if path == "/login":
        return send("200 OK", b"<html><form>sign in</form></html>", HTML)
    if mode == "auth":
        return send("401 Unauthorized", b'{"error": "token expired"}', extra=[("WWW-Authenticate", "Bearer")])
    if mode == "waf":
        return send("403 Forbidden", b"<html><body>Access denied by WAF</body></html>", HTML)
    if mode == "missing":
        return send("404 Not Found", b"<html><body>Not Found</body></html>", HTML)
    if mode == "sso":
        return send("302 Found", b"", extra=[("Location", "https://sso.example.com/login?next=" + path)])
    if mode == "samehost":
        return send("302 Found", b"", extra=[("Location", "/login")])
    if mode == "form":
        return send("200 OK", LOGIN_FORM, HTML)
    if mode == "throttled":
        return send("429 Too Many Requests", b'{"error": "slow down"}')
    if mode == "down":
        return send("503 Service Unavailable", b"<html>maintenance</html>", HTML)
    body = json.dumps([{"id": i, "name": f"item {i}"} for i in range(5)]).encode()
    return send("200 OK", body, extra=[("Cache-Control", "max-age=60"), ("ETag", '"v1"')])


CASES = [
    ("auth", "authentication refused on 2/2 endpoints"),
    ("waf", "access forbidden on 2/2 endpoints"),
    ("missing", "not found on 2/2 endpoints"),
    ("sso", "redirected to a login page on 2/2 endpoints"),
    ("samehost", "redirected to a login page on 2/2 endpoints"),
    ("form", "redirected to a login page on 2/2 endpoints"),
    ("throttled", "rate limited (429) on 2/2 endpoints"),
    ("down", "service unavailable (503) on 2/2 endpoints"),
]


@pytest.fixture(scope="module")
def base_url() -> Any:
    with serve_wsgi(app) as url:
        yield url


@pytest.mark.parametrize(("mode", "reason"), CASES, ids=[c[0] for c in CASES])
def test_nothing_audited_exits_3_with_one_line_reason(run_cli: Callable[..., CliResult], base_url: str,
                                                      tmp_path: Path, mode: str, reason: str) -> None:
    out = tmp_path / "r.json"
    res = run_cli("scan", f"{base_url}/{mode}/orders", f"{base_url}/{mode}/users", "--samples", "0",
                  "--format", "json", "-o", str(out), timeout=60)
    assert res.code == 3, res
    line = [ln for ln in res.stderr.splitlines() if "could not audit" in ln]
    assert len(line) == 1 and reason in line[0], res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()  # no report that could be mistaken for an audit


def test_one_answering_endpoint_is_audited_and_the_refusal_said(run_cli: Callable[..., CliResult],
                                                                base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = run_cli("scan", f"{base_url}/auth/orders", f"{base_url}/ok/items", "--samples", "0", "--fail-on",
                  "none", "--format", "json", "-o", str(out), timeout=60)
    assert res.code == 0, res
    report = json.loads(out.read_text())
    assert any(e["where"].endswith("/auth/orders") and "HTTP 401" in e["message"] for e in report["errors"])
    assert "skipped" in report

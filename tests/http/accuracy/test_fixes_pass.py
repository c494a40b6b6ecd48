"""Issue 14 point 8: every fix snippet, applied literally to a real server, makes its rule go quiet and
raises no other finding of the same kind. The code blocks are taken from the rules' rendered fix texts
(rules/*.yaml) — the FastAPI block is executed as written, the nginx blocks are pasted into nginx.conf.

Decided per RFC 9111 §5.2.2.9 / §3.5: ``public`` only matters for responses to requests with
Authorization, and it never hurts; the guide's ``public, max-age=1800`` therefore earns nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import serve_asgi  # type: ignore[attr-defined]
from nginx_server import run_nginx
from scan_accuracy import findings, scan

from apiaudit import pgcluster
from apiaudit.http.checks.static import fingerprinted
from apiaudit.rules import load_rules

ITEMS = [{"id": i, "name": f"item {i}", "description": "d" * 40} for i in range(1, 60)]
CACHE_RULES = ("http.validation.", "http.compression.", "http.cache.", "http.lint.")


def snippet(rule_id: str, language: str, nth: int = 0) -> str:
    """The ``nth`` fenced ``language`` block of the rule's fix, rendered as the report shows it."""
    fix = load_rules().rules[rule_id].render_fix({"url": "http://api.test/items"})
    blocks = re.findall(rf"```{language}\n(.*?)```", fix, re.DOTALL)
    assert len(blocks) > nth, f"{rule_id}: no {language} block in its fix"
    return str(blocks[nth])


def _snippet_app() -> Any:
    namespace: dict[str, Any] = {"load_items": lambda: ITEMS}
    exec(compile(snippet("http.validation.no-validator", "python"), "no-validator fix", "exec"), namespace)
    return namespace["app"]


def test_fastapi_etag_snippet_behind_gzip_scans_clean() -> None:
    with serve_asgi(_snippet_app()) as base:
        report = scan([base + "/items"])
    left = [(f.rule, f.message) for f in report.findings if f.rule.startswith(CACHE_RULES)]
    assert left == [], left
    assert next(c.status for c in report.checklist if c.id == "caching.http_headers") == "pass"
    assert next(c.status for c in report.checklist if c.id == "api.compression") == "pass"


def test_the_same_snippet_is_the_fix_for_304_headers_and_same_etag() -> None:
    assert snippet("http.validation.304-missing-headers", "python") == snippet("http.validation.no-validator", "python")
    assert snippet("http.compression.same-etag", "python") == snippet("http.validation.no-validator", "python")


NGINX = """
  types {{ application/json json; application/javascript js; }}
  server {{
    listen 127.0.0.1:{port};
    root {prefix}/www;
{gzip}
{etag}
{static}
  }}
"""


@pytest.fixture(scope="module")
def nginx_fixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("nginx-fixed")
    (prefix / "www" / "static").mkdir(parents=True)
    Path(prefix / "www" / "items.json").write_text(json.dumps(ITEMS))
    Path(prefix / "www" / "static" / "app.3f9a1c.js").write_text("console.log('x');" * 100)
    etag = snippet("http.validation.no-validator", "nginx").split("location")[0]  # `etag on;`
    conf = NGINX.format(prefix=prefix, port="{port}", gzip=snippet("http.compression.missing", "nginx"),
                        etag=etag, static=snippet("http.static.not-immutable", "nginx"))
    port = pgcluster.free_port()
    with run_nginx(prefix, conf.replace("{port}", str(port)), [port]):
        yield f"http://127.0.0.1:{port}"


def test_nginx_snippets_scan_clean(nginx_fixed: str) -> None:
    report = scan([nginx_fixed + "/items.json"])
    left = [(f.rule, f.message) for f in findings(report, "http.compression.")]
    assert left == [], left  # gzip_vary on: no http.compression.no-vary
    assert not findings(report, "http.validation.no-validator")


def test_six_hex_fingerprint_gets_the_immutable_snippet(nginx_fixed: str, tmp_path: Path) -> None:
    from apiaudit.config import Config
    from apiaudit.http.audit import ScanOptions, run_scan

    cfg = Config(ruleset=load_rules(), static=[nginx_fixed + "/static/app.3f9a1c.js"])
    report = run_scan(ScanOptions.from_cli(cfg, urls=[nginx_fixed + "/items.json"], samples=0, quiet=True), cfg)
    assert not findings(report, "http.static.not-immutable")
    assert fingerprinted(nginx_fixed + "/static/app.3f9a1c.js")  # 6 hex chars: the README's own example
    assert not fingerprinted(nginx_fixed + "/static/app.facade.js")  # a word, not a hash


def test_six_hex_asset_without_the_snippet_is_reported(tmp_path: Path) -> None:
    from apiaudit.config import Config
    from apiaudit.http.audit import ScanOptions, run_scan

    (tmp_path / "www" / "static").mkdir(parents=True)
    Path(tmp_path / "www" / "static" / "app.3f9a1c.js").write_text("console.log('x');" * 100)
    (tmp_path / "www" / "index.json").write_text("{}")
    port = pgcluster.free_port()
    conf = NGINX.format(prefix=tmp_path, port=port, gzip="", etag="", static="expires 10m;")
    with run_nginx(tmp_path, conf, [port]):
        base = f"http://127.0.0.1:{port}"
        cfg = Config(ruleset=load_rules(), static=[base + "/static/app.3f9a1c.js"])
        report = run_scan(ScanOptions.from_cli(cfg, urls=[base + "/index.json"], samples=0, quiet=True), cfg)
    assert findings(report, "http.static.not-immutable", "/static/app.3f9a1c.js")

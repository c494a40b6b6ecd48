"""Static assets and a caching edge from a server nobody here wrote: Debian's nginx.

Expected audit, from nginx's documentation:

* ``expires max`` sends ``Cache-Control: max-age=315360000`` (ngx_http_headers_module) and
  ``add_header Cache-Control immutable`` adds a second field line, so the fingerprinted asset under
  the regex location has a 10-year lifetime plus ``immutable`` (RFC 8246): no finding;
* ``location ^~ /legacy/ { expires 1h; }`` stops the regex search, so the fingerprinted file there has
  max-age=3600 and no ``immutable``: ``http.static.not-immutable``;
* files without ``expires`` still carry a strong ETag and Last-Modified (``etag on``, the default):
  validators, so no ``http.static.no-cache-headers``;
* the origin alone shows no cache signal: ``http.static.no-cdn-hit`` (info);
* behind an nginx ``proxy_cache`` edge that adds ``X-Cache-Status: $upstream_cache_status``
  (ngx_http_upstream_module), the repeat request is a ``HIT``: no ``http.static.no-cdn-hit``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nginx_server import run_nginx

from apiaudit import pgcluster
from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report
from apiaudit.rules import load_rules

HTTP = """
  proxy_cache_path {prefix}/cache keys_zone=edge:1m;
  types {{ text/html html; text/css css; application/javascript js; image/png png; }}
  server {{
    listen 127.0.0.1:{origin};
    root {prefix}/www;
    location ~* "\\.[0-9a-f]{{8,}}\\.(js|css)$" {{ expires max; add_header Cache-Control immutable; }}
    location ^~ /legacy/ {{ expires 1h; }}
  }}
  server {{
    listen 127.0.0.1:{edge};
    location / {{
      proxy_pass http://127.0.0.1:{origin};
      proxy_cache edge;
      proxy_cache_valid 200 10m;
      add_header X-Cache-Status $upstream_cache_status;
    }}
  }}
"""
PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="/assets/site.3f2a9c1b.css">
<script src="/assets/app.1a2b3c4d5e.js"></script>
<script src="/legacy/lib.5e6f7a8b.js"></script>
</head><body><img src="/img/logo.png"></body></html>
"""
ASSETS = ("assets/site.3f2a9c1b.css", "assets/app.1a2b3c4d5e.js", "legacy/lib.5e6f7a8b.js", "img/logo.png")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    prefix = tmp_path_factory.mktemp("nginx-static")
    (prefix / "www").mkdir()
    (prefix / "www" / "index.html").write_text(PAGE)
    for name in ASSETS:
        (prefix / "www" / name).parent.mkdir(parents=True, exist_ok=True)
        (prefix / "www" / name).write_text("/* asset */\n" * 50)
    origin, edge = pgcluster.free_port(), pgcluster.free_port()
    with run_nginx(prefix, HTTP.format(prefix=prefix, origin=origin, edge=edge), [origin, edge]):
        yield f"http://127.0.0.1:{origin}", f"http://127.0.0.1:{edge}"


def _scan(url: str) -> Report:
    cfg = Config(ruleset=load_rules())
    opts = ScanOptions.from_cli(cfg, urls=[url], samples=0, quiet=True)
    return run_scan(opts, cfg)


def _names(report: Report, rule: str) -> list[str]:
    return sorted(f.location.get("url", "").rsplit("/", 1)[-1] for f in report.findings if f.rule == rule)


def test_nginx_origin_static_headers(nginx: tuple[str, str]) -> None:
    report = _scan(nginx[0] + "/index.html")
    assert _names(report, "http.static.not-immutable") == ["lib.5e6f7a8b.js"]
    assert _names(report, "http.static.no-cache-headers") == []  # ETag + Last-Modified on every file
    assert len(_names(report, "http.static.no-cdn-hit")) == 1
    assert next(c.status for c in report.checklist if c.id == "scaling.cdn") == "warn"


def test_nginx_edge_cache_hit_on_repeat(nginx: tuple[str, str]) -> None:
    report = _scan(nginx[1] + "/index.html")
    assert _names(report, "http.static.no-cdn-hit") == []
    assert _names(report, "http.static.not-immutable") == ["lib.5e6f7a8b.js"]  # the edge passes headers on

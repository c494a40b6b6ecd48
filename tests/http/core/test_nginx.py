"""A server nobody here wrote: Debian's nginx serving static files with `etag on` and `gzip on`.

Expected audit, from nginx's documentation (ngx_http_core_module `etag`, ngx_http_gzip_module,
ngx_http_headers_module `expires`) and the RFCs:

* static files carry a strong ETag and Last-Modified; If-None-Match and If-Modified-Since give 304
  (no validation findings);
* gzip applies to `gzip_types` at or above `gzip_min_length`; nginx turns the ETag weak on the gzip
  copy, so no strong ETag is shared across codings; `gzip_vary on` adds `Vary: Accept-Encoding`,
  and without it the negotiated response lacks Vary (finding);
* nginx-light has no brotli/zstd module, so only gzip is negotiated;
* Cache-Control appears only where `expires` is set: elsewhere "no Cache-Control" is a finding,
  and `expires 10m` fits the guide's medium band (10-30 min);
* a body below gzip_min_length / the 1 KB threshold is not a compression finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from nginx_server import run_nginx

from apiaudit import pgcluster
from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report
from apiaudit.rules import load_rules

HTTP = """
  types {{ application/json json; text/plain txt; }}
  server {{
    listen 127.0.0.1:{port};
    root {prefix}/www;
    etag on;
    gzip on;
    gzip_types application/json;
    gzip_min_length 1000;
    gzip_vary on;
    location /cached/ {{ expires 10m; }}
    location /novary/ {{ gzip_vary off; }}
  }}
"""
FILES = ("data.json", "cached/data.json", "novary/data.json")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("nginx")
    body = json.dumps([{"id": i, "title": f"item {i}", "tags": ["a", "b"]} for i in range(120)])
    for name in FILES:
        (prefix / "www" / name).parent.mkdir(parents=True, exist_ok=True)
        (prefix / "www" / name).write_text(body)
    (prefix / "www" / "small.json").write_text('{"ok": true}')
    port = pgcluster.free_port()
    with run_nginx(prefix, HTTP.format(prefix=prefix, port=port), [port]):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def report(nginx: str) -> Report:
    cfg = Config(
        ruleset=load_rules(), endpoints=[{"url": nginx + "/cached/data.json", "resource_class": "medium"}]
    )
    urls = [nginx + "/data.json", nginx + "/novary/data.json", nginx + "/small.json"]
    opts = ScanOptions.from_cli(cfg, urls=urls, samples=0, quiet=True)
    return run_scan(opts, cfg)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def rules(report: Report, path: str) -> set[str]:
    return {f.rule for f in report.findings if _path(f.location.get("url", "")) == path}


def test_validation_supported(report: Report) -> None:
    for path in ("/data.json", "/cached/data.json", "/small.json"):
        found = {r for r in rules(report, path) if r.startswith("http.validation.")}
        assert found <= {"http.validation.304-missing-headers"}, (path, found)


def test_304_lacks_only_vary(report: Report) -> None:
    # gzip_vary adds Vary only where the gzip filter runs, i.e. on 200 responses with a body; nginx's
    # 304 therefore omits the Vary the 200 had, which RFC 9110 §15.4.5 asks it to repeat.
    missing = [f for f in report.findings if f.rule == "http.validation.304-missing-headers"]
    assert {_path(f.location.get("url", "")) for f in missing} == {"/data.json", "/cached/data.json"}
    assert all(f.evidence["missing"] == ["vary"] for f in missing)


def test_gzip_negotiated_with_weak_etag_and_vary(report: Report) -> None:
    assert not {
        "http.compression.missing", "http.compression.missing-small", "http.compression.missing-large",
        "http.compression.same-etag",
        "http.compression.no-vary",
        "http.compression.body-mismatch",
    } & rules(report, "/data.json")
    data = next(m["sizes"] for m in report.measurements["endpoints"] if _path(m["url"]) == "/data.json")
    assert data["gzip"]["applied"] == "gzip" and data["gzip"]["saved_pct"] > 50
    assert data.get("br", {}).get("applied", "identity") == "identity"  # no brotli module in nginx-light


def test_gzip_vary_off_is_found(report: Report) -> None:
    assert "http.compression.no-vary" in rules(report, "/novary/data.json")


def test_cache_control_only_with_expires(report: Report) -> None:
    assert "http.cache.no-cache-control" in rules(report, "/data.json")
    cached = rules(report, "/cached/data.json")
    assert "http.cache.no-cache-control" not in cached
    assert "http.cache.lifetime-out-of-band" not in cached  # expires 10m = max-age=600, medium band


def test_small_body_not_a_compression_finding(report: Report) -> None:
    assert not {r for r in rules(report, "/small.json") if r.startswith("http.compression.")}


def test_no_protocol_errors_from_httplint(report: Report) -> None:
    assert not [f for f in report.findings if f.rule == "http.lint.bad"], [
        (f.location, f.evidence) for f in report.findings if f.rule == "http.lint.bad"
    ]

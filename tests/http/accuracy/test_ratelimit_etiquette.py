"""Issue 14 point 2: the scan must not trip a limiter and then blame the API.

* nginx ``limit_req`` with its defaults answers 503 with no header (``limit_req_status`` defaults to
  503, nginx docs ngx_http_limit_req_module): recognised as rate limiting (http.ratelimit.503-not-429
  recommends 429 + Retry-After), never an error rate, a broken next page or "no rate limiting".
* slowapi (``20/minute``, ``headers_enabled``) advertises X-RateLimit-Limit/-Remaining/-Reset: the scan
  paces itself from them, and six scans within a minute give the same rate-limit verdict.
* ``--burst`` is sized from the advertised quota and reports a 503 limiter as a limiter.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import serve_asgi  # type: ignore[attr-defined]
from nginx_server import run_nginx
from scan_accuracy import findings, make_app, scan

from apiaudit import pgcluster
from apiaudit.model import Report, Severity

NGINX = """
  types {{ application/json json; }}
  default_type application/json;
  limit_req_zone $binary_remote_addr zone=api:1m rate=4r/s;
  server {{
    listen 127.0.0.1:{port};
    root {prefix}/www;
    location / {{ limit_req zone=api; }}
  }}
"""
PAGES = {
    "items": {"data": [{"id": i} for i in range(1, 21)], "next": "/items2"},
    "items2": {"data": [{"id": i} for i in range(21, 41)], "next": "/items3"},
    "items3": {"data": [{"id": i} for i in range(41, 61)], "next": None},
    "a": {"id": 1, "name": "a"},
    "b": {"id": 2, "name": "b"},
    "c": {"id": 3, "name": "c"},
}


@pytest.fixture(scope="module")
def limit_req(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prefix = tmp_path_factory.mktemp("nginx-limit")
    (prefix / "www").mkdir()
    for name, doc in PAGES.items():
        Path(prefix / "www" / name).write_text(json.dumps(doc))
    port = pgcluster.free_port()
    with run_nginx(prefix, NGINX.format(prefix=prefix, port=port), [port]):
        yield f"http://127.0.0.1:{port}"


def _no_blame(report: Report) -> None:
    blamed = {f.rule for f in report.findings if f.rule.startswith("http.errors.")
              or f.rule in ("http.ratelimit.none", "http.pagination.next-broken", "http.ratelimit.burst-not-limited")}
    assert not blamed, blamed


def test_nginx_limit_req_503_is_rate_limiting(limit_req: str) -> None:
    report = scan([limit_req + p for p in ("/items", "/a", "/b", "/c")])
    _no_blame(report)
    found = findings(report, "http.ratelimit.503-not-429")
    assert len(found) == 1 and found[0].severity == Severity.MEDIUM
    assert "nginx" in found[0].message
    # every endpoint got its plain answer in the end (refused base GETs are asked again, paced)
    assert not [e for e in report.errors if "on the base GET" in e["message"]], report.errors
    assert any("taken as rate limiting" in e["message"] for e in report.errors), report.errors


def test_nginx_limit_req_burst_is_a_limiter(limit_req: str) -> None:
    time.sleep(1.0)  # let the zone forget the previous test's requests (4 r/s drain)
    report = scan([limit_req + "/a"], burst=20)
    _no_blame(report)
    assert findings(report, "http.ratelimit.503-not-429")


@pytest.fixture(scope="module")
def slowapi_limited() -> Iterator[str]:
    # 20 a minute: a scan that ignored X-RateLimit-Remaining would spend it by the fourth scan
    with serve_asgi(make_app(limit="20/minute")) as base:
        yield base + "/limited"


def _verdict(report: Report) -> tuple[object, ...]:
    status = next(c.status for c in report.checklist if c.id == "scaling.rate_limiting")
    rate = sorted({(f.rule, f.severity.label) for f in findings(report, "http.ratelimit.")})
    high = sorted({f.rule for f in report.findings if f.severity >= Severity.HIGH})
    return status, rate, high


def test_six_scans_within_a_minute_agree(slowapi_limited: str) -> None:
    verdicts, statuses = [], []
    for _ in range(6):
        report = scan([slowapi_limited], save_evidence=None)
        _no_blame(report)
        verdicts.append(_verdict(report))
        statuses.append(report.measurements["endpoints"][0]["status"])
    assert statuses == [200] * 6  # the scans paced themselves: the limiter never had to refuse
    assert all(v == verdicts[0] for v in verdicts), verdicts
    assert verdicts[0][0] == "pass" and ("http.ratelimit.limited", "info") in verdicts[0][1]


def test_burst_is_sized_from_the_advertised_quota() -> None:
    with serve_asgi(make_app(limit="7/minute")) as base:
        report = scan([base + "/limited"], burst=200)
    limited = findings(report, "http.ratelimit.limited")
    assert limited and not findings(report, "http.ratelimit.burst-not-limited")
    # 7 allowed per minute: the burst needs the remaining quota plus one to meet the 429, not 200
    assert report.stats["http_requests"] <= 7 + 4, report.stats  # + HEAD, conditional GETs, one 429

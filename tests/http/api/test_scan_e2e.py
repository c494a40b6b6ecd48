"""End to end through the installed console script against the FastAPI app of conftest.py.

Each scan covers several endpoints at once (one subprocess per scan keeps the suite fast); every
test then reads the JSON report. What a correct audit says is derived from the app's routes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import apiaudit_cmd  # type: ignore[attr-defined]

GOOD = ["/good/users", "/slow-cached", "/cached", "/good/bearer"]
BAD = ["/bad/unbounded", "/bad/offset", "/bad/overlap", "/bad/nofields", "/bad/session", "/slow", "/flaky"]
API_RULES = (
    "http.pagination.",
    "http.fields.",
    "http.ratelimit.",
    "http.latency.",
    "http.errors.",
    "http.stateless.",
    "http.static.",
    "http.monitoring.",
    "http.appcache.",
)


def scan(*args: str, cwd: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [*apiaudit_cmd(), "scan", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def found(report: dict[str, Any], rule: str, path: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in report["findings"]
        if f["rule"] == rule and (path is None or f["location"]["url"].split("?")[0].endswith(path))
    ]


def status(report: dict[str, Any], item: str) -> str:
    return str(next(c["status"] for c in report["checklist"] if c["id"] == item))


@pytest.fixture(scope="module")
def good(api_limited: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd = tmp_path_factory.mktemp("good")
    return scan(*[api_limited + p for p in GOOD], "-H", "Authorization: Bearer sekrit-token-123", cwd=cwd)


@pytest.fixture(scope="module")
def bad(api_limited: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    cwd = tmp_path_factory.mktemp("bad")
    # A critical threshold no loaded CI machine reaches keeps /slow a warning (and shows the override works).
    (cwd / "apiaudit.yaml").write_text("thresholds:\n  p95_critical_ms: 60000\n")
    return scan(*[api_limited + p for p in BAD], "--save-evidence", str(cwd / "ev.json"), cwd=cwd)


def test_good_endpoints_raise_no_api_problem(good: dict[str, Any]) -> None:
    problems = [
        f"{f['rule']} {f['location']['url']}"
        for f in good["findings"]
        if f["rule"].startswith(API_RULES) and f["severity"] != "info"
    ]
    assert problems == []
    for item in (
        "api.pagination",
        "api.field_selection",
        "scaling.rate_limiting",
        "scaling.stateless",
        "monitoring.latency",
        "monitoring.error_rates",
        "caching.application_cache",
    ):
        assert status(good, item) == "pass", item


def test_good_endpoints_record_what_passed(good: dict[str, Any]) -> None:
    capped = found(good, "http.pagination.limit-capped", "/good/users")
    assert (
        capped and capped[0]["evidence"]["behaviour"] == "rejected" and capped[0]["evidence"]["status"] == 400
    )
    saved = found(good, "http.fields.supported", "/good/users")
    assert saved and saved[0]["evidence"]["bytes_saved"] > 0
    limited = found(good, "http.ratelimit.limited")
    assert (
        limited
        and limited[0]["evidence"]["generations"] == ["ietf"]
        and limited[0]["evidence"]["counted_down"]
    )
    assert found(good, "http.appcache.hit", "/slow-cached")  # latency drop confirmed by a cache-busted GET
    assert found(good, "http.appcache.hit", "/cached")  # X-Cache: HIT on the repeat
    assert found(good, "http.monitoring.metrics-histogram")
    assert found(good, "http.monitoring.status-counter")[0]["evidence"]["metrics"] == ["http_requests_total"]
    assert "sekrit-token-123" not in json.dumps(good)


def test_unbounded_collection(bad: dict[str, Any]) -> None:
    assert found(bad, "http.pagination.unbounded", "/bad/unbounded")[0]["evidence"]["items"] == 250
    unbounded = found(bad, "http.pagination.unbounded", "/bad/unbounded")[0]
    assert unbounded["evidence"]["metadata"] == []  # one finding for "too many" and "no metadata"
    assert not found(bad, "http.pagination.no-metadata", "/bad/unbounded")
    honoured = found(bad, "http.pagination.limit-not-capped", "/bad/unbounded")[0]
    assert honoured["evidence"]["param"] == "limit" and honoured["evidence"]["items"] == 300
    assert status(bad, "api.pagination") == "fail"


def test_offset_collection_and_deep_offset(bad: dict[str, Any]) -> None:
    assert found(bad, "http.pagination.offset", "/bad/offset")[0]["evidence"]["style"] == "offset"
    deep = found(bad, "http.pagination.deep-offset-slow", "/bad/offset")
    assert deep and deep[0]["evidence"]["offset"] == str(20_000 - 20)  # X-Total-Count minus one page
    capped = found(bad, "http.pagination.limit-capped", "/bad/offset")  # min(limit, 100)
    assert capped and capped[0]["evidence"]["behaviour"] == "capped" and capped[0]["evidence"]["items"] == 100
    assert not found(bad, "http.pagination.no-metadata", "/bad/offset")  # Link rel=next + X-Total-Count


def test_overlapping_pages(bad: dict[str, Any]) -> None:
    overlap = found(bad, "http.pagination.page-overlap", "/bad/overlap")
    assert overlap and overlap[0]["evidence"]["shared"][:1] == ["id=1"]


def test_fields_ignored(bad: dict[str, Any]) -> None:
    assert found(bad, "http.fields.ignored", "/bad/nofields")
    assert status(bad, "api.field_selection") == "warn"


def test_session_cookie(bad: dict[str, Any]) -> None:
    cookie = found(bad, "http.stateless.session-cookie", "/bad/session")
    assert cookie and cookie[0]["evidence"]["cookie_name"] == "sessionid"
    assert "a1b2c3d4e5f6a7b8c9d0" not in json.dumps(bad)  # the cookie value never reaches the report


def test_latency_and_error_rates(bad: dict[str, Any]) -> None:
    # base + 5 samples: too few for P95, the median (a lower bound of P95) is judged; the base is apart
    slow = found(bad, "http.latency.median-warn", "/slow")
    assert slow and slow[0]["evidence"]["p50_ms"] >= 600 and slow[0]["evidence"]["n"] == 5
    assert slow[0]["evidence"]["cold_ms"] >= 600
    errors = found(bad, "http.errors.rate-critical")  # /flaky: 503 on every other call, 3 of 42 plain GETs
    assert errors and errors[0]["evidence"]["5xx"] == 3
    assert status(bad, "monitoring.error_rates") == "fail"


def test_replay_from_saved_evidence_gives_the_same_findings(bad: dict[str, Any], tmp_path: Path) -> None:
    evidence = next(Path(p) for p in Path(tmp_path).parent.glob("bad*/ev.json"))
    again = scan("--from-evidence", str(evidence), cwd=tmp_path)
    mine = sorted(f["fingerprint"] for f in bad["findings"] if f["rule"].startswith(API_RULES))
    assert sorted(f["fingerprint"] for f in again["findings"] if f["rule"].startswith(API_RULES)) == mine


def test_no_rate_limit_visible(api_plain: str, tmp_path: Path) -> None:
    report = scan(api_plain + "/good/users", "--samples", "2", cwd=tmp_path)
    assert found(report, "http.ratelimit.none", "/good/users")
    assert status(report, "scaling.rate_limiting") == "warn"


def test_burst_meets_429_with_retry_after(api_limited: str, tmp_path: Path) -> None:
    report = scan(api_limited + "/limited", "--samples", "0", "--burst", "40", cwd=tmp_path)
    assert not found(report, "http.ratelimit.429-no-retry-after")
    assert not found(report, "http.ratelimit.burst-not-limited")
    assert status(report, "scaling.rate_limiting") == "pass"


def test_429_without_retry_after(api_plain: str, tmp_path: Path) -> None:
    report = scan(api_plain + "/bad/no-retry-after", "--samples", "0", "--burst", "20", cwd=tmp_path)
    assert found(report, "http.ratelimit.429-no-retry-after", "/bad/no-retry-after")


def test_burst_never_limited(api_plain: str, tmp_path: Path) -> None:
    report = scan(api_plain + "/good/bearer", "--samples", "0", "--burst", "12", cwd=tmp_path)
    burst = found(report, "http.ratelimit.burst-not-limited", "/good/bearer")
    assert burst and burst[0]["evidence"]["sent"] == 12


def test_static_assets_from_config_and_html(api_plain: str, tmp_path: Path) -> None:
    config = tmp_path / "apiaudit.yaml"
    config.write_text("static:\n  - /static/good.1a2b3c4d.js\n  - /static/app.9d8e7f6a5b.js\n")
    report = scan(api_plain + "/page", "--samples", "0", "--config", str(config), cwd=tmp_path)
    not_immutable = sorted(
        f["location"]["url"].rsplit("/", 1)[-1] for f in found(report, "http.static.not-immutable")
    )
    assert not_immutable == ["app.9d8e7f6a5b.js"]  # good.1a2b3c4d.js and site.3f2a9c1b.css are immutable
    assert [
        f["location"]["url"].rsplit("/", 1)[-1] for f in found(report, "http.static.no-cache-headers")
    ] == ["logo.png"]
    assert found(report, "http.static.no-cdn-hit")  # uvicorn alone: no cache ever answers
    assert status(report, "scaling.cdn") == "warn"
    assert "cdn.example.org" not in json.dumps(report["findings"])  # other origins are not fetched


def test_items_not_visible_from_outside_stay_not_assessed(api_plain: str, tmp_path: Path) -> None:
    report = scan(api_plain + "/good/bearer", "--samples", "1", cwd=tmp_path)
    reasons = {c["id"]: c["reason"] for c in report["checklist"] if c["status"] == "not_assessed"}
    assert "cannot be seen from outside" in reasons["caching.application_cache"]
    assert "static" in reasons["scaling.cdn"]

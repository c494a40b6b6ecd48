"""One real scan of every good and bad endpoint; each check must fire on its bad endpoint and stay
quiet on the good ones. Expectations come from the RFCs and the guide, not from earlier output."""

from __future__ import annotations

from typing import Any

import pytest

from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report

SECRET = "Bearer s3cr3t-token-value"
PLAIN = [
    "/bad/nocache",
    "/bad/vary-star",
    "/bad/etag-ignored",
    "/bad/etag-changing",
    "/bad/ims-ignored",
    "/bad/heuristic",
    "/bad/gone",
    "/bad/lint",
    "/bad/big",
    "/good/stream",
    "/bad/gzip-novary",
    "/bad/gzip-larger",
    "/bad/gzip-mismatch",
    "/odd/html",
    "/odd/invalid-json",
    "/odd/500",
]


@pytest.fixture(scope="module")
def evidence_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("scan") / "evidence.json")


@pytest.fixture(scope="module")
def report(gz_base: str, plain_base: str, evidence_file: str) -> Report:
    from apiaudit.rules import load_rules

    cfg = Config(
        ruleset=load_rules(),
        endpoints=[
            {"url": gz_base + "/good/items", "resource_class": "short"},
            {"url": plain_base + "/bad/band", "resource_class": "medium"},
            {"url": plain_base + "/bad/public-auth", "headers": {"Authorization": SECRET}},
        ],
    )
    urls = [gz_base + "/bad/guide-etag", *(plain_base + p for p in PLAIN)]
    opts = ScanOptions.from_cli(cfg, urls=urls, samples=0, save_evidence=evidence_file, quiet=True)
    return run_scan(opts, cfg)


def rules_at(report: Report, path: str) -> set[str]:
    return {
        f.rule
        for f in report.findings
        if "url" in f.location  # scan-wide findings (error rates) are located at the target
        and f.location["url"].split("127.0.0.1:", 1)[1].partition("/")[2] == path.lstrip("/")
    }


def mine(rules: set[str]) -> set[str]:
    return {
        r
        for r in rules
        if r.startswith(("http.cache", "http.validation", "http.compression", "http.size", "http.lint.bad"))
    }


CASES: list[tuple[str, str]] = [
    ("/bad/guide-etag", "http.compression.same-etag"),  # strong ETag kept across gzip/identity
    ("/bad/guide-etag", "http.validation.304-missing-headers"),  # bare 304 drops Cache-Control/Vary
    ("/bad/guide-etag", "http.validation.304-slow"),  # renders before comparing the ETag
    ("/bad/nocache", "http.cache.no-cache-control"),
    ("/bad/nocache", "http.validation.no-validator"),
    ("/bad/nocache", "http.compression.missing-small"),  # 3.5 KB JSON uncompressed: low (< 10 KB)
    ("/bad/vary-star", "http.cache.vary-star"),
    ("/bad/public-auth", "http.cache.public-authenticated"),
    ("/bad/band", "http.cache.lifetime-out-of-band"),  # max-age=5 for a 10-30 min class
    ("/bad/etag-ignored", "http.validation.etag-ignored"),
    ("/bad/etag-changing", "http.validation.etag-changed-body"),
    ("/bad/ims-ignored", "http.validation.ims-ignored"),
    ("/bad/heuristic", "http.cache.heuristic-freshness"),  # "public" alone: no explicit lifetime
    ("/bad/gone", "http.cache.heuristic-freshness"),  # 410 is heuristically cacheable (RFC 9110 §15.1)
    ("/bad/lint", "http.lint.bad"),  # max-age=abc
    ("/bad/big", "http.size.too-large"),  # ~1.3 MB JSON, not streamed
    ("/bad/gzip-novary", "http.compression.no-vary"),
    ("/bad/gzip-larger", "http.compression.larger"),
    ("/bad/gzip-mismatch", "http.compression.body-mismatch"),
]


@pytest.mark.parametrize(("path", "rule"), CASES, ids=[f"{r}@{p}" for p, r in CASES])
def test_check_fires_on_bad_endpoint(report: Report, path: str, rule: str) -> None:
    assert rule in rules_at(report, path), sorted(rules_at(report, path))


def test_good_endpoint_is_quiet(report: Report) -> None:
    assert mine(rules_at(report, "/good/items")) == set()


def test_streamed_body_is_not_too_large(report: Report) -> None:
    assert "http.size.too-large" not in rules_at(report, "/good/stream")


def test_band_respected_and_private_auth_ok(report: Report) -> None:
    assert "http.cache.lifetime-out-of-band" not in rules_at(report, "/good/items")
    assert "http.cache.public-authenticated" not in rules_at(report, "/good/items")


def test_lint_note_id_kept(report: Report) -> None:
    notes = [f for f in report.findings if f.rule == "http.lint.bad" and "/bad/lint" in f.location.get("url", "")]
    assert "CC_BAD_VALUE_TYPE" in {f.evidence["note"] for f in notes}


def test_error_responses_reported_as_info(report: Report, gz_base: str) -> None:
    info = [f for f in report.findings if f.rule == "http.compression.error-responses"]
    assert any(f.location.get("url", "").startswith(gz_base) and "gzip" in f.message for f in info), info


def test_304_slow_ratio_and_good_304_fast(report: Report) -> None:
    slow = [f for f in report.findings if f.rule == "http.validation.304-slow"]
    assert all("/bad/guide-etag" in f.location.get("url", "") for f in slow)
    assert slow[0].evidence["ratio"] > 0.5


def test_checklist_items_judged(report: Report) -> None:
    status = {c.id: c.status for c in report.checklist}
    assert status["caching.http_headers"] in ("warn", "fail")
    assert status["api.compression"] in ("warn", "fail")
    assert status["api.response_size"] == "fail"


def test_measurements_sizes_and_validation(report: Report, gz_base: str) -> None:
    by_url: dict[str, Any] = {m["url"]: m for m in report.measurements["endpoints"]}
    good = by_url[gz_base + "/good/items"]
    assert good["sizes"]["gzip"]["applied"] == "gzip"
    assert good["sizes"]["gzip"]["wire_bytes"] < good["sizes"]["identity"]["wire_bytes"]
    assert good["sizes"]["identity"]["decoded_bytes"] == good["sizes"]["gzip"]["decoded_bytes"]
    assert good["validation_ms"]["not_modified_304"] is not None


def test_odd_bodies_do_not_break_the_scan(report: Report) -> None:
    assert not [e for e in report.errors if e["where"].startswith("check ")], report.errors
    by_url = {
        m["url"].rsplit("/", 2)[-2] + "/" + m["url"].rsplit("/", 1)[-1]: m
        for m in report.measurements["endpoints"]
    }
    assert by_url["odd/500"]["status"] == 500
    assert by_url["odd/html"]["status"] == 200


def test_secret_never_in_report(report: Report) -> None:
    import json

    assert "s3cr3t-token-value" not in json.dumps(report.to_dict())


def test_core_probes_bounded_per_endpoint(report: Report, evidence_file: str) -> None:
    # base + at most 3 conditional requests (a mismatching If-None-Match after a 304) + 3 single codings
    from apiaudit.http.evidence import load_evidence

    core = ("base", "revalidate-", "coding-")
    for ep in load_evidence(evidence_file).endpoints:
        assert len([x for x in ep.exchanges if x.purpose.startswith(core)]) <= 7, ep.url


def test_offline_recheck_gives_same_findings(report: Report, evidence_file: str) -> None:
    from apiaudit.http.audit import build_report
    from apiaudit.http.evidence import load_evidence
    from apiaudit.rules import load_rules

    again = build_report(
        load_evidence(evidence_file), Config(ruleset=load_rules()), started_at="x", duration_s=0
    )
    assert {f.fingerprint for f in again.findings} == {f.fingerprint for f in report.findings}

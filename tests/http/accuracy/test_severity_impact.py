"""Issue 14 point 4: severity from impact, one fact one finding, ``--openapi auto`` never audits
the discovery root. Against the apps of tests/scan_accuracy.py (uvicorn) and nginx.

* 130 KB of JSON sent uncompressed: the compression item fails (HIGH); 1.2 KB: low.
* field selection ignored on objects of ~50 bytes: info.
* a no-cache response without a validator: one finding (httplint's FRESHNESS_NO_CACHE_NO_VALIDATOR is
  merged into http.validation.no-validator).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import serve_asgi  # type: ignore[attr-defined]
from fastapi import FastAPI, Response
from scan_accuracy import findings, scan

from apiaudit.model import Report, Severity


@pytest.fixture(scope="module")
def plain_report(plainapp: str) -> Report:
    return scan([plainapp + p for p in ("/report", "/summary", "/tags/3")])


def test_uncompressed_severity_follows_size(plain_report: Report) -> None:
    big = findings(plain_report, "http.compression.", "/report")
    small = findings(plain_report, "http.compression.", "/summary")
    assert [(f.rule, f.severity) for f in big] == [("http.compression.missing-large", Severity.HIGH)]
    assert [(f.rule, f.severity) for f in small] == [("http.compression.missing-small", Severity.LOW)]
    assert next(c.status for c in plain_report.checklist if c.id == "api.compression") == "fail"


def test_field_selection_on_tiny_objects_is_info(plain_report: Report) -> None:
    tags = findings(plain_report, "http.fields.", "/tags/3")
    assert [(f.rule, f.severity) for f in tags] == [("http.fields.ignored-small", Severity.INFO)]


def test_no_cache_without_validator_is_one_finding() -> None:
    app = FastAPI()

    @app.get("/feed")
    def feed(response: Response) -> dict[str, int]:
        response.headers["Cache-Control"] = "no-cache"
        return {"id": 1}

    with serve_asgi(app) as base:
        report = scan([base + "/feed"])
    said = [f for f in findings(report, path="/feed") if f.rule == "http.validation.no-validator"
            or f.evidence.get("note") == "FRESHNESS_NO_CACHE_NO_VALIDATOR"]
    assert [f.rule for f in said] == ["http.validation.no-validator"]
    assert said[0].evidence["httplint"] == "FRESHNESS_NO_CACHE_NO_VALIDATOR"


@pytest.fixture(scope="module")
def auto_report(realapp: str) -> Iterator[Report]:
    yield scan([realapp], openapi="auto")


def test_openapi_auto_never_audits_the_discovery_root(auto_report: Report, realapp: str) -> None:
    audited = {ep["url"] for ep in auto_report.measurements["endpoints"]}
    assert realapp not in audited and realapp + "/" not in audited
    assert realapp + "/products" in audited  # found through /openapi.json
    assert not findings(auto_report, path="/") and not findings(auto_report, path="")

"""A real cache audit joins the contract: valid JSON, merges with a scan, hit rate charted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cache_servers import run_redis

from apiaudit.model import Report

SCHEMA = Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "schema.json"


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    with run_redis() as port:
        client = redis.Redis(host="127.0.0.1", port=port)
        for i in range(200):
            client.set(f"user:{i}", "x" * 50, ex=600 if i % 2 else None)
        for i in range(300):  # 150 hits, 150 misses: a 50 % hit rate, below the guide's 80 %
            client.get(f"user:{i if i < 150 else i + 1000}")
        yield f"redis://127.0.0.1:{port}/0"


def test_cache_report_validates_merges_and_is_charted(
    run_cli: Any, tmp_path: Path, redis_url: str, reports: dict[str, Report], write_json: Any
) -> None:
    cache_json = tmp_path / "cache.json"
    res = run_cli("cache", redis_url, "--format", "json", "-o", str(cache_json), "--fail-on", "none")
    assert res.code == 0, res
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(cache_json.read_text()))
    scan_json = write_json(reports["scan"], "scan.json")
    out = tmp_path / "out"
    res = run_cli(
        "report",
        str(scan_json),
        str(cache_json),
        "--output-dir",
        str(out),
        "--format",
        "json",
        "--format",
        "html",
        "--fail-on",
        "none",
        "-q",
    )
    assert res.code == 0, res
    merged = json.loads((out / "report.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(merged)
    assert merged["kind"] == "combined" and redis_url in " ".join(merged["targets"])
    html = (out / "report.html").read_text()
    assert 'id="chart-hit-rate"' in html and "redis" in html

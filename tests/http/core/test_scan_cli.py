"""`apiaudit scan` end to end through the installed console script: exit codes (DESIGN.md), JSON
contract, --save-evidence / --from-evidence, --openapi auto, secrets, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apiaudit import pgcluster

TOKEN = "Bearer tok-9f8e7d6c5b4a"


def _json(res: Any) -> dict[str, Any]:
    assert "Traceback" not in res.stderr, res
    return json.loads(res.stdout)


def test_scan_json_save_and_replay(run_cli: Callable[..., Any], gz_base: str, tmp_path: Path) -> None:
    ev = tmp_path / "ev.json"
    first = run_cli(
        "scan",
        gz_base + "/good/items",
        gz_base + "/bad/guide-etag",
        "--format",
        "json",
        "--samples",
        "0",
        "--save-evidence",
        str(ev),
        "-H",
        f"Authorization: {TOKEN}",
    )
    assert first.code in (0, 1), first
    report = _json(first)
    assert report["kind"] == "scan" and report["stats"]["endpoints"] == 2
    assert {"http.compression.same-etag", "http.validation.304-missing-headers"} <= {
        f["rule"] for f in report["findings"]
    }
    saved = ev.read_text()
    assert "tok-9f8e7d6c5b4a" not in saved and "tok-9f8e7d6c5b4a" not in first.stdout + first.stderr
    again = run_cli("scan", "--from-evidence", str(ev), "--format", "json")
    assert again.code == first.code, again
    assert sorted(f["fingerprint"] for f in _json(again)["findings"]) == sorted(
        f["fingerprint"] for f in report["findings"]
    )


def test_openapi_auto_from_config(run_cli: Callable[..., Any], gz_base: str, tmp_path: Path) -> None:
    # FastAPI publishes /openapi.json; both GET routes must be discovered from it.
    (tmp_path / "apiaudit.yaml").write_text(f"targets:\n  api: [{gz_base}]\n")
    res = run_cli("scan", "--openapi", "auto", "--format", "json", "--samples", "0", cwd=tmp_path)
    assert res.code in (0, 1), res
    urls = {m["url"] for m in _json(res)["measurements"]["endpoints"]}
    assert urls == {gz_base + "/good/items", gz_base + "/bad/guide-etag"}


def test_nothing_reachable_exits_3(run_cli: Callable[..., Any]) -> None:
    port = pgcluster.free_port()
    res = run_cli(
        "scan",
        f"http://127.0.0.1:{port}/x",
        "http://no-such-host.invalid/y",
        "--timeout",
        "2",
        "--format",
        "json",
    )
    assert res.code == 3, res
    assert "could not audit" in res.stderr and "Traceback" not in res.stderr


def test_partial_failure_is_reported_not_fatal(run_cli: Callable[..., Any], plain_base: str) -> None:
    port = pgcluster.free_port()
    res = run_cli(
        "scan",
        plain_base + "/bad/nocache",
        f"http://127.0.0.1:{port}/down",
        "--format",
        "json",
        "--samples",
        "0",
        "--timeout",
        "2",
    )
    assert res.code in (0, 1), res
    errors = _json(res)["errors"]
    assert any(e["where"].endswith("/down") and "ConnectError" in e["message"] for e in errors), errors


def test_redirect_loop_and_huge_body(run_cli: Callable[..., Any], odd_base: str) -> None:
    res = run_cli("scan", odd_base + "/loop", odd_base + "/huge", "--format", "json", "--samples", "0")
    assert res.code in (0, 1), res
    report = _json(res)
    assert any("redirect loop" in e["message"] for e in report["errors"]), report["errors"]
    big = [f for f in report["findings"] if f["rule"] == "http.size.too-large"]
    assert big and big[0]["evidence"]["bytes"] == 50 * 1024 * 1024  # from Content-Length, read stopped early


def test_budget_reported(run_cli: Callable[..., Any], plain_base: str) -> None:
    res = run_cli(
        "scan",
        plain_base + "/bad/nocache",
        plain_base + "/bad/vary-star",
        "--max-requests",
        "3",
        "--format",
        "json",
        "--samples",
        "0",
    )
    assert res.code in (0, 1), res
    report = _json(res)
    assert report["stats"]["http_requests"] <= 3
    assert report["stats"]["skipped_for_budget"] >= 1


def test_bad_input_is_a_usage_error(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    for args in (
        ["scan", "ftp://x/y"],
        ["scan", "http://127.0.0.1:1/", "-H", "no colon"],
        ["scan", "http://127.0.0.1:1/", "--max-requests", "-1"],
        ["scan"],
        ["scan", "--from-evidence", str(tmp_path / "missing.json")],
    ):
        res = run_cli(*args)
        assert res.code == 2, (args, res)
        assert "Traceback" not in res.stderr


def test_openapi_file_with_skipped_operations(
    run_cli: Callable[..., Any], plain_base: str, tmp_path: Path
) -> None:
    (tmp_path / "apiaudit.yaml").write_text(f"targets:\n  api: [{plain_base}]\n")
    (tmp_path / "api.yaml").write_text(
        "openapi: 3.0.0\n"
        "paths:\n"
        "  /bad/nocache: {get: {}}\n"
        "  /bad/vary-star: {get: {}}\n"
        "  /bad/nocache/{id}: {get: {parameters: [{name: id, in: path, required: true}]}}\n"
        "  /search: {get: {parameters: [{name: q, in: query, required: true}]}}\n"
        "  /bad/nocache/create: {post: {}}\n"
    )
    res = run_cli("scan", "--openapi", "api.yaml", "--format", "json", "--samples", "0", cwd=tmp_path)
    assert res.code in (0, 1), res
    report = _json(res)
    assert {m["url"] for m in report["measurements"]["endpoints"]} == {
        plain_base + "/bad/nocache",
        plain_base + "/bad/vary-star",
        plain_base + "/bad/nocache/0",  # {id} filled from the first id /bad/nocache lists
    }
    skipped = {s["url"]: s["reason"] for s in report["measurements"]["skipped"]}
    assert "q" in skipped[plain_base + "/search"]
    assert set(skipped) == {plain_base + "/search"}


def test_zero_budget_is_a_usage_error(run_cli: Callable[..., Any]) -> None:
    res = run_cli("scan", "http://127.0.0.1:1/x", "--max-requests", "0")
    assert res.code == 2 and "--max-requests" in res.stderr, res

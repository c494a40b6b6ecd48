"""Merge, baseline, gate and k6 through the real console script."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apiaudit.model import Report

SCHEMA = Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "schema.json"
WriteJson = Callable[[Report, str], Path]


@pytest.fixture
def pair(reports: dict[str, Report], write_json: WriteJson) -> tuple[Path, Path]:
    return write_json(reports["scan"], "scan.json"), write_json(reports["db"], "db.json")


def test_report_merges_scan_and_db_into_one_html(
    run_cli: Any, tmp_path: Path, pair: tuple[Path, Path], reports: dict[str, Report]
) -> None:
    out = tmp_path / "combined.html"
    res = run_cli("report", str(pair[0]), str(pair[1]), "--format", "html", "-o", str(out))
    assert res.code == 1, res  # high and critical findings fail the default gate (--fail-on high)
    assert "gate FAILED" in res.stderr
    html = out.read_text()
    assert "apiaudit combined report" in html
    assert "http://127.0.0.1:8000" in html and "postgresql://app@127.0.0.1:5432/shop" in html
    for f in reports["scan"].findings + reports["db"].findings:
        assert f.fingerprint in html


def test_merged_json_joins_the_checklist(
    run_cli: Any, tmp_path: Path, pair: tuple[Path, Path], reports: dict[str, Report]
) -> None:
    res = run_cli("report", str(pair[0]), str(pair[1]), "--format", "json", "--fail-on", "none")
    assert res.code == 0, res
    doc = json.loads(res.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    assert doc["kind"] == "combined"
    status = {c["id"]: c["status"] for c in doc["checklist"]}
    # an item assessed by either side counts as assessed in the combined report
    for side in ("scan", "db"):
        for item in reports[side].checklist:
            if item.status != "not_assessed":
                assert status[item.id] != "not_assessed", item.id
    fingerprints = {f.fingerprint for side in ("scan", "db") for f in reports[side].findings}
    assert {f["fingerprint"] for f in doc["findings"]} == fingerprints
    assert doc["stats"]["gate"] == {"passed": True, "reasons": [], "fail_on": None, "failing": []}


def test_output_dir_writes_every_format(run_cli: Any, tmp_path: Path, pair: tuple[Path, Path]) -> None:
    out = tmp_path / "out"
    args = ["report", str(pair[0]), str(pair[1]), "--output-dir", str(out), "--fail-on", "none", "-q"]
    for fmt in ("json", "html", "sarif", "junit", "markdown"):
        args += ["--format", fmt]
    assert run_cli(*args).code == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"report.json", "report.html", "report.sarif", "report.junit.xml", "report.md"}
    assert json.loads((out / "report.sarif").read_text())["version"] == "2.1.0"


def test_baseline_marks_known_and_passes_the_gate(
    run_cli: Any, tmp_path: Path, pair: tuple[Path, Path]
) -> None:
    base = tmp_path / "baseline.json"
    res = run_cli("baseline", str(pair[0]), str(pair[1]), "-o", str(base))
    assert res.code == 0, res
    data = json.loads(base.read_text())
    assert len(data["fingerprints"]) == 10 and data["fingerprints"] == sorted(data["fingerprints"])
    res = run_cli("report", str(pair[0]), str(pair[1]), "--baseline", str(base), "--format", "json")
    assert res.code == 0, res
    assert all(f["known"] for f in json.loads(res.stdout)["findings"])
    # --write-baseline from the report command writes the same fingerprints
    again = tmp_path / "again.json"
    run_cli("report", str(pair[0]), str(pair[1]), "--write-baseline", str(again), "-q", "--format", "json")
    assert json.loads(again.read_text())["fingerprints"] == data["fingerprints"]


def test_new_finding_fails_against_the_baseline(
    run_cli: Any, tmp_path: Path, reports: dict[str, Report], write_json: WriteJson
) -> None:
    scan = reports["scan"]
    old = write_json(scan, "old.json")
    base = tmp_path / "base.json"
    assert run_cli("baseline", str(old), "-o", str(base), "-q").code == 0
    newer = Report.from_dict(scan.to_dict())
    fresh = newer.findings[0]
    fresh.location = {**fresh.location, "url": fresh.location["url"] + "/v2"}
    fresh.fingerprint = "0123456789abcdef0123"
    new = write_json(newer, "new.json")
    res = run_cli("report", str(new), "--baseline", str(base), "--format", "markdown")
    assert res.code == 1, res
    assert "1 finding(s) at or above high" in res.stderr
    assert "(known)" in res.stdout  # the unchanged ones are shown as known


def test_step_summary_is_appended(run_cli: Any, tmp_path: Path, pair: tuple[Path, Path]) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n")
    res = run_cli(
        "report",
        str(pair[0]),
        "--format",
        "json",
        "--fail-on",
        "none",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert res.code == 0, res
    text = summary.read_text()
    assert text.startswith("previous step\n") and "## apiaudit scan report" in text


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["report", "missing.json"], 2),
        (["report", "{scan}", "--min-score", "101"], 2),
        (["report", "{scan}", "--format", "pdf"], 2),
        (["report", "{scan}", "--fail-on", "none"], 0),
        (["report", "{scan}", "--fail-on", "none", "--min-score", "99"], 1),
        (["baseline", "missing.json"], 2),
        (["k6", "{db}"], 2),
        (["k6", "{scan}", "--stages", "2m:lots"], 2),
        (["k6", "ftp://example.com/x"], 2),
    ],
)
def test_exit_codes(run_cli: Any, pair: tuple[Path, Path], args: list[str], code: int) -> None:
    argv = [a.format(scan=pair[0], db=pair[1]) for a in args]
    res = run_cli(*argv, "-q") if argv[0] == "report" else run_cli(*argv)
    assert res.code == code, res
    assert "Traceback" not in res.stderr


def test_k6_script_from_a_scan_report(
    run_cli: Any, tmp_path: Path, pair: tuple[Path, Path], reports: dict[str, Report]
) -> None:
    out = tmp_path / "load.js"
    res = run_cli("k6", str(pair[0]), "-o", str(out))
    assert res.code == 0, res
    js = out.read_text()
    for entry in reports["scan"].measurements["endpoints"]:
        assert json.dumps(entry["url"]) in js
    assert 'http_req_duration: ["p(95)<500"]' in js and 'http_req_failed: ["rate<0.01"]' in js
    stages = [("2m", 100), ("5m", 100), ("2m", 200), ("5m", 200), ("2m", 0)]
    for duration, target in stages:
        assert f'{{ duration: "{duration}", target: {target} }}' in js
    assert "POST" not in js and "Bearer" not in js.replace('"Bearer $TOKEN"', "")
    node = shutil.which("node")
    if node:  # the script is valid JavaScript (module syntax), checked without running k6
        mjs = tmp_path / "load.mjs"
        mjs.write_text(js)
        check = subprocess.run([node, "--check", str(mjs)], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr


def test_k6_from_urls_with_custom_thresholds(run_cli: Any) -> None:
    res = run_cli(
        "k6",
        "http://127.0.0.1:8000/api/users",
        "--p95",
        "300",
        "--error-rate",
        "0.05",
        "--stages",
        "30s:10,1m:10,30s:0",
    )
    assert res.code == 0, res
    assert '"p(95)<300"' in res.stdout and '"rate<0.05"' in res.stdout
    assert '"http_req_duration{name:GET /api/users}"' in res.stdout
    assert '{ duration: "30s", target: 10 }' in res.stdout

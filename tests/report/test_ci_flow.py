"""The flow docs/ci.md prescribes, run for real: scan + db record, `report` gates, every format renders.

Uses sample_configs/ci-gate.yaml with only its targets pointed at a local app and database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ROOT, need, serve_wsgi

DATA = Path(__file__).resolve().parent / "data"
ROWS = json.dumps([{"id": i, "name": f"user {i}"} for i in range(250)]).encode()
SQL = """
CREATE TABLE account (id int PRIMARY KEY);
CREATE TABLE invoice (id int PRIMARY KEY, account_id int REFERENCES account(id));
INSERT INTO account SELECT generate_series(1, 2000);
INSERT INTO invoice SELECT g, 1 + g % 2000 FROM generate_series(1, 4000) g;
ANALYZE;
"""


def app(environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] not in ("/api/users", "/api/products"):
        start("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    start("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(ROWS)))])
    return [ROWS]


@pytest.mark.pg
def test_documented_ci_flow(fresh_db: Any, run_cli: Any, tmp_path: Path) -> None:
    dsn = fresh_db(SQL)
    audit = tmp_path / "audit"
    audit.mkdir()
    with serve_wsgi(app) as base:
        cfg = yaml.safe_load((ROOT / "sample_configs" / "ci-gate.yaml").read_text())
        cfg["targets"] = {"api": base, "database": dsn}
        config = tmp_path / "ci-gate.yaml"
        config.write_text(yaml.safe_dump(cfg))
        record = ["-c", str(config), "--fail-on", "none", "--min-score", "0", "-q", "--format", "json"]
        scan = run_cli("scan", *record, "-o", str(audit / "scan.json"))
        assert scan.code == 0, scan
    db = run_cli("db", *record, "-o", str(audit / "db.json"))
    assert db.code == 0, db
    inputs = [str(audit / "scan.json"), str(audit / "db.json")]
    gate = run_cli("report", *inputs, "-c", str(config), "--format", "markdown")
    # 250 unpaginated rows and an unindexed FK are high findings: the ci-gate config fails the build
    assert gate.code == 1, gate
    assert gate.stdout.startswith("## apiaudit combined report") and "**CI gate: failed**" in gate.stdout
    render = run_cli(
        "report",
        *inputs,
        "-c",
        str(config),
        "--fail-on",
        "none",
        "--min-score",
        "0",
        "-q",
        "--output-dir",
        str(audit),
        "--format",
        "html",
        "--format",
        "sarif",
        "--format",
        "junit",
    )
    assert render.code == 0, render
    assert {p.name for p in audit.iterdir()} >= {"report.html", "report.sarif", "report.junit.xml"}
    # real reports (not fixtures) against the vendored schemas
    sarif_schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(sarif_schema).validate(json.loads((audit / "report.sarif").read_text()))
    try:
        import xmlschema
    except ImportError:
        need(False, "xmlschema (test dependency)")
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(str(audit / "report.junit.xml"))
    base_file = tmp_path / "baseline.json"
    assert run_cli("baseline", *inputs, "-o", str(base_file), "-q").code == 0
    again = run_cli(
        "report", *inputs, "-c", str(config), "--baseline", str(base_file), "--min-score", "0", "-q"
    )
    assert again.code == 0, again  # everything known: only new findings would fail

"""`apiaudit.audit()` runs the same audits as the CLI against real targets and merges them."""

from __future__ import annotations

import apiaudit
from apiaudit.demo.sample_api import start_sample_api


def test_audit_scans_a_real_api_and_a_real_database(fresh_db) -> None:
    dsn = fresh_db(
        "CREATE TABLE parent (id int PRIMARY KEY);"
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));"
        "INSERT INTO parent SELECT g FROM generate_series(1, 3000) g;"
        "INSERT INTO child SELECT g, 1 + g % 3000 FROM generate_series(1, 5000) g; ANALYZE;"
    )
    api = start_sample_api()
    try:
        report = apiaudit.audit(api=[f"{api.url}/api/customers"], database=dsn, samples=0)
    finally:
        api.stop()
    assert report.kind == "combined"
    statuses = {c.id: c.status for c in report.checklist}
    # /api/customers honours limit=1000 and returns 250 items (the demo's deliberate problem)
    assert statuses["api.pagination"] == "fail"
    # child.parent_id is a foreign key without an index on a 5,000-row table
    fk = [f for f in report.findings if f.rule == "db.fk.unindexed"]
    assert [f.location["table"] for f in fk] == ["child"]
    assert statuses["database.indexes"] in ("warn", "fail")

"""The recommended audit role, created by exactly the SQL README's "The database role" documents,
audits with its findings and without a warning; a superuser gets the warning (report and stderr)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from apiaudit import pgcluster

README = Path(__file__).resolve().parents[2] / "README.md"
SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, email text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers(id), status text);
CREATE INDEX orders_status ON orders (status);
CREATE INDEX orders_status_again ON orders (status);
"""


def documented_sql() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### The database role", 1)[1]
    return re.search(r"```sql\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def _audit(run_cli: Callable[..., object], dsn: str) -> tuple[dict, str]:
    result = run_cli("db", dsn, "--format", "json")
    assert result.code in (0, 1), result  # type: ignore[attr-defined]
    return json.loads(result.stdout), result.stderr  # type: ignore[attr-defined]


def test_recommended_role_audits_without_warning_and_superuser_is_warned(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str], run_cli: Callable[..., object]
) -> None:
    dsn = fresh_db(SCHEMA)
    db = dsn.rsplit("/", 1)[1]
    role = f"audit_ro_{os.getpid()}"
    sql = documented_sql()
    assert "pg_monitor" in sql and "pg_read_all_stats" in sql and "CONNECT" in sql, sql
    pg.psql(re.sub(r"\bapiaudit\b", role, sql).replace("DATABASE shop", f'DATABASE "{db}"'))

    report, stderr = _audit(run_cli, pg.dsn(db, user=role))
    rules = {f["rule"] for f in report["findings"]}
    assert any(r.startswith("db.fk.unindexed") for r in rules), rules
    assert any(r.startswith("db.index.") for r in rules), rules  # the duplicate index
    assert not [e for e in report["errors"] if e["where"] == "database role"], report["errors"]
    assert "warning: the audit role" not in stderr

    report, stderr = _audit(run_cli, dsn)  # the superuser of the test cluster
    warned = [e["message"] for e in report["errors"] if e["where"] == "database role"]
    assert warned and "superuser" in warned[0], report["errors"]
    assert "warning: the audit role postgres is a superuser" in stderr

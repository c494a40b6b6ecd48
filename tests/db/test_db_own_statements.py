"""apiaudit's own statements carry application_name=apiaudit and a leading /* apiaudit */, and are
left out of the workload read back from the server's real log and from pg_stat_statements."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path

import psycopg

from apiaudit import pgcluster

TAG = "/* apiaudit */"


def test_own_statements_are_tagged_and_left_out_of_workloads(
    pg: pgcluster.Cluster, fresh_db: Callable[..., str], run_cli: Callable[..., object], tmp_path: Path
) -> None:
    dsn = fresh_db("CREATE TABLE t (id int PRIMARY KEY, v text); "
                   "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 500) g")
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(5):
            conn.execute("SELECT v FROM t WHERE id = %s", (i,))
    sql_log = tmp_path / "w.sql"
    sql_log.write_text("SELECT v FROM t WHERE id = 3;\n")
    first = run_cli("db", dsn, "--log", str(sql_log), "--analyze", "--format", "json")
    assert first.code in (0, 1), first  # type: ignore[attr-defined]
    pg.rotate_logs()  # flush: the logging collector writes asynchronously
    assert pgcluster.wait_for_log(pg.csv_log, "SET LOCAL search_path = pg_catalog", 10)
    db = dsn.rsplit("/", 1)[1]
    rows = csv.reader(pg.csv_log.open(encoding="utf-8", errors="replace"))
    own = [r for r in rows if len(r) > 22 and r[2] == db and TAG in r[13]]
    assert own, "the server's log shows no statement of apiaudit"
    assert {r[22] for r in own} == {"apiaudit"}, {r[22] for r in own}  # application_name column
    logged = [r[13] for r in own if r[13].startswith(("statement: ", "execute "))]
    assert logged and all(re.match(r"(statement|execute [^:]*): /\* apiaudit \*/", m) for m in logged), logged[:5]

    # The real server log (every database's statements, ours included) as a workload: none of ours.
    again = run_cli("db", "--log", str(pg.csv_log), "--format", "json")
    assert again.code in (0, 1), again  # type: ignore[attr-defined]
    report = json.loads(again.stdout)  # type: ignore[attr-defined]
    assert report["stats"].get("log_own_statements", 0) >= len(own) // 2, report["stats"]
    assert not [q for q in report["workload"] if TAG in q["sample"] or "OPERATOR(pg_catalog." in q["sample"]]
    # pg_stat_statements: a second audit's workload holds the application's statement, not ours.
    second = json.loads(run_cli("db", dsn, "--format", "json").stdout)  # type: ignore[attr-defined]
    samples = [q["sample"] for q in second["workload"]]
    assert any("FROM t" in s for s in samples), samples
    assert not [s for s in samples if "pg_catalog." in s or "EXPLAIN" in s.upper() or "apiaudit" in s], samples

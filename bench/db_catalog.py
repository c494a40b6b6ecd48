"""Benchmark the db audit on a generated schema in its own throwaway PostgreSQL cluster.

1. Catalog: 2,000 tables, ~6,700 indexes, ~4,000 foreign keys. Wall time of the whole
   ``apiaudit db DSN`` process (start-up included), median of 5 runs after one warm-up. Goal: <= 2 s.
2. EXPLAIN throughput: 500 distinct workload queries in pg_stat_statements, ``--top 500``; with
   HypoPG each flagged query is re-planned once per candidate.

Run: /tmp/venv/bin/python bench/db_catalog.py   (prints the figures; copy them into README-db.md)
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from apiaudit.pgcluster import start_cluster

TABLES = 2000
EXTRA_TEXT_INDEXES = 700  # PK + (p1) + (a, b) per table = 6,000, plus these: ~6,700
POPULATED = 500  # tables with rows, queried by the EXPLAIN workload
ROWS = 1200  # above the 1000-row small-table threshold

SCHEMA = f"""
DO $$
BEGIN
  FOR i IN 1..{TABLES} LOOP
    EXECUTE format('CREATE TABLE t_%s (id int PRIMARY KEY, p1 int, p2 int, a int, b int, c text)', i);
    EXECUTE format('CREATE INDEX ON t_%s (p1)', i);
    EXECUTE format('CREATE INDEX ON t_%s (a, b)', i);
    IF i <= {EXTRA_TEXT_INDEXES} THEN
      EXECUTE format('CREATE INDEX ON t_%s (c)', i);
    END IF;
    IF i <= {POPULATED} THEN
      EXECUTE format('INSERT INTO t_%s SELECT g, 1 + g %% {ROWS}, 1 + g %% {ROWS}, g %% 97, g, ''x'' || g '
                     'FROM generate_series(1, {ROWS}) g', i);
    END IF;
  END LOOP;
  FOR i IN 3..{TABLES} LOOP  -- two FKs per table: (p1) is indexed, (p2) is not
    EXECUTE format('ALTER TABLE t_%s ADD FOREIGN KEY (p1) REFERENCES t_%s (id) NOT VALID', i, i - 1);
    EXECUTE format('ALTER TABLE t_%s ADD FOREIGN KEY (p2) REFERENCES t_%s (id) NOT VALID', i, i - 2);
  END LOOP;
END $$;
ANALYZE;
"""


def apiaudit() -> list[str]:
    exe = shutil.which("apiaudit", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "apiaudit"]


def run_audit(dsn: str, out: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    proc = subprocess.run(
        [*apiaudit(), "db", dsn, "--format", "json", "-o", str(out), "--fail-on", "none", "--quiet", *extra],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"apiaudit failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, json.loads(out.read_text())


def main() -> None:
    cluster = start_cluster(settings={"max_locks_per_transaction": "256"})
    tmp = Path(tempfile.mkdtemp(prefix="apiaudit-bench-"))
    try:
        cluster.psql("CREATE DATABASE bench")
        t0 = time.perf_counter()
        cluster.psql("CREATE EXTENSION pg_stat_statements", "bench")
        cluster.psql(SCHEMA, "bench")
        cluster.psql("VACUUM ANALYZE", "bench")  # settle autovacuum's backlog before timing anything
        counts = cluster.psql(
            "SELECT (SELECT count(*) FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace),"
            " (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'),"
            " (SELECT count(*) FROM pg_constraint WHERE contype = 'f')",
            "bench",
        ).strip()
        print(f"schema built in {time.perf_counter() - t0:.1f} s: tables|indexes|fks = {counts}")
        dsn = cluster.dsn("bench")

        # 1. Catalog audit (the workload is empty: pg_stat_statements was just reset).
        cluster.psql("SELECT pg_stat_statements_reset()", "bench")
        run_audit(dsn, tmp / "catalog.json")  # warm-up (OS cache, catalog caches), not timed
        walls = []
        for _ in range(5):
            wall, report = run_audit(dsn, tmp / "catalog.json")
            walls.append(wall)
        rules = {}
        for f in report["findings"]:
            rules[f["rule"]] = rules.get(f["rule"], 0) + 1
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        print(
            f"catalog audit wall (process incl. start-up): median {statistics.median(walls):.2f} s, "
            f"best {min(walls):.2f} s, runs {', '.join(f'{w:.2f}' for w in walls)} (load average {load})"
        )
        print(f"  findings by rule: {json.dumps(rules, sort_keys=True)}")
        startup = min(subprocess_wall([*apiaudit(), "--help"]) for _ in range(3))
        print(f"  process start-up alone (apiaudit --help): {startup:.2f} s")

        # 2. EXPLAIN throughput on 500 distinct queries (one shape per table).
        cluster.psql("SELECT pg_stat_statements_reset()", "bench")
        work = "\n".join(
            f"SELECT id, c FROM t_{i} WHERE p2 = {i} AND a < 5;" for i in range(1, POPULATED + 1)
        )
        cluster.psql(work, "bench")
        for label, setup in (("without HypoPG", None), ("with HypoPG", "CREATE EXTENSION hypopg")):
            if setup:
                cluster.psql(setup, "bench")
            wall, report = run_audit(dsn, tmp / "explain.json", "--top", "500")
            explained = report["stats"].get("explained", 0)
            verified = sum(1 for f in report["findings"] if f["rule"] == "db.plan.missing-index")
            unverified = sum(1 for f in report["findings"] if f["rule"] == "db.plan.index-candidate")
            plans = report["measurements"].get("plans", [])
            failed = [p["error"] for p in plans if p["error"]]
            refused = [p["refused"] for p in plans if p["refused"]]
            print(
                f"EXPLAIN {label}: {explained} queries explained in {wall:.2f} s wall "
                f"({explained / wall:.0f} queries/s incl. catalog), verified {verified}, "
                f"unverified {unverified}, "
                f"refused {len(refused)}, failed {len(failed)}{': ' + failed[0] if failed else ''}"
            )
            if refused:
                print(f"  refused: {sorted({r[:70] for r in refused})[:5]}")
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def subprocess_wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

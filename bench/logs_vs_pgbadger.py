#!/usr/bin/env python3
"""apiaudit's query-log analysis vs pgBadger on the same large stderr log (issue 5's speed bar).

    /tmp/venv/bin/python bench/logs_vs_pgbadger.py [--transactions 45000] [--keep LOG]
    /tmp/venv/bin/python bench/logs_vs_pgbadger.py --app [--mb 120]    # the real-application log (issue 15)

1. A throwaway PostgreSQL cluster (apiaudit.pgcluster) with log_statement = 'all', stderr only.
2. ``pgbench -i``, then ``pgbench -M simple`` and ``pgbench -M extended`` runs: literals in
   ``statement:`` lines, and ``execute <unnamed>:`` + ``DETAIL:  parameters:`` pairs.
3. apiaudit (``analyze_logs``, one process) and pgBadger (``-j 1``) each parse the log in a child
   process; wall time and peak RSS (``wait4`` rusage) of each.
4. pgBadger's normalised queries are fingerprinted with apiaudit's fingerprint (its ``?`` become
   literals) and the top 20 counts compared with apiaudit's workload.

``--app``: instead of pgbench, the application workloads of the test suite (SQLAlchemy 2 lazy/eager
loading over psycopg 3 and psycopg2 with UUID keys, asyncpg's pool, psycopg_pool, a Django-style
persistent connection): multi-line ORM SQL, extended protocol with DETAIL parameters, UUID literals,
connection/disconnection lines (bench/app_log.py).

Needs: PostgreSQL server binaries, pgbench, pgbadger (Debian: postgresql-15, pgbadger; installed with
apt-get when missing and running as root).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apiaudit import pgcluster  # noqa: E402

TX_CONTROL = ("begin", "end", "commit", "rollback", "start transaction")
# Left out on both sides: apiaudit lists savepoints and pool resets as unit boundaries, not queries, and
# pgBadger rewrites asyncpg's multi-statement reset ("close all;" becomes 'close "..."').
NOT_QUERIES = ("savepoint", "release", "rollback to")
RESET_MARK = "pg_advisory_unlock_all"


def generate(transactions: int, out: Path) -> tuple[str, float]:
    """Run pgbench against a fresh cluster; copy its stderr log to ``out``. Returns (prefix, seconds)."""
    cluster = pgcluster.start_cluster(settings={"log_destination": "'stderr'", "log_statement": "'all'"})
    try:
        env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": "postgres"}
        pgbench = shutil.which("pgbench") or str(cluster.bindir / "pgbench")
        t0 = time.monotonic()
        subprocess.run([pgbench, "-i", "-s", "1", "-q", "postgres"], env=env, check=True, capture_output=True)
        per_mode = str(max(1, transactions // 4))  # 2 clients x 2 modes
        for mode in ("simple", "extended"):
            subprocess.run([pgbench, "-M", mode, "-c", "2", "-j", "2", "-t", per_mode, "postgres"], env=env,
                           check=True, capture_output=True)
        cluster.psql("SELECT 'apiaudit-bench-end'")
        pgcluster.wait_for_log(cluster.stderr_log, "apiaudit-bench-end", timeout_s=60)
        shutil.copyfile(cluster.stderr_log, out)
        return pgcluster.LOG_LINE_PREFIX, time.monotonic() - t0
    finally:
        cluster.stop()


def _hwm_mib(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), MiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def measure(cmd: list[str]) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MiB, exit status) of one child process.

    Peak RSS is VmHWM polled every 20 ms (rusage's ru_maxrss would also count the forked copy of
    this Python process before exec). CPU time (user + sys) is what to compare on a busy machine.
    """
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0.0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _hwm_mib(proc.pid))
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - t0, usage.ru_utime + usage.ru_stime, peak, proc.returncode


def child_analyze(log: str, out: str) -> None:
    """Child mode: apiaudit's analysis of one log; writes {fingerprint: [calls, sample]} as JSON."""
    from apiaudit.db.logs import analyze_logs

    ev = analyze_logs([log], fmt=None, prefix=None, options={})
    rows = {q.fingerprint: [q.calls, q.sample] for q in ev.workload if RESET_MARK not in q.sample.lower()}
    Path(out).write_text(json.dumps({"workload": rows, "stats": ev.stats, "errors": ev.errors}))


def pgbadger_counts(report: Path) -> dict[str, tuple[int, str]]:
    from apiaudit.db.fingerprint import fingerprint

    data = json.loads(report.read_text())
    counts: dict[str, tuple[int, str]] = {}
    for per_db in data.get("normalyzed_info", {}).values():
        for query, info in per_db.items():
            text = query.strip().rstrip(";").lower()
            if text in TX_CONTROL or text.startswith(NOT_QUERIES) or RESET_MARK in text:
                continue
            fid = fingerprint(query.replace("?", "0"))[0]
            n, _ = counts.get(fid, (0, query))
            counts[fid] = (n + int(info.get("count") or 0), query)
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transactions", type=int, default=57_000, help="pgbench transactions, both modes")
    ap.add_argument("--log", help="analyse this existing stderr log instead of generating one")
    ap.add_argument("--keep", help="copy the generated log here")
    ap.add_argument("--big-gb", type=float, default=0.0,
                    help="also analyse the log repeated up to this many GB (apiaudit only): bounded memory")
    ap.add_argument("--app", action="store_true", help="real application log (ORMs, asyncpg, Django-style)")
    ap.add_argument("--mb", type=float, default=120.0, help="--app: size of the log to compare, MB")
    ap.add_argument("--child-analyze", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_analyze:
        child_analyze(*args.child_analyze)
        return 0
    if not shutil.which("pgbadger") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "pgbadger"], check=False, capture_output=True)
    if not shutil.which("pgbadger"):
        print("pgbadger not found (apt-get install pgbadger)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="apiaudit-bench-"))
    try:
        log = Path(args.log) if args.log else work / "pgbench.log"
        prefix = pgcluster.LOG_LINE_PREFIX
        if args.app and not args.log:
            from app_log import generate_app_log

            log = work / "app.log"
            prefix, gen_s = generate_app_log(log, args.mb)
            print(f"generated {log.stat().st_size / 1e6:.1f} MB in {gen_s:.1f} s")
            if args.keep:
                shutil.copyfile(log, args.keep)
        elif not args.log:
            prefix, gen_s = generate(args.transactions, log)
            print(f"generated {log.stat().st_size / 1e6:.1f} MB in {gen_s:.1f} s")
            if args.keep:
                shutil.copyfile(log, args.keep)
        with open(log, "rb") as fh:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
        ours_json = work / "apiaudit.json"
        *ours, a_rc = measure([sys.executable, __file__, "--child-analyze", str(log), str(ours_json)])
        badger_json = work / "pgbadger.json"
        *theirs, b_rc = measure(["pgbadger", "-j", "1", "-f", "stderr", "--prefix", prefix, "-q",
                                 "-o", str(badger_json), str(log)])
        if a_rc or b_rc:
            print(f"a run failed: apiaudit exit {a_rc}, pgbadger exit {b_rc}", file=sys.stderr)
            return 1
        report(lines, ours, theirs, json.loads(ours_json.read_text()), pgbadger_counts(badger_json))
        if args.big_gb:
            big_run(log, work, args.big_gb)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def big_run(log: Path, work: Path, gigabytes: float) -> None:
    """The same log repeated to a multi-GB file: peak RSS must not grow with the file."""
    big = work / "big.log"
    size, target = log.stat().st_size, int(gigabytes * 1e9)
    with open(big, "wb") as out:
        for _ in range(max(1, target // size)):
            with open(log, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)
    with open(big, "rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b""))
    cmd = [sys.executable, __file__, "--child-analyze", str(big), str(work / "big.json")]
    wall, cpu, peak, rc = measure(cmd)
    print(f"big log {big.stat().st_size / 1e9:.2f} GB, {lines:,} lines: apiaudit exit {rc}, "
          f"wall {wall:.1f} s, CPU {cpu:.1f} s ({lines / cpu:,.0f} lines/CPU-s), peak RSS {peak:.1f} MiB")
    big.unlink()


def report(lines: int, ours: list[float], badger: list[float], got: dict[str, Any],
           theirs: dict[str, tuple[int, str]]) -> None:
    (a_s, a_cpu, a_mb), (b_s, b_cpu, b_mb) = ours, badger
    print(f"log lines           {lines:>12,}")
    print(f"apiaudit            wall {a_s:7.2f} s  CPU {a_cpu:7.2f} s  {lines / a_cpu:>10,.0f} lines/CPU-s  "
          f"peak RSS {a_mb:6.1f} MiB")
    print(f"pgbadger -j 1       wall {b_s:7.2f} s  CPU {b_cpu:7.2f} s  {lines / b_cpu:>10,.0f} lines/CPU-s  "
          f"peak RSS {b_mb:6.1f} MiB")
    print(f"speed-up            wall {b_s / a_s:5.1f} x   CPU {b_cpu / a_cpu:5.1f} x")
    top = sorted(theirs.items(), key=lambda kv: -kv[1][0])[:20]
    agree = 0
    for fid, (n, query) in top:
        mine = got["workload"].get(fid, [0, ""])[0]
        agree += mine == n
        mark = "=" if mine == n else "!"
        print(f"  {mark} pgbadger {n:>8}  apiaudit {mine:>8}  {query[:70]}")
    print(f"top-{len(top)} normalised queries with equal counts: {agree}/{len(top)}")
    ours_total = sum(n for n, _ in got["workload"].values())
    theirs_total = sum(n for n, _ in theirs.values())
    print(f"statements (without transaction control): apiaudit {ours_total:,}  pgbadger {theirs_total:,}  "
          f"queries: apiaudit {len(got['workload']):,}  pgbadger {len(theirs):,} (fingerprinted alike)")
    print(f"apiaudit stats: {json.dumps({k: v for k, v in got['stats'].items() if k.startswith('log_')})}")


if __name__ == "__main__":
    sys.exit(main())

"""Log framing under attack (issue 12 items 4 and 7).

* A bare CR (or VT, FF, FS/GS/RS, NEL, U+2028/U+2029) inside a value the application logs — a bind
  parameter, a string literal — must stay data: written by a real PostgreSQL to its stderr, csvlog and
  jsonlog files, it must not forge statements (no fake N+1, no attacker SQL planned by the audit).
* The ``.sql`` reader is linear: adversarial and generated inputs with a bound on the time taken.
* One deeply nested jsonlog line drops only itself, and per-file line counts reach the report.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiaudit import pgcluster
from apiaudit.db.logs import analyze_logs, sqlfile
from hostile.measure import Run, run_measured

CANARY = "secret_audit_canary"
# Every character some line splitter treats as a line break; PostgreSQL writes them all raw.
BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r\r", "\r\n"]
SCHEMA = f"CREATE TABLE customers(id serial PRIMARY KEY, name text); CREATE TABLE {CANARY}(id int PRIMARY KEY);"


def forged(sep: str, n: int = 8) -> str:
    """A display name that, split at ``sep``, reads as ``n`` statements of one session: a fake N+1."""
    fake = "".join(
        f"{sep}2026-12-05 01:30:00.{i:03d} UTC [4242] 6569a1b2.1092 0 app@shop LOG:  statement: "
        f"SELECT * FROM {CANARY} WHERE id = {i}"
        for i in range(1, n + 1)
    )
    jfake = "".join(
        sep + json.dumps({"timestamp": f"2026-12-05 01:30:00.{i:03d} UTC", "pid": 4242, "session_id": "abc.1",
                          "error_severity": "LOG", "message": f"statement: SELECT * FROM {CANARY} WHERE id = {i}"})
        for i in range(1, n + 1)
    )
    cfake = "".join(
        f'{sep}2026-12-05 01:30:00.{i:03d} UTC,"app","shop",4242,"127.0.0.1:5000",6569a1b2.1092,1,"SELECT",'
        f'2026-12-05 01:30:00 UTC,3/1,0,LOG,00000,"statement: SELECT * FROM {CANARY} WHERE id = {i}",,,,,,,,,"psql",'
        '"client backend",,0'
        for i in range(1, n + 1)
    )
    return "Bob" + fake + jfake + cfake + sep


def _slices(cluster: pgcluster.Cluster, dsn: str, work: Callable[[], None], out: Path) -> dict[str, Path]:
    """Run ``work``; return {format: a file holding what the server logged meanwhile}."""
    files = {"stderr": cluster.stderr_log, "csvlog": cluster.csv_log, "jsonlog": cluster.json_log}

    def settle(marker: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"SELECT '{marker}'")
        for path in files.values():
            assert pgcluster.wait_for_log(path, marker, timeout_s=20), marker

    settle("apiaudit-cr-before")
    start = {fmt: path.stat().st_size for fmt, path in files.items()}
    work()
    settle("apiaudit-cr-after")
    slices = {}
    for fmt, path in files.items():
        with open(path, "rb") as fh:
            fh.seek(start[fmt])
            data = fh.read()
        slices[fmt] = out / f"cr.{fmt}"
        slices[fmt].write_bytes(data)
    return slices


@pytest.fixture(scope="module")
def cr_logs(pg: pgcluster.Cluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Path]]:
    dbname = "cr_injection"
    pg.psql(f'DROP DATABASE IF EXISTS "{dbname}"')
    pg.psql(f'CREATE DATABASE "{dbname}"')
    pg.psql(SCHEMA, dbname)
    dsn = pg.dsn(dbname)

    def app() -> None:
        # The application does everything right: parameters bound by the server (extended protocol),
        # and literals quoted by the driver (simple protocol); only the values are the attacker's.
        with psycopg.connect(dsn, autocommit=True) as conn:
            for sep in BREAKS:
                conn.execute("INSERT INTO customers(name) VALUES (%s)", (forged(sep),))
        with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
            for sep in BREAKS:
                conn.execute("INSERT INTO customers(name) VALUES (%s)", (forged(sep),))

    return dsn, _slices(pg, dsn, app, tmp_path_factory.mktemp("cr"))


def _audit(dsn: str, log: Path, pg: pgcluster.Cluster) -> Run:
    run = run_measured("db", dsn, "--log", str(log), "--format", "json", "--fail-on", "none", timeout=120)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code == 0, run
    return run


@pytest.mark.parametrize("fmt", ["stderr", "csvlog", "jsonlog"])
def test_cr_in_logged_values_forges_nothing(cr_logs: tuple[str, dict[str, Path]], pg: pgcluster.Cluster,
                                            fmt: str) -> None:
    dsn, slices = cr_logs
    raw = slices[fmt].read_bytes()
    # stderr and csvlog carry the CRs raw; jsonlog escapes C0 controls but writes NEL, U+2028/9 raw.
    assert raw.count(b"\r") >= 2 * 8 * 3 * 2 if fmt != "jsonlog" else "\u2028".encode() in raw, raw[-500:]
    run = _audit(dsn, slices[fmt], pg)
    rep = run.report() or {}
    samples = [w["sample"] for w in rep.get("workload") or [] if w.get("source") == "log"]
    assert samples, run
    assert not [s for s in samples if s.lstrip().upper().startswith("SELECT") and CANARY in s], samples
    assert not (rep.get("measurements") or {}).get("nplusone"), rep.get("measurements")
    assert not [f for f in rep.get("findings") or [] if CANARY in json.dumps(f.get("location"))], rep["findings"]
    # Every INSERT was read as one statement: 2 x len(BREAKS) executions of one shape.
    inserts = [w for w in rep["workload"] if w["sample"].startswith("INSERT INTO customers")]
    assert [w["calls"] for w in inserts] == [2 * len(BREAKS)], rep["workload"]
    per_file = rep["stats"]["log_per_file"]
    assert per_file[0]["lines_unparsed"] == 0 and per_file[0]["lines_total"] > 0, per_file
    # Nothing the attacker wrote was planned: the audit's own statements never name the canary.
    pgcluster.wait_for_log(pg.stderr_log, "apiaudit-cr-after")
    audit_lines = pg.stderr_log.read_bytes().split(b"\n")
    planned = [ln for ln in audit_lines if CANARY.encode() in ln and b"Bob" not in ln and b"apiaudit" in ln]
    assert not planned, planned[:3]


def test_sql_file_with_crs_in_literals(tmp_path: Path) -> None:
    path = tmp_path / "seed.sql"
    body = "".join(f"INSERT INTO customers(name) VALUES ('{forged(sep).replace(chr(39), chr(39) * 2)}');\n"
                   for sep in BREAKS)
    path.write_text(body, encoding="utf-8", newline="")
    ev = analyze_logs([str(path)], fmt=None, prefix=None)
    assert [(w.sample[:21], w.calls) for w in ev.workload] == [("INSERT INTO customers", len(BREAKS))]
    assert ev.stats["log_unparsed"] == 0 and not ev.nplusone


def test_crlf_endings_still_read(tmp_path: Path) -> None:
    """A log copied from Windows: one CR before each LF is a line ending, not data."""
    lines = [f'{{"timestamp": "2026-12-05 01:00:00.{i:03d} UTC", "pid": 7, "session_id": "a.1", '
             f'"error_severity": "LOG", "message": "statement: SELECT * FROM t WHERE id = {i}"}}' for i in range(9)]
    path = tmp_path / "win.json"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    sql = tmp_path / "win.sql"
    sql.write_bytes(b"SELECT 1;\r\n-- note\r\nSELECT 2;\r\n")
    ev = analyze_logs([str(path), str(sql)], fmt=None, prefix=None)
    assert ev.stats["log_unparsed"] == 0 and ev.stats["log_statements"] == 11, ev.stats


# --- the .sql reader is linear ------------------------------------------------------------------------------

class _Sink:
    def __init__(self) -> None:
        self.got: list[str] = []

    def statement(self, session: str, ts: Any, text: str, params: Any, ms: Any) -> None:
        self.got.append(text)


def _scan(text: str) -> tuple[list[str], dict[str, int], float]:
    sink = _Sink()
    start = time.process_time()
    counts = sqlfile.parse(io.StringIO(text, newline="\n"), sink, "s")  # type: ignore[arg-type]
    return sink.got, counts, time.process_time() - start


ADVERSARIAL = {
    "seed-in-list": "SELECT 1 FROM t WHERE a IN (\n" + "'x;y',\n" * 20_000 + "'z');\n",  # 140 KB: was 60 s
    "quote-run": "'" * 300_000,
    "doubled-quotes": "SELECT '" + "'';" * 100_000 + "';\n",
    "unterminated-per-line": "SELECT 'a;\n" * 30_000,
    "dollar-tags": "$a$;" * 100_000,
    "dollar-unterminated": "SELECT $q$" + ";\n" * 100_000,
    "nested-comments": "/*" * 100_000 + ";" * 1000 + "*/" * 100_000,
    "line-comments": "-- ;\n" * 60_000 + "SELECT 1;",
    "semicolons": ";" * 300_000,
    "estring-backslashes": "E'" + "\\';" * 100_000 + "';",
    "identifiers": '"' + '"";' * 100_000 + '";',
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_sql_reader_is_linear_on_adversarial_input(name: str) -> None:
    text = ADVERSARIAL[name]
    _, counts, small = _scan(text)
    assert counts["lines"] >= 1
    assert small < 2.0, f"{name}: {len(text)} characters took {small:.2f} s"
    _, _, double = _scan(text + "\n" + text)  # twice the input: about twice the work, never four times
    assert double < 2.0 + 3 * max(small, 0.05), (name, small, double)


def test_sql_reader_splits_like_postgresql() -> None:
    got, counts, _ = _scan(
        "SELECT 1; SELECT 'a;b'; SELECT \"x;\"\"y\";\n-- c;\nSELECT $$a;b$$;\nSELECT $f$ $$ ; $f$;"
        " select E'it\\'s;';/* a /* b; */ c; */ SELECT 2;\n\\set x 1\nSELECT a$b$ FROM t; SELECT 3"
        "\n-- x\rSELECT 4;\nSELECT 'open;\n"
    )
    assert got == ["SELECT 1", "SELECT 'a;b'", 'SELECT "x;""y"', "-- c;\nSELECT $$a;b$$", "SELECT $f$ $$ ; $f$",
                   "select E'it\\'s;'", "/* a /* b; */ c; */ SELECT 2", "SELECT a$b$ FROM t",
                   "SELECT 3\n-- x\rSELECT 4"]
    assert counts["unparsed"] == 1  # the unterminated string at the end is not a statement


SQL_ATOMS = st.sampled_from(["'", "''", '"', "$$", "$a$", "$1", "E'", "\\'", "\\", "--", "/*", "*/", ";", "\n",
                             "\r", "SELECT 1", " ", "x", "\u2028", "a$b$"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SQL_ATOMS, max_size=400), st.integers(min_value=1, max_value=400))
def test_sql_reader_generated_inputs(atoms: list[str], repeat: int) -> None:
    text = "".join(atoms) * repeat
    got, counts, took = _scan(text)
    assert took < 2.0, (len(text), took)
    assert counts["parsed"] == len(got) <= text.count(";") + 1
    assert all(s == s.strip() and s for s in got)


# --- one bad jsonlog line costs only itself -----------------------------------------------------------------

def _jrec(i: int, msg: str, pid: int = 77, session: str = "abc.1") -> str:
    return json.dumps({"timestamp": f"2026-12-05 01:00:00.{i:03d} UTC", "pid": pid, "session_id": session,
                       "error_severity": "LOG", "message": msg})


def test_deep_jsonlog_line_drops_only_itself(tmp_path: Path) -> None:
    nplus = [_jrec(i, f"statement: SELECT * FROM customers WHERE id = {i}") for i in range(1, 20)]
    deep = '{"timestamp": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    bad = tmp_path / "nplus_deep.json"
    bad.write_text("\n".join([_jrec(0, "statement: SELECT * FROM orders WHERE id = 1"), deep, *nplus]) + "\n")
    clean = tmp_path / "clean.json"
    clean.write_text(_jrec(0, "statement: SELECT 1", pid=5, session="zz.1") + "\n")
    run = run_measured("db", "--log", str(bad), "--log", str(clean), "--format", "json", timeout=60)
    assert not run.has_traceback() and not run.internal_error(), run
    rep = run.report() or {}
    assert run.code == 1, run  # the N+1 in the first file fails the gate; the second file hides nothing
    assert "db.nplusone.log" in {f["rule"] for f in rep["findings"]} or rep["measurements"].get("nplusone"), rep
    per_file = {Path(f["file"]).name: f for f in rep["stats"]["log_per_file"]}
    assert per_file["nplus_deep.json"]["lines_total"] == 21 and per_file["nplus_deep.json"]["lines_unparsed"] == 1
    assert per_file["clean.json"] == {**per_file["clean.json"], "lines_total": 1, "lines_unparsed": 0}


def test_seed_file_of_140_kb_is_analysed_well_under_a_second(tmp_path: Path) -> None:
    """The red-team file: 60 s in 0.1.0 (each ';' line rescanned the whole pending statement)."""
    path = tmp_path / "quad.sql"
    path.write_text(ADVERSARIAL["seed-in-list"])
    start = time.process_time()
    ev = analyze_logs([str(path)], fmt=None, prefix=None)
    took = time.process_time() - start
    assert ev.stats["log_statements"] == 1 and ev.stats["log_unparsed"] == 0
    assert took < 1.0, took


def test_syslog_unwrapping_keeps_crs_as_data(tmp_path: Path) -> None:
    """rsyslog's #012 (a newline) is split on; a raw CR next to it is still data."""
    pre = "2026-12-05 02:30:00.000 UTC [4242] 6569a1b2.1092 0 app@shop "
    fake = "".join(f"\r{pre}LOG:  statement: SELECT * FROM {CANARY} WHERE id = {i}" for i in range(1, 9))
    lines = [f"Dec  5 02:30:00 host postgres[4242]: [{i}-1] {pre}LOG:  statement: SELECT * FROM c WHERE id = {i}"
             for i in range(1, 4)]
    lines.append(f"Dec  5 02:30:00 host postgres[4242]: [9-1] {pre}LOG:  statement: "
                 f"INSERT INTO c(name) VALUES ('Bob{fake}#012more')")
    path = tmp_path / "syslog.log"
    path.write_bytes(("\n".join(lines) + "\n").encode())
    ev = analyze_logs([str(path)], fmt=None, prefix=None)
    assert ev.stats["log_formats"] == {"stderr (syslog)": 1}
    assert not [w for w in ev.workload if CANARY in w.sample and w.sample.startswith("SELECT")], ev.workload

"""`apiaudit db` end to end through the installed console script: JSON contract, exit codes,
bad input (wrong password, unreachable, SSL required, missing database, not PostgreSQL), no
traceback and no password in any output."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import jsonschema
import pytest

from apiaudit.pgcluster import free_port

pytestmark = pytest.mark.pg

PASSWORD = "Hunter2-Secret-pw"
WRONG = "Wr0ng-Secret-pw"


def _clean(result, *secrets: str) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for s in secrets:
        assert s not in result.stdout and s not in result.stderr


def test_json_report_end_to_end(pg, fresh_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
    INSERT INTO parent SELECT generate_series(1, 3000);
    INSERT INTO child SELECT g, g FROM generate_series(1, 3000) g;
    ANALYZE;
    """)
    pg.psql("SELECT id FROM child WHERE parent_id = 3", dsn.rsplit("/", 1)[1])
    result = run_cli("db", dsn, "--format", "json")
    _clean(result)
    assert result.code == 1, result  # the unindexed FK is high: the default gate (--fail-on high) fails
    report = json.loads(result.stdout)
    assert report["kind"] == "db" and report["schema_version"] == 1
    assert len(report["checklist"]) == 21
    items = {c["id"]: c for c in report["checklist"]}
    assert items["database.indexes"]["status"] == "fail"
    assert items["api.pagination"]["status"] == "not_assessed"
    fk = [f for f in report["findings"] if f["rule"] == "db.fk.unindexed"]
    assert [f["location"] for f in fk] == [{"schema": "public", "table": "child", "columns": ["parent_id"]}]
    assert any("parent_id = $1" in w["sample"] for w in report["workload"])
    assert report["measurements"]["top_queries"] and "cache_hit_rate" in report["measurements"]
    schema = json.loads((Path(__file__).resolve().parents[2] / "apiaudit/report/schema.json").read_text())
    jsonschema.validate(report, schema)  # the report contract, measurements included
    ok = run_cli("db", dsn, "--format", "json", "--fail-on", "critical")
    assert ok.code == 0, ok


@pytest.fixture(scope="module")
def password_role(pg):  # type: ignore[no-untyped-def]
    """A role that must authenticate with a password (only this role: other tests keep trust)."""
    hba = pg.datadir / "pg_hba.conf"
    text = hba.read_text()
    line = "host all pw_auditor 127.0.0.1/32 scram-sha-256\n"
    if line not in text:
        hba.write_text(line + text)
    pg.psql(
        f"DO $$ BEGIN CREATE ROLE pw_auditor LOGIN PASSWORD '{PASSWORD}'; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    pg.psql("SELECT pg_reload_conf()")
    return "pw_auditor"


def test_right_password_audits_and_is_never_printed(pg, password_role, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("db", pg.dsn("postgres", user=password_role, password=PASSWORD), "--format", "json")
    _clean(result, PASSWORD)
    assert result.code in (0, 1), result
    assert json.loads(result.stdout)["targets"][0].startswith("postgresql://pw_auditor:***@")


def test_wrong_password(pg, password_role, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("db", pg.dsn("postgres", user=password_role, password=WRONG), "--format", "json")
    assert result.code == 3, result
    assert "authentication failed" in result.stderr
    _clean(result, WRONG)


def test_unreachable_host(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("db", f"postgresql://app:{WRONG}@127.0.0.1:{free_port()}/shop")
    assert result.code == 3, result
    assert "unreachable" in result.stderr
    _clean(result, WRONG)


def test_database_missing(pg, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("db", pg.dsn("no_such_db"))
    assert result.code == 3, result
    assert "does not exist" in result.stderr
    _clean(result)


def test_ssl_required_but_not_offered(pg, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("db", pg.dsn("postgres") + "?sslmode=require")
    assert result.code == 3, result
    assert "SSL" in result.stderr
    _clean(result)


def test_not_postgresql(run_cli) -> None:  # type: ignore[no-untyped-def]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]

    def answer() -> None:  # an HTTP server's reply to whatever it is sent
        for _ in range(4):
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(1024)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    try:
        result = run_cli("db", f"postgresql://app@127.0.0.1:{port}/shop")
    finally:
        srv.close()
    assert result.code == 3, result
    assert "PostgreSQL" in result.stderr
    _clean(result)


@pytest.mark.parametrize(
    "args",
    [
        ("db",),  # neither a DSN nor --log
        ("db", "mysql://app@127.0.0.1/shop"),
        ("db", "postgresql://app@127.0.0.1:99999999/shop"),
        ("db", "postgresql://app@127.0.0.1/shop", "--top", "0"),
    ],
)
def test_usage_errors_exit_2(args, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(*args)
    assert result.code == 2, result
    _clean(result)


def test_save_and_replay_evidence(pg, fresh_db, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
    INSERT INTO parent SELECT generate_series(1, 3000);
    INSERT INTO child SELECT g, g FROM generate_series(1, 3000) g;
    ANALYZE;
    """)
    saved = tmp_path / "ev.json"
    live = run_cli("db", dsn, "--format", "json", "--fail-on", "none", "--save-evidence", str(saved))
    assert live.code == 0, live
    pg.psql(f"DROP DATABASE {dsn.rsplit('/', 1)[1]} WITH (FORCE)")  # replay needs no database
    replay = run_cli("db", "--from-evidence", str(saved), "--format", "json", "--fail-on", "none")
    assert replay.code == 0, replay
    before, after = json.loads(live.stdout), json.loads(replay.stdout)
    assert [f["fingerprint"] for f in after["findings"]] == [f["fingerprint"] for f in before["findings"]]
    assert [c["status"] for c in after["checklist"]] == [c["status"] for c in before["checklist"]]
    # Offline re-check with another threshold: the FK finding becomes the small-table one.
    strict = tmp_path / "apiaudit.yaml"
    strict.write_text("thresholds:\n  small_table_rows: 5000\n")
    again = run_cli(
        "db", "--from-evidence", str(saved), "-c", str(strict), "--format", "json", "--fail-on", "none"
    )
    assert {f["rule"] for f in json.loads(again.stdout)["findings"]} >= {"db.fk.unindexed-small"}
    bad = run_cli("db", "--from-evidence", str(saved), dsn)
    assert bad.code == 2, bad


def test_server_requires_ssl(pg, run_cli) -> None:  # type: ignore[no-untyped-def]
    """pg_hba.conf refuses unencrypted connections for this role (hostnossl ... reject)."""
    hba = pg.datadir / "pg_hba.conf"
    line = "hostnossl all ssl_only 127.0.0.1/32 reject\n"
    if line not in hba.read_text():
        hba.write_text(line + hba.read_text())
    pg.psql("DO $$ BEGIN CREATE ROLE ssl_only LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    pg.psql("SELECT pg_reload_conf()")
    result = run_cli("db", pg.dsn("postgres", user="ssl_only") + "?sslmode=disable")
    assert result.code == 3, result
    assert "SSL" in result.stderr and "no encryption" in result.stderr
    _clean(result)

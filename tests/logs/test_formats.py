"""Log formats at pgBadger's level (issue 15, points 3 and 10), on logs a real PostgreSQL writes: one
cluster of this module's own, its log_line_prefix and logging settings changed per test with ALTER
SYSTEM + pg_reload_conf(), log_connections on. syslog, Heroku logplex and Cloud SQL records are built
around the real server lines exactly as those transports wrap them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import psycopg
import pytest
from conftest import need
from logs import workloads as w
from logs.conftest import LogLab
from logs.test_real_logs import _Ev, analyze, findings

from apiaudit import pgcluster
from apiaudit.checks import CheckContext, run_checks
from apiaudit.db.logs import analyze_logs
from apiaudit.db.logs.filters import dsn_database
from apiaudit.rules import load_rules

pytestmark = pytest.mark.pg
CHILD = "SELECT id, name FROM authors WHERE id = $1"
PARENT = "SELECT id, author_id, title FROM posts ORDER BY id"
OTHER_CHILD = "SELECT body FROM comments WHERE post_id = $1"


class Lab(LogLab):
    def _settle(self, marker: str) -> None:
        """A marker slow enough to be logged under log_min_duration_statement = 5 too."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"SELECT '{marker}', pg_sleep(0.01)")
        for log in (self.cluster.stderr_log, self.cluster.csv_log, self.cluster.json_log):
            assert pgcluster.wait_for_log(log, marker, timeout_s=20), marker

    def configure(self, **settings: str) -> None:
        for key, value in settings.items():
            self.cluster.psql(f"ALTER SYSTEM SET {key} = {value}")
        self.cluster.psql("SELECT pg_reload_conf()")
        want = settings.get("log_line_prefix", "").strip("'").replace("''", "'")
        for _ in range(100):  # the postmaster re-reads the file asynchronously
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                if not want or conn.execute("SHOW log_line_prefix").fetchone() == (want,):
                    return
        raise AssertionError(f"log_line_prefix {want!r} not in effect")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    cluster = pgcluster.start_cluster(settings={"log_connections": "on", "log_disconnections": "on"})
    try:
        for db in ("shop", "other"):
            cluster.psql(f"CREATE DATABASE {db}")
            cluster.psql(w.SCHEMA, db)
        yield Lab(cluster, cluster.dsn("shop"), tmp_path_factory.mktemp("formats"))
    finally:
        cluster.stop()


def other_lazy(dsn: str) -> None:
    """Another application's N+1 in another database of the same server."""
    with psycopg.connect(dsn.rsplit("/", 1)[0] + "/other", autocommit=True, application_name="reports",
                         cursor_factory=psycopg.ClientCursor) as conn:
        for (pid,) in conn.execute("SELECT id FROM posts ORDER BY id").fetchall():
            conn.execute("SELECT body FROM comments WHERE post_id = %s", (pid,)).fetchall()


def both(dsn: str) -> None:
    w.simple_lazy(dsn)
    other_lazy(dsn)


def nplusone(ev: Any) -> list[tuple[str, str | None, int]]:
    return sorted((p.child_sample, p.parent_sample, p.statements) for p in ev.nplusone)


PREFIXES = {
    "debian": "%m [%p] %q%u@%d ",
    "rds": "%t:%r:%u@%d:[%p]:",
    "azure": "%t-%c-",
    "cloudsql": "%m [%p]: [%l-1] db=%d,user=%u ",
    "pgbadger": "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "debian9": "%t [%p-%l] %q%u@%d ",
}


@pytest.mark.parametrize("name", sorted(PREFIXES))
def test_common_prefixes_with_log_connections(lab: Lab, name: str) -> None:
    """Detected without --log-prefix; the connection lines ([unknown]@[unknown]) parse, so there is no
    "wrong --log-prefix" warning; the N+1 is found with its parent."""
    lab.configure(log_line_prefix=f"'{PREFIXES[name]}'")
    ev = analyze(lab.run(f"prefix-{name}", w.simple_lazy)["stderr"])
    assert ev.errors == [] and ev.stats["log_unparsed"] == 0
    assert ev.sessions.connections_logged >= 1
    assert nplusone(ev) == [(CHILD, PARENT, w.POSTS)]


def test_shared_log_database_filter(lab: Lab) -> None:
    """A server log shared by two databases: --log-database keeps one; the DSN's database is the default."""
    lab.configure(log_line_prefix="'%m [%p] %q%u@%d '")
    path = lab.run("shared", both)["stderr"]
    assert nplusone(analyze(path)) == [(OTHER_CHILD, "SELECT id FROM posts ORDER BY id", w.POSTS),
                                       (CHILD, PARENT, w.POSTS)]
    shop = analyze(path, database="shop")
    assert nplusone(shop) == [(CHILD, PARENT, w.POSTS)]
    assert not any("comments" in q.sample for q in shop.workload)
    assert shop.stats["log_filter"]["messages_left_out"] > w.POSTS
    by_dsn = analyze(path, dsn_database=dsn_database(lab.cluster.dsn("other")))
    assert nplusone(by_dsn) == [(OTHER_CHILD, "SELECT id FROM posts ORDER BY id", w.POSTS)]
    assert by_dsn.stats["log_filter"]["from_dsn"] is True
    assert nplusone(analyze(path, application="reports")) == [
        (OTHER_CHILD, "SELECT id FROM posts ORDER BY id", w.POSTS)]


@pytest.mark.parametrize("fmt", ["stderr", "csvlog", "jsonlog"])
def test_filter_from_connection_lines_when_the_prefix_has_no_database(lab: Lab, fmt: str) -> None:
    """Azure's %t-%c- has no %d: the session's "connection authorized: … database=…" line places it."""
    lab.configure(log_line_prefix="'%t-%c-'")
    path = lab.run(f"shared-azure-{fmt}", both)[fmt]
    ev = analyze(path, database="other")
    assert nplusone(ev) == [(OTHER_CHILD, "SELECT id FROM posts ORDER BY id", w.POSTS)]
    assert ev.errors == []


def test_cli_log_database_option(lab: Lab, run_cli: Callable[..., Any]) -> None:
    lab.configure(log_line_prefix="'%m [%p] %q%u@%d '")
    path = lab.run("shared-cli", both)["stderr"]
    res = run_cli("db", "--log", str(path), "--log-database", "other", "--format", "json")
    report = json.loads(res.stdout)
    samples = {q["sample"] for q in report["workload"]}
    assert OTHER_CHILD in samples and CHILD not in samples, res
    # With a DSN, its database is the default filter: shop's statements are neither listed nor EXPLAINed
    # against "other" (where they would fail or mislead).
    res = run_cli("db", lab.cluster.dsn("other"), "--log", str(path), "--format", "json")
    report = json.loads(res.stdout)
    samples = {q["sample"] for q in report["workload"]}
    assert OTHER_CHILD in samples and CHILD not in samples, res
    assert not any("authors" in str(e) for e in report["errors"]), report["errors"]


# -- syslog, Heroku logplex, Cloud SQL: the real server's lines in their wrappers ----------------------
def messages(stderr_text: str) -> list[list[str]]:
    """The server's stderr lines grouped by message: a header line and its tab-continuation lines."""
    out: list[list[str]] = []
    for line in stderr_text.splitlines():
        if line.startswith("\t") and out:
            out[-1].append(line)
        elif line:
            out.append([line])
    return out


def syslog_chunks(lines: list[str], limit: int = 900) -> list[str]:
    """PostgreSQL's write_syslog: one chunk per line, a line longer than the limit cut at a space."""
    chunks = []
    for line in lines:
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            chunks.append(line[:cut])
            line = line[cut:]
        chunks.append(line)
    return chunks


def long_orm_query(dsn: str) -> None:
    """An ORM-style statement over 900 bytes (split into syslog chunks), then the N+1."""
    cols = ", ".join(f"posts.title AS title_{i}" for i in range(60))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SELECT posts.id, {cols}\nFROM posts\nWHERE posts.id = %s", (1,)).fetchall()
    w.simple_lazy(dsn)


def to_syslog(stderr_text: str) -> str:
    out, seq = [], {}
    for msg in messages(stderr_text):
        pid = re.search(r"\[(\d+)\]", msg[0]).group(1)  # type: ignore[union-attr]
        seq[pid] = seq.get(pid, 0) + 1
        for i, chunk in enumerate(syslog_chunks(msg), 1):
            body = chunk.replace("\t", "#011")
            out.append(f"Dec  5 02:30:00 db1 postgres[{pid}]: [{seq[pid]}-{i}] {body}")
    return "\n".join(out) + "\n"


def to_logplex(stderr_text: str) -> str:
    """Heroku: '%m [%p] ' is the logplex header; what remains is Heroku's prefix 'sql_error_code = %e '."""
    out, seq = [], {}
    head = re.compile(r"^(\S+) (\S+) UTC \[(\d+)\] (.*)$")
    for msg in messages(stderr_text):
        m = head.match(msg[0])
        assert m, msg[0]
        day, clock, pid, rest = m.groups()
        seq[pid] = seq.get(pid, 0) + 1
        for i, chunk in enumerate(syslog_chunks([rest, *msg[1:]]), 1):
            out.append(f"{day}T{clock}000+00:00 app[postgres.{pid}]: [DATABASE] [{seq[pid]}-{i}] {chunk}")
    return "\n".join(out) + "\n"


def to_cloudsql(stderr_text: str) -> str:
    entries = [{"insertId": str(i), "logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",
                "resource": {"type": "cloudsql_database", "labels": {"database_id": "p:db1"}},
                "severity": "INFO", "textPayload": "\n".join(msg), "timestamp": "2026-12-05T02:30:00.123Z"}
               for i, msg in enumerate(messages(stderr_text))]
    return "".join(json.dumps(e) + "\n" for e in entries)


def same_analysis(a: Any, b: Any) -> None:
    assert sorted((q.fingerprint, q.calls) for q in a.workload) == sorted((q.fingerprint, q.calls) for q in b.workload)
    assert nplusone(a) == nplusone(b) == [(CHILD, PARENT, w.POSTS)]


@pytest.mark.parametrize(("wrapper", "prefix"), [
    (to_syslog, "%t [%p] "), (to_syslog, "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "),
    (to_logplex, "%m [%p] sql_error_code = %e "), (to_cloudsql, "%m [%p]: [%l-1] db=%d,user=%u "),
])
def test_wrapped_server_lines(lab: Lab, tmp_path: Path, wrapper: Callable[[str], str], prefix: str) -> None:
    lab.configure(log_line_prefix=f"'{prefix}'")
    plain = lab.run(f"wrapped-{wrapper.__name__}", long_orm_query)["stderr"]
    text = plain.read_text()
    assert any(len(line) > 900 for line in text.splitlines())  # the long statement is really split
    wrapped = tmp_path / "wrapped.log"
    wrapped.write_text(wrapper(text))
    ev = analyze_logs([str(wrapped)], fmt=None, prefix=None, options={})  # wrapper and prefix detected
    assert ev.errors == [] and ev.stats["log_unparsed"] == 0, ev.errors
    same_analysis(ev, analyze_logs([str(plain)], fmt="stderr", prefix=prefix, options={}))


# -- sampled logs (point 3) ---------------------------------------------------------------------------
def slow_lazy(dsn: str) -> None:
    """A slow parent, then one slow by-key read per row; fast statements in between (not logged)."""
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        posts = conn.execute("SELECT p.id, p.author_id FROM posts p, pg_sleep(0.01) ORDER BY p.id").fetchall()
        for _pid, author_id in posts:
            conn.execute("SELECT 1").fetchall()
            conn.execute("SELECT a.name FROM authors a, pg_sleep(0.006) WHERE a.id = %s", (author_id,)).fetchall()


def test_sampled_log_gives_possible_n_plus_one_only(lab: Lab) -> None:
    lab.configure(log_line_prefix="'%m [%p] %q%u@%d '", log_statement="'none'", log_min_duration_statement="5")
    try:
        path = lab.run("sampled", slow_lazy)["stderr"]
    finally:
        lab.configure(log_statement="'all'", log_min_duration_statement="-1")
    ev = analyze(path)
    assert ev.sampled and ev.min_duration_ms is not None and ev.min_duration_ms >= 5
    assert ev.stats["log_sampled"] is True
    found = findings(ev)
    assert "db.nplusone.lazy-load" not in found
    [f] = found["db.nplusone.sampled-log"]
    assert f.evidence["parent_sample"].startswith("SELECT p.id, p.author_id FROM posts")
    assert f.evidence["confidence"] == "possible"
    run = run_checks("db", _Ev(ev, ev.workload), CheckContext(ruleset=load_rules(), thresholds={}))
    for item in ("database.transactions", "caching.application_cache", "database.connection_pooling"):
        assert "log_min_duration_statement" in run.reasons.get(item, ""), (item, run.reasons.get(item))


def test_every_statement_with_its_duration_is_not_sampled(lab: Lab) -> None:
    """log_min_duration_statement = 0 also writes only "duration: … statement:" lines: not sampled."""
    lab.configure(log_line_prefix="'%m [%p] %q%u@%d '", log_statement="'none'", log_min_duration_statement="0")
    try:
        path = lab.run("all-durations", w.simple_lazy)["stderr"]
    finally:
        lab.configure(log_statement="'all'", log_min_duration_statement="-1")
    ev = analyze(path)
    assert not ev.sampled and ev.durations
    assert "db.nplusone.lazy-load" in findings(ev)


def test_server_settings_say_sampled(lab: Lab) -> None:
    """With a DSN, the server's settings tell too: log_min_duration_statement > 0 and log_statement not
    'all' make N+1 "possible" and leave transactions/cache/pooling unjudged, whatever the log looks like."""
    lab.configure(log_line_prefix="'%m [%p] %q%u@%d '")
    ev = analyze(lab.run("complete-log", w.simple_lazy)["stderr"])
    assert not ev.sampled

    class WithSettings(_Ev):
        settings: ClassVar[list[dict[str, Any]]] = [
            {"level": "server", "role": None, "name": "log_min_duration_statement", "setting": "250", "unit": "ms"},
            {"level": "server", "role": None, "name": "log_statement", "setting": "none", "unit": None}]

    run = run_checks("db", WithSettings(ev, ev.workload), CheckContext(ruleset=load_rules(), thresholds={}))
    assert {f.rule_id for f in run.findings if f.rule_id.startswith("db.nplusone")} == {"db.nplusone.sampled-log"}
    assert "about 250 ms" in run.reasons["caching.application_cache"]

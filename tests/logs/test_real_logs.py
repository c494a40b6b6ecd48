"""N+1 and friends on logs written by a real PostgreSQL 15 (stderr, csvlog and jsonlog), driven by
SQLAlchemy 2 lazy relationships over psycopg 3 (extended protocol) and by psycopg's ClientCursor
(simple protocol, literals in the log). Expected results follow from the workloads and the data:
20 posts by 10 authors, 3 comments per post (tests/logs/workloads.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from logs import workloads as w
from logs.conftest import LogLab

from apiaudit.checks import CheckContext, run_checks
from apiaudit.db.fingerprint import fingerprint
from apiaudit.db.logs import LogEvidence, analyze_logs
from apiaudit.rules import load_rules

pytestmark = pytest.mark.pg
FORMATS = ("stderr", "csvlog", "jsonlog")
AUTHOR_BY_ID = "SELECT authors.id, authors.name FROM authors WHERE authors.id = $1::INTEGER"
COMMENTS_BY_POST = ("SELECT comments.id, comments.post_id, comments.body FROM comments "
                    "WHERE $1::INTEGER = comments.post_id")
POSTS = "SELECT posts.id, posts.author_id, posts.title FROM posts ORDER BY posts.id"


@pytest.fixture(scope="module")
def logs(log_cluster: LogLab) -> dict[str, dict[str, Path]]:
    lab = log_cluster
    return {
        "lazy": lab.run("lazy", w.orm_lazy),
        "selectin": lab.run("selectin", lambda dsn: w.orm_eager(dsn, "selectin")),
        "joined": lab.run("joined", lambda dsn: w.orm_eager(dsn, "joined")),
        "requests": lab.run("requests", w.orm_separate_requests),
        "simple": lab.run("simple", w.simple_lazy),
        "gaps": lab.run("gaps", lambda dsn: w.simple_requests_with_gaps(dsn, 0.25)),
        "single_tx": lab.run("single_tx", lambda dsn: w.single_select_transactions(dsn, 15)),
        "churn": lab.run("churn", lambda dsn: w.churn(dsn, 25)),
        "hot": lab.run("hot", lambda dsn: w.hot_read(dsn, 60)),
    }


def analyze(path: Path, **options: Any) -> LogEvidence:
    return analyze_logs([str(path)], fmt=None, prefix=None, options=options)


class _Ev:
    """The two attributes of the db engine's evidence these checks read (the database half's own
    checks fail on it and are ignored here: they have tests of their own)."""

    def __init__(self, logs: LogEvidence | None, workload: list[Any] | None = None) -> None:
        self.logs, self.workload = logs, workload or []


MINE = ("apiaudit.db.checks.nplusone.", "apiaudit.db.checks.logs.")


def findings(ev: LogEvidence) -> dict[str, list[Any]]:
    ctx = CheckContext(ruleset=load_rules(), thresholds={})
    run = run_checks("db", _Ev(ev, ev.workload), ctx)
    assert [e for e in run.errors if e["where"].startswith(tuple("check " + m for m in MINE))] == []
    out: dict[str, list[Any]] = {}
    for f in run.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_lazy_one_to_many_and_many_to_one_interleaved(logs: dict[str, dict[str, Path]], fmt: str) -> None:
    ev = analyze(logs["lazy"][fmt])
    assert ev.errors == [] and ev.grouping is None
    got = {(p.child_sample, p.parent_sample): (p.units, p.statements) for p in ev.nplusone}
    # one comments query per post (20); one author query per distinct author (10: the identity map
    # serves the second post of each author)
    assert got == {(COMMENTS_BY_POST, POSTS): (1, w.POSTS), (AUTHOR_BY_ID, POSTS): (1, w.AUTHORS)}
    found = findings(ev)["db.nplusone.lazy-load"]
    assert {f.location["sample"] for f in found} == {COMMENTS_BY_POST, AUTHOR_BY_ID}
    author = next(f for f in found if f.location["sample"] == AUTHOR_BY_ID)
    assert any(form in author.vars["batched_sql"] for form in ("= ANY(CAST($1 AS INTEGER[]))", "= ANY($1::INTEGER[])"))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["selectin", "joined"])
def test_eager_loading_is_not_n_plus_one(logs: dict[str, dict[str, Path]], fmt: str, how: str) -> None:
    ev = analyze(logs[how][fmt])
    assert ev.errors == [] and ev.nplusone == []
    assert "db.nplusone.lazy-load" not in findings(ev)


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_query_in_separate_requests_is_not_n_plus_one(logs: dict[str, dict[str, Path]],
                                                           fmt: str) -> None:
    ev = analyze(logs["requests"][fmt])
    author_get = next(q for q in ev.workload if q.sample == AUTHOR_BY_ID)
    assert author_get.calls == w.AUTHORS  # all ran, on one pooled connection, one transaction each
    assert ev.nplusone == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_simple_protocol_autocommit_loop(logs: dict[str, dict[str, Path]], fmt: str) -> None:
    ev = analyze(logs["simple"][fmt])
    assert [(p.child_sample, p.parent_sample, p.statements) for p in ev.nplusone] == [
        ("SELECT id, name FROM authors WHERE id = $1", "SELECT id, author_id, title FROM posts ORDER BY id",
         w.POSTS)]


def test_idle_gaps_split_autocommit_requests(logs: dict[str, dict[str, Path]]) -> None:
    path = logs["gaps"]["stderr"]
    assert analyze(path, idle_gap_ms=100).nplusone == []  # 250 ms between requests: ten units
    assert len(analyze(path, idle_gap_ms=60_000).nplusone) == 1  # one long unit: looks like a loop


def test_log_and_pg_stat_statements_share_fingerprints(log_cluster: LogLab,
                                                       logs: dict[str, dict[str, Path]]) -> None:
    ev = analyze(logs["simple"]["stderr"])
    with psycopg.connect(log_cluster.dsn, autocommit=True) as conn:
        texts = [r[0] for r in conn.execute("SELECT query FROM pg_stat_statements WHERE query LIKE "
                                            "'SELECT id, name%FROM authors%'")]
    assert texts and {fingerprint(t)[0] for t in texts} == {ev.nplusone[0].child}


def test_single_select_transactions(logs: dict[str, dict[str, Path]]) -> None:
    ev = analyze(logs["single_tx"]["csvlog"])
    [f] = findings(ev)["db.tx.single-select"]
    assert f.location["sample"] == "SELECT title FROM posts WHERE id = $1"
    assert f.evidence["transactions"] == 15


def test_connection_churn(logs: dict[str, dict[str, Path]]) -> None:
    ev = analyze(logs["churn"]["jsonlog"])
    assert ev.sessions.sessions >= 25 and ev.sessions.median_statements == 1
    [churn] = findings(ev)["db.pool.connection-churn"]
    assert churn.evidence["sessions"] == ev.sessions.sessions
    pooled = analyze(logs["requests"]["jsonlog"])
    assert "db.pool.connection-churn" not in findings(pooled)


def test_hot_identical_reads(logs: dict[str, dict[str, Path]]) -> None:
    ev = analyze(logs["hot"]["stderr"])
    [f] = findings(ev)["db.cache.hot-read"]
    assert f.location["sample"] == "SELECT name FROM authors WHERE id = $1" and f.evidence["repeats"] == 60
    assert ev.nplusone == []  # same parameters every time: a cache candidate, not a loop over rows


def test_all_formats_of_one_run_agree(logs: dict[str, dict[str, Path]]) -> None:
    summaries = []
    for fmt in FORMATS:
        ev = analyze(logs["lazy"][fmt])
        summaries.append(sorted((q.fingerprint, q.calls) for q in ev.workload))
    assert summaries[0] == summaries[1] == summaries[2]


def test_no_log_means_not_assessed() -> None:
    ctx = CheckContext(ruleset=load_rules(), thresholds={})
    run = run_checks("db", _Ev(None), ctx)
    assert "database.n_plus_one" in run.reasons
    assert "no query log" in run.reasons["database.n_plus_one"] or "pg_stat_statements" in run.reasons[
        "database.n_plus_one"]

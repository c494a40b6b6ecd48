"""Issue 12 item 6: every command ends by its --deadline against a peer that stalls, and says what it
finished. Each peer is a stdlib server on 127.0.0.1 (tests/hostile/stalling.py); the wall-time bound is
the deadline plus generous slack for process start on a loaded machine."""

from __future__ import annotations

import json
from pathlib import Path

from hostile.measure import run_measured
from hostile.stalling import (
    http_slow_drip,
    http_tarpit,
    json_reply,
    memcached_endless_line,
    memcached_endless_stats,
    pg_silent_after_auth,
    redis_trickle,
    serve_http,
    serve_tcp,
)

DEADLINE = 4
SLACK = 10


def _bounded(run, code: tuple[int, ...]) -> None:
    assert not run.timed_out, run
    assert not run.has_traceback() and not run.internal_error(), run
    assert run.code in code, run
    assert run.wall_s < DEADLINE + SLACK, run


def test_db_against_a_postgres_that_goes_silent_after_auth(tmp_path: Path) -> None:
    with serve_tcp(pg_silent_after_auth) as port:
        run = run_measured("db", f"postgresql://postgres@127.0.0.1:{port}/x?sslmode=disable",
                           "--deadline", str(DEADLINE), "--format", "json", cwd=tmp_path, timeout=90)
    _bounded(run, (3,))
    assert f"deadline of {DEADLINE} s reached" in run.stderr, run


def test_cache_against_a_redis_trickling_info(tmp_path: Path) -> None:
    with serve_tcp(redis_trickle) as port:
        run = run_measured("cache", f"redis://127.0.0.1:{port}/0", "--deadline", str(DEADLINE),
                           "--format", "json", cwd=tmp_path, timeout=90)
    _bounded(run, (3,))
    assert f"deadline of {DEADLINE} s reached" in run.stderr, run


def test_cache_against_a_memcached_with_endless_stats(tmp_path: Path) -> None:
    with serve_tcp(memcached_endless_stats) as port:
        run = run_measured("cache", f"memcached://127.0.0.1:{port}", "--deadline", str(DEADLINE),
                           "--format", "json", cwd=tmp_path, timeout=90)
    _bounded(run, (3,))
    assert run.rss_mb < 200, run


def test_memcached_endless_metadump_line_is_cut_and_the_rest_reported(tmp_path: Path) -> None:
    with serve_tcp(memcached_endless_line) as port:
        run = run_measured("cache", f"memcached://127.0.0.1:{port}", "--deadline", str(DEADLINE),
                           "--format", "json", cwd=tmp_path, timeout=90)
    _bounded(run, (0, 1))
    assert run.rss_mb < 200, run
    report = run.report()
    assert report is not None and "metadump" in json.dumps(report["errors"]), run


def test_scan_against_a_tarpit_stops_at_the_deadline_and_says_what_it_finished(tmp_path: Path) -> None:
    with serve_http(http_tarpit(0.8, 3)) as (url, hits):
        run = run_measured("scan", f"{url}/a", f"{url}/b", f"{url}/c", "--timeout", "1",
                           "--deadline", str(DEADLINE), "--format", "json", cwd=tmp_path, timeout=120)
    _bounded(run, (0, 1))
    report = run.report()
    assert report is not None
    said = [e["message"] for e in report["errors"] if e["where"] == "deadline"]
    assert said and f"deadline of {DEADLINE} s reached after" in said[0] and "of 3 endpoints" in said[0], said
    assert len(hits) < 30


def test_scan_against_a_slow_drip_body_exits_3_when_nothing_was_audited(tmp_path: Path) -> None:
    with serve_http(http_slow_drip) as (url, _hits):
        run = run_measured("scan", f"{url}/a", "--timeout", "10", "--deadline", str(DEADLINE),
                           "--format", "json", cwd=tmp_path, timeout=120)
    _bounded(run, (3,))
    assert "deadline" in run.stderr, run


def test_a_quick_server_is_not_cut(tmp_path: Path) -> None:
    with serve_http(lambda req: json_reply([{"id": 1}])) as (url, _hits):
        run = run_measured("scan", f"{url}/a", "--samples", "0", "--deadline", "60", "--format", "json",
                           cwd=tmp_path, timeout=120)
    assert run.code in (0, 1), run
    report = run.report()
    assert report is not None and not [e for e in report["errors"] if e["where"] == "deadline"]

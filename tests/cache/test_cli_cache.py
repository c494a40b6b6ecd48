"""`apiaudit cache` through the installed console script: exit codes, ACL degradation, secrets,
config targets and combined evidence from saved reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from apiaudit import pgcluster

PASSWORD = "s3cret-pass-42"


def _clean(res: Any) -> None:
    assert "Traceback" not in res.stderr + res.stdout, res
    assert PASSWORD not in res.stderr + res.stdout, res


def test_bad_urls_are_usage_errors(run_cli: Callable[..., Any]) -> None:
    for url in ("http://127.0.0.1:6379", "redis://127.0.0.1:notaport/0", "redis:///0",
                f"memcached://u:{PASSWORD}@127.0.0.1:11211"):
        res = run_cli("cache", url, "-f", "json")
        assert res.code == 2, res
        _clean(res)


def test_no_target_is_a_usage_error(run_cli: Callable[..., Any]) -> None:
    res = run_cli("cache", "-f", "json")
    assert res.code == 2 and "no cache URL" in res.stderr, res


def test_refused_connection_exits_3(run_cli: Callable[..., Any]) -> None:
    port = pgcluster.free_port()  # nothing listens there
    for url in (f"redis://127.0.0.1:{port}/0", f"memcached://127.0.0.1:{port}"):
        res = run_cli("cache", url, "-f", "json")
        assert res.code == 3, res
        assert "cannot connect" in res.stderr, res
        _clean(res)


def test_tls_url_against_a_plain_server_exits_3(redis_server: Callable[..., Any],
                                                run_cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "apiaudit.yaml").write_text("cache:\n  timeout_s: 0.5\n")
    with redis_server() as port:
        res = run_cli("cache", f"rediss://127.0.0.1:{port}/0", "-f", "json")
    # the TLS handshake gets no TLS answer: refused or timed out, either way exit 3
    assert res.code == 3 and f"rediss://127.0.0.1:{port}/0" in res.stderr, res
    _clean(res)


def _acl_server(r: redis.Redis) -> None:
    # auditor may read INFO, SCAN and PTTL/TYPE/OBJECT, but not CONFIG or MEMORY; nosy may not even INFO.
    r.execute_command("ACL", "SETUSER", "auditor", "on", f">{PASSWORD}", "~*", "+info", "+scan", "+pttl",
                      "+type", "+object", "+ping")
    r.execute_command("ACL", "SETUSER", "nosy", "on", f">{PASSWORD}", "~*", "+scan", "+pttl", "+type",
                      "+ping")
    for i in range(10):
        r.set(f"user:{i}", "v")


def test_acl_restricted_users_degrade_with_notices(redis_server: Callable[..., Any],
                                                   run_cli: Callable[..., Any]) -> None:
    with redis_server() as port:
        _acl_server(redis.Redis(port=port))
        res = run_cli("cache", f"redis://auditor:{PASSWORD}@127.0.0.1:{port}/0", "-f", "json",
                      "--fail-on", "none")
        info_denied = run_cli("cache", f"redis://nosy:{PASSWORD}@127.0.0.1:{port}/0", "-f", "json",
                              "--fail-on", "none")
        wrong = run_cli("cache", f"redis://auditor:wrong-{PASSWORD}@127.0.0.1:{port}/0", "-f", "json")
    for r in (res, info_denied, wrong):
        _clean(r)
    assert res.code == 0, res
    rep = json.loads(res.stdout)
    notes = " | ".join(e["message"] for e in rep["errors"])
    assert "CONFIG GET is not permitted" in notes and "MEMORY on sampled keys is not permitted" in notes
    assert rep["targets"] == [f"redis://127.0.0.1:{port}/0"]
    assert {f["rule"] for f in rep["findings"]} >= {"cache.ttl.no-expiry", "cache.memory.no-limit"}
    items = {c["id"]: c for c in rep["checklist"]}
    assert "sizes not visible" in items["api.response_size"]["reason"]

    assert info_denied.code == 0, info_denied
    rep2 = json.loads(info_denied.stdout)
    assert any("INFO is not permitted" in e["message"] for e in rep2["errors"])
    items2 = {c["id"]: c for c in rep2["checklist"]}
    assert items2["caching.hit_rate"]["status"] == "not_assessed"
    assert items2["caching.invalidation"]["status"] == "warn"  # SCAN and PTTL still work

    assert wrong.code == 3 and "authentication failed" in wrong.stderr, wrong


def _saved_report(kind: str, findings: list[dict[str, Any]],
                  workload: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schema_version": 1, "kind": kind, "targets": [], "started_at": "2026-11-29T00:00:00Z",
            "duration_s": 1.0, "score": {}, "checklist": [], "findings": findings, "workload": workload,
            "stats": {}, "errors": [], "measurements": {}}


def _finding(fid: str, rule: str, item: str, url: str) -> dict[str, Any]:
    return {"id": fid, "rule": rule, "severity": "high", "checklist": item, "title": "t", "message": "m",
            "location": {"url": url, "method": "GET"}, "evidence": {}, "fix": "", "fingerprint": f"fp-{fid}"}


def test_config_targets_and_with_report(redis_server: Callable[..., Any], run_cli: Callable[..., Any],
                                        tmp_path: Path) -> None:
    url = "http://127.0.0.1:8000/api/products"
    scan = _saved_report("scan", [_finding("f1", "http.latency.slow", "monitoring.latency", url),
                                  _finding("f2", "http.cache.none", "caching.http_headers", url),
                                  _finding("f3", "http.latency.slow", "monitoring.latency", url + "/9")], [])
    db = _saved_report("db", [], [
        {"fingerprint": "q1", "sample": "SELECT * FROM products WHERE id = $1", "calls": 3000,
         "source": "log"},
        {"fingerprint": "q2", "sample": "INSERT INTO orders VALUES ($1)", "calls": 3000, "source": "log"}])
    (tmp_path / "scan.json").write_text(json.dumps(scan))
    (tmp_path / "db.json").write_text(json.dumps(db))
    with redis_server() as port:
        r = redis.Redis(port=port)
        r.set("product:1", "v", ex=600)
        for i in range(40):
            r.get("product:1" if i < 10 else f"product:{i}")  # 10 hits, 30 misses: 25 %
        (tmp_path / "apiaudit.yaml").write_text(
            f"targets:\n  cache: [redis://127.0.0.1:{port}/0]\n"
            "cache:\n  min_lookups: 40\n  sample_keys: 100\n")
        res = run_cli("cache", "--with-report", "scan.json", "--with-report", "db.json", "-f", "json")
    _clean(res)
    assert res.code == 1, res  # cache.hitrate.critical is high -> gate fails
    rep = json.loads(res.stdout)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in rep["findings"]:
        by_rule.setdefault(f["rule"], []).append(f)
    assert by_rule["cache.hitrate.critical"][0]["evidence"]["hit_rate_pct"] == 25.0
    combined = by_rule["cache.combined.slow-uncached"]
    assert [f["location"] for f in combined] == [{"url": url, "method": "GET"}]  # only the URL in both
    aside = by_rule["cache.combined.cache-aside-candidate"]
    assert [f["location"]["fingerprint"] for f in aside] == ["q1"]  # the INSERT is no read
    assert rep["stats"]["related_reports"] == 2


def test_silent_server_times_out_with_exit_3(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    import socket

    with socket.socket() as listener:  # accepts TCP connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        (tmp_path / "apiaudit.yaml").write_text("cache:\n  timeout_s: 0.5\n")
        for url in (f"redis://127.0.0.1:{port}/0", f"memcached://127.0.0.1:{port}"):
            res = run_cli("cache", url, "-f", "json")
            assert res.code == 3, res
            assert "timed out" in res.stderr, res
            _clean(res)

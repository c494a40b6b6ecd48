"""The cache audit against a real redis-server: findings and their numbers, read-only proof, bounds."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import redis

from apiaudit.cache.audit import CacheOptions, run_cache_audit
from apiaudit.config import Config
from apiaudit.model import Report

MIB = 1024 * 1024
# Every command the audit may send; anything else in INFO commandstats must stay unchanged.
READ_ONLY = {"info", "scan", "pttl", "type", "memory|usage", "object|freq", "config|get", "select", "auth",
             "ping"}


def audit(cfg: Config, port: int, **kw: Any) -> Report:
    sample = kw.pop("sample_keys", None)
    options = CacheOptions.from_cli(cfg, urls=[f"redis://127.0.0.1:{port}/0"], sample_keys=sample)
    return run_cache_audit(options, cfg)


def rules_of(rep: Report) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for f in rep.findings:
        out.setdefault(f.rule, []).append(f)
    return out


def commandstats(r: redis.Redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in r.info("commandstats").items()}


def fill_shop(r: redis.Redis) -> None:
    for i in range(1, 21):
        r.set(f"product:{i}", "p" * 50, ex=1200)  # medium band (10-30 min)
        r.set(f"user:{i}", "u" * 50, ex=120 if i <= 10 else None)  # half without expiry
    for i in range(1, 7):
        r.set(f"session:{i}", "s", ex=7200)  # "session" suggests short; 2 h is the long band
    for i in range(1, 6):
        r.set(f"config:{i}", "c", ex=200_000)  # 55.6 h: beyond the guide's 24 h
    r.set("blob:report", "x" * (2 * MIB))  # one 2 MiB value
    for i in range(600):
        r.get(f"product:{i % 20 + 1}")  # 600 hits
    for i in range(400):
        r.get(f"missing:{i}")  # 400 misses -> 60 % hit rate


def test_redis_findings_numbers_and_read_only(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server("--maxmemory", "64mb", "--maxmemory-policy", "noeviction") as port:
        r = redis.Redis(port=port)
        fill_shop(r)
        keys_before = sorted(r.scan_iter(count=1000))
        before = commandstats(r)
        rep = audit(cache_cfg, port)
        after = commandstats(r)
        used = int(r.info("memory")["used_memory"])
        assert sorted(r.scan_iter(count=1000)) == keys_before

    changed = {name for name in after if after[name] != before.get(name, 0)}
    assert changed <= READ_ONLY, changed - READ_ONLY
    assert "keys" not in after and "set" in after and after["set"] == before["set"]

    found = rules_of(rep)
    assert set(found) == {"cache.hitrate.low", "cache.ttl.no-expiry", "cache.ttl.over-long",
                          "cache.ttl.band-mismatch", "cache.memory.noeviction", "cache.key.big"}
    hit = found["cache.hitrate.low"][0]
    assert (hit.evidence["hits"], hit.evidence["misses"], hit.evidence["hit_rate_pct"]) == (600, 400, 60.0)
    no_exp = found["cache.ttl.no-expiry"][0]
    assert no_exp.location["key_prefix"] == "user:"
    assert (no_exp.evidence["no_expiry"], no_exp.evidence["sampled"], no_exp.evidence["no_expiry_pct"]) == (
        10, 20, 50.0)
    over = found["cache.ttl.over-long"][0]
    assert over.location["key_prefix"] == "config:" and over.evidence["keys_over_24h"] == 5
    assert 190_000 < over.evidence["ttl_max_s"] <= 200_000
    mismatch = {f.location["key_prefix"]: f for f in found["cache.ttl.band-mismatch"]}
    assert set(mismatch) == {"session:", "config:"}
    assert "short cache data" in mismatch["session:"].message and "(long)" in mismatch["session:"].message
    noev = found["cache.memory.noeviction"][0]
    assert noev.evidence["maxmemory"] == 64 * MIB
    assert abs(noev.evidence["used_memory"] - used) < MIB
    big = found["cache.key.big"][0]
    assert big.location["key_prefix"] == "blob:" and big.evidence["count"] == 1
    assert big.evidence["largest"][0]["type"] == "string" and big.evidence["largest"][0]["bytes"] > 2 * MIB

    m = rep.measurements["cache"]["servers"][0]
    assert m["hit_rate_pct"] == 60.0 and (m["hits"], m["misses"]) == (600, 400)
    assert m["keys"] == {"total": 52, "with_expiry": 41, "sampled": 52, "sample_complete": True}
    prefixes = {p["prefix"]: p for p in m["prefixes"]}
    assert (prefixes["user:"]["keys"], prefixes["user:"]["no_expiry"]) == (20, 10)
    assert prefixes["product:"]["histogram"]["10-30m"] == 20
    assert m["audit_lookups"] == 52 + 20  # PTTL per sampled key + TYPE on the 20 largest
    status = {c.id: c.status for c in rep.checklist}
    assert status["caching.hit_rate"] == "warn" and status["caching.application_cache"] == "fail"
    assert status["api.response_size"] == "warn"


def test_evictions_counted(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru") as port:
        r = redis.Redis(port=port)
        for i in range(600):
            r.set(f"page:{i}", "v" * 10_000, ex=600)  # ~6 MB into a 4 MB cache
        evicted_before = int(r.info("stats")["evicted_keys"])
        rep = audit(cache_cfg, port)
        evicted_after = int(r.info("stats")["evicted_keys"])
    assert evicted_before > 0
    ev = rules_of(rep)["cache.memory.evictions"][0]
    assert evicted_before <= ev.evidence["evicted_keys"] <= evicted_after
    assert ev.evidence["policy"] == "allkeys-lru" and "cache.memory.noeviction" not in rules_of(rep)


def test_hot_keys_from_lfu_and_no_touch(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    # lfu-log-factor 0: every access adds one to the counter (initial value 5); decay off.
    args = ("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0",
            "--lfu-decay-time", "0")
    with redis_server(*args) as port:
        r = redis.Redis(port=port)
        r.set("hot:a", "1", ex=300)
        for i in range(5):
            r.set(f"cold:{i}", "1", ex=300)
            r.get(f"cold:{i}")
        for _ in range(150):
            r.get("hot:a")
        first = audit(cache_cfg, port)
        second = audit(cache_cfg, port)  # the audit must not have touched the LFU counters
    for rep in (first, second):
        hot = rules_of(rep)["cache.key.hot"]
        assert [(f.location["key_prefix"], f.evidence["hottest"][0]["lfu"]) for f in hot] == [("hot:", 155)]


def _client_socket(port: int) -> tuple[socket.socket, bytes]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"PING\r\n")
    return s, s.recv(200)


def test_connections_near_limit_rejected_blocked(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server("--maxclients", "10") as port:
        held = [_client_socket(port) for _ in range(10)]
        assert all(reply == b"+PONG\r\n" for _, reply in held)
        extra = [_client_socket(port) for _ in range(2)]  # over maxclients: refused
        assert all(b"max number of clients" in reply for _, reply in extra)
        for s, _ in held[8:] + extra:
            s.close()
        held[0][0].sendall(b"BLPOP queue 0\r\n")  # one client blocked
        rep = audit(cache_cfg, port)
        for s, _ in held[:8]:
            s.close()
    found = rules_of(rep)
    assert found["cache.connections.rejected"][0].evidence["rejected_connections"] == 2
    near = found["cache.connections.near-limit"][0].evidence
    assert near["maxclients"] == 10 and near["connected_clients"] in (9, 10)  # 8 held + the audit
    assert found["cache.connections.blocked"][0].evidence["blocked_clients"] == 1


def test_sample_cap_and_scan_bounds(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server() as port:
        r = redis.Redis(port=port)
        for i in range(300):
            r.set(f"item:{i}", "v", ex=600)
        before = commandstats(r)
        rep = audit(cache_cfg, port, sample_keys=50)
        after = commandstats(r)
    m = rep.measurements["cache"]["servers"][0]
    assert m["keys"]["sampled"] == 50 and m["keys"]["sample_complete"] is False and m["keys"]["total"] == 300
    assert any("capped at 50 keys" in e["message"] for e in rep.errors)
    # PTTL only on sampled keys; SCAN batches of COUNT 100 stop once the cap is reached
    assert after["pttl"] - before.get("pttl", 0) == 50
    assert after["scan"] - before.get("scan", 0) == 1

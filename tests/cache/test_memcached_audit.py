"""The cache audit against a real memcached: stats, bounded metadump, read-only proof."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymemcache.client.base import Client

from apiaudit.cache.audit import CacheOptions, run_cache_audit
from apiaudit.config import Config
from apiaudit.model import Report

# Counters a write, delete, touch, flush or read by the audit would move.
WRITE_COUNTERS = ("cmd_set", "cmd_touch", "cmd_flush", "delete_hits", "delete_misses", "incr_hits",
                  "incr_misses", "decr_hits", "decr_misses", "cas_hits", "cas_misses", "cmd_get", "get_hits",
                  "get_misses")


def audit(cfg: Config, port: int) -> Report:
    options = CacheOptions.from_cli(cfg, urls=[f"memcached://127.0.0.1:{port}"], sample_keys=None)
    return run_cache_audit(options, cfg)


def counters(c: Client) -> dict[str, int]:
    stats = {k.decode(): v for k, v in c.stats().items()}
    return {name: int(stats[name]) for name in WRITE_COUNTERS if name in stats}


def fill(c: Client) -> None:
    for i in range(1, 21):
        c.set(f"user:{i}", b"u", expire=120 if i <= 10 else 0)  # half never expire
    for i in range(1, 11):
        c.set(f"product:{i}", b"p", expire=1200)
    for i in range(300):
        c.get(f"product:{i % 10 + 1}")  # 300 hits
    for i in range(700):
        c.get(f"missing:{i}")  # 700 misses -> 30 %


def test_memcached_findings_and_read_only(memcached_server: Callable[..., Any], cache_cfg: Config) -> None:
    with memcached_server("-m", "64", "-M") as port:  # -M: return errors instead of evicting
        c = Client(("127.0.0.1", port))
        fill(c)
        before = counters(c)
        rep = audit(cache_cfg, port)
        assert counters(c) == before
        c.close()
    found: dict[str, Any] = {}
    for f in rep.findings:
        found.setdefault(f.rule, f)
    assert set(found) == {"cache.hitrate.critical", "cache.ttl.no-expiry", "cache.memory.noeviction"}
    hit = found["cache.hitrate.critical"].evidence
    assert (hit["hits"], hit["misses"], hit["hit_rate_pct"]) == (300, 700, 30.0)
    no_exp = found["cache.ttl.no-expiry"]
    assert no_exp.location["key_prefix"] == "user:"
    assert (no_exp.evidence["no_expiry"], no_exp.evidence["sampled"]) == (10, 20)
    assert found["cache.memory.noeviction"].evidence["maxmemory"] == 64 * 1024 * 1024
    m = rep.measurements["cache"]["servers"][0]
    assert m["engine"] == "memcached" and m["keys"]["sampled"] == 30 and m["keys"]["sample_complete"] is True
    product = next(p for p in m["prefixes"] if p["prefix"] == "product:")
    assert product["no_expiry"] == 0 and 1100 < product["ttl_max_s"] <= 1200
    assert product["histogram"]["10-30m"] == 10


def test_memcached_without_metadump_cannot_judge_ttls(memcached_server: Callable[..., Any],
                                                      cache_cfg: Config) -> None:
    with memcached_server("-X") as port:  # -X: disable lru_crawler metadump
        c = Client(("127.0.0.1", port))
        for i in range(10):
            c.set(f"user:{i}", b"u", expire=0)
        rep = audit(cache_cfg, port)
        c.close()
    items = {c.id: c for c in rep.checklist}
    assert items["caching.invalidation"].status == "not_assessed"
    assert "TTL strategy cannot be judged" in (items["caching.invalidation"].reason or "")
    assert any("metadump is not available" in e["message"] for e in rep.errors)
    assert not [f for f in rep.findings if f.rule.startswith("cache.ttl.")]

"""Cache rules raised against a real redis-server that the other cache tests do not produce
(rule-coverage gate, issue 13). Thresholds are lowered through the config where the real condition
needs gigabytes (fragmentation): the evidence still comes from the live server's INFO."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import redis

from apiaudit.cache.audit import CacheOptions, run_cache_audit
from apiaudit.config import Config
from apiaudit.model import Report


def _audit(cfg: Config, port: int) -> Report:
    return run_cache_audit(CacheOptions.from_cli(cfg, urls=[f"redis://127.0.0.1:{port}/0"], sample_keys=None), cfg)


def test_volatile_policy_with_keys_that_never_expire(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server("--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru") as port:
        r = redis.Redis(port=port)
        for i in range(30):
            r.set(f"session:{i}", "x" * 20, ex=120)
        for i in range(70):
            r.set(f"product:{i}", "x" * 20)  # no TTL: volatile-lru can never evict these
        found = [f for f in _audit(cache_cfg, port).findings if f.rule == "cache.memory.volatile-no-ttl"]
    assert len(found) == 1
    assert found[0].evidence["keys"] == 100 and found[0].evidence["keys_with_expiry"] == 30
    assert "volatile-lru" in found[0].message and "70" in found[0].message


def test_volatile_policy_with_every_key_expiring_passes(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    with redis_server("--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru") as port:
        r = redis.Redis(port=port)
        for i in range(20):
            r.set(f"session:{i}", "x", ex=120)
        rules = {f.rule for f in _audit(cache_cfg, port).findings}
    assert "cache.memory.volatile-no-ttl" not in rules


def test_fragmentation_from_the_servers_own_info(redis_server: Callable[..., Any], cache_cfg: Config) -> None:
    # A fresh redis-server's RSS is several times its tiny used_memory (ratio well above 1): real INFO
    # figures, with the wasted-bytes floor lowered from 64 MiB so no gigabytes are needed.
    with redis_server() as port:
        info = redis.Redis(port=port).info("memory")
        cfg = replace(cache_cfg, thresholds={"cache_fragmentation_min_mib": 0, "cache_fragmentation_max_ratio": 1.0})
        found = [f for f in _audit(cfg, port).findings if f.rule == "cache.memory.fragmentation"]
        quiet = {f.rule for f in _audit(cache_cfg, port).findings}
    assert info["mem_fragmentation_ratio"] > 1.0 and info["mem_fragmentation_bytes"] > 0, info
    assert len(found) == 1 and found[0].evidence["mem_fragmentation_ratio"] > 1.0
    assert "cache.memory.fragmentation" not in quiet  # the default 64 MiB floor: a small instance is noise

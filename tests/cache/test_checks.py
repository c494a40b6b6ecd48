"""Pure cache checks on hand-built evidence; expected numbers derived from the inputs."""

from __future__ import annotations

from typing import Any

import pytest

from apiaudit.assemble import assemble
from apiaudit.cache.evidence import CacheEvidence, KeySample, RelatedEvidence, display_key, key_prefix
from apiaudit.cache.stats import band_of, prefix_stats
from apiaudit.checks import CheckContext, CheckRun, run_checks
from apiaudit.config import Config
from apiaudit.model import Finding

SERVER = "redis://127.0.0.1:6379/0"
MIB = 1024 * 1024


def make(**kw: Any) -> CacheEvidence:
    base: dict[str, Any] = {
        "server": SERVER, "engine": "redis", "uptime_s": 7200, "hits": 900, "misses": 100, "evicted_keys": 0,
        "used_memory": 10 * MIB, "maxmemory": 100 * MIB, "policy": "allkeys-lru", "connected_clients": 5,
        "maxclients": 10000, "rejected_connections": 0, "blocked_clients": 0,
    }
    base.update(kw)
    return CacheEvidence(**base)


def keys(prefix: str, ttls: list[float | None], size: int = 100, freq: int | None = None) -> list[KeySample]:
    return [KeySample(key=f"{prefix}{i}", prefix=prefix, type="string", ttl_s=t, size_bytes=size, freq=freq)
            for i, t in enumerate(ttls)]


def run(ev: CacheEvidence, cfg: Config, **options: Any) -> CheckRun:
    ctx = CheckContext(ruleset=cfg.ruleset, thresholds=dict(options.pop("thresholds", {})),
                       options={"min_lookups": 1000, **options})
    return run_checks("cache", ev, ctx)


def by_rule(result: CheckRun) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in result.findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_healthy_cache_has_no_findings_and_judges_cache_items(cache_cfg: Config) -> None:
    result = run(make(keys=keys("user:", [120.0] * 10)), cache_cfg)
    assert result.findings == []
    assert {"caching.hit_rate", "caching.invalidation", "caching.application_cache"} <= result.covered
    assert "api.response_size" not in result.covered  # no big key: left to the API scan


@pytest.mark.parametrize(("hits", "misses", "rule", "rate"), [
    (790, 210, "cache.hitrate.low", "79"),  # 79 % < 80 % warning
    (500, 500, "cache.hitrate.low", "50"),  # exactly 50 % is not below the critical level
    (499, 501, "cache.hitrate.critical", "49.9"),
])
def test_hit_rate_levels(cache_cfg: Config, hits: int, misses: int, rule: str, rate: str) -> None:
    found = by_rule(run(make(hits=hits, misses=misses), cache_cfg))
    assert list(found) == [rule]
    assert found[rule][0].vars["hit_rate"] == rate
    assert found[rule][0].evidence["lookups"] == 1000


def test_hit_rate_needs_enough_lookups(cache_cfg: Config) -> None:
    result = run(make(hits=10, misses=89, uptime_s=65), cache_cfg)
    assert "caching.hit_rate" not in result.covered
    reason = result.reasons["caching.hit_rate"]
    assert "only 99 lookups" in reason and "1 min 5 s" in reason and "1000" in reason


def test_hit_rate_threshold_override(cache_cfg: Config) -> None:
    found = by_rule(run(make(hits=900, misses=100), cache_cfg, thresholds={"cache_hit_rate_warn_pct": 95}))
    assert found["cache.hitrate.low"][0].vars["hit_rate"] == "90"


def test_no_expiry_share_per_prefix(cache_cfg: Config) -> None:
    sample = keys("user:", [None] * 3 + [100.0] * 7) + keys("product:", [None] * 2 + [900.0] * 8)
    found = by_rule(run(make(keys=sample), cache_cfg))["cache.ttl.no-expiry"]
    # user: 3/10 = 30 % > 25 %; product: 2/10 = 20 % is within the limit
    got = [(f.location["key_prefix"], f.vars["share"], f.vars["no_expiry"]) for f in found]
    assert got == [("user:", "30", 3)]


def test_small_prefixes_are_not_judged(cache_cfg: Config) -> None:
    result = run(make(keys=keys("user:", [None] * 4)), cache_cfg)
    assert "cache.ttl.no-expiry" not in by_rule(result)
    assert "at least 5 sampled keys" in result.reasons["caching.invalidation"]


def test_over_long_and_band_mismatch(cache_cfg: Config) -> None:
    sample = (keys("config:", [90000.0, 50000.0, 3000.0, 100.0, 200.0])  # longest 25 h > 24 h
              + keys("session:", [7000.0] * 5)  # "session" hints short (1-5 min); 7000 s is the long band
              + keys("product:", [1500.0] * 5))  # medium hint, medium band: fine
    found = by_rule(run(make(keys=sample), cache_cfg))
    over = found["cache.ttl.over-long"]
    assert [(f.location["key_prefix"], f.vars["ttl_h"], f.evidence["keys_over_24h"]) for f in over] == [
        ("config:", "25.0", 1)]
    mismatch = {f.location["key_prefix"]: f.vars for f in found["cache.ttl.band-mismatch"]}
    assert mismatch["session:"]["hint"] == "short" and mismatch["session:"]["band"] == "long"
    assert mismatch["config:"]["band"] == "over 24 h"
    assert "product:" not in mismatch


def test_memory_policy_rules(cache_cfg: Config) -> None:
    found = by_rule(run(make(maxmemory=0, used_memory=3 * MIB, policy="noeviction"), cache_cfg))
    assert found["cache.memory.no-limit"][0].vars["used_mib"] == "3.0"
    assert "cache.memory.noeviction" not in found
    found = by_rule(run(make(maxmemory=100 * MIB, used_memory=90 * MIB, policy="noeviction"), cache_cfg))
    assert found["cache.memory.noeviction"][0].vars["used_pct"] == "90"


def test_volatile_policy_with_keys_without_ttl(cache_cfg: Config) -> None:
    ev = make(policy="volatile-lru", total_keys=1000, keys_with_expiry=300)
    found = by_rule(run(ev, cache_cfg))["cache.memory.volatile-no-ttl"][0]
    assert (found.vars["without"], found.vars["pct"]) == (700, "70")
    fine = make(policy="volatile-lru", total_keys=1000, keys_with_expiry=600)  # 40 % <= 50 %
    assert "cache.memory.volatile-no-ttl" not in by_rule(run(fine, cache_cfg))
    lru = make(total_keys=1000, keys_with_expiry=0)  # allkeys-lru can evict any key
    assert "cache.memory.volatile-no-ttl" not in by_rule(run(lru, cache_cfg))


def test_evictions_and_fragmentation(cache_cfg: Config) -> None:
    ev = make(evicted_keys=360, uptime_s=7200, fragmentation_ratio=1.8, fragmentation_bytes=100 * MIB)
    found = by_rule(run(ev, cache_cfg))
    assert found["cache.memory.evictions"][0].evidence["evicted_per_hour"] == 180.0
    assert found["cache.memory.fragmentation"][0].vars == {"ratio": "1.8", "wasted_mib": "100.0"}
    # a high ratio on a small instance wastes little memory: no finding
    small = make(fragmentation_ratio=13.0, fragmentation_bytes=11 * MIB)
    assert "cache.memory.fragmentation" not in by_rule(run(small, cache_cfg))


def test_big_keys_map_to_response_size(cache_cfg: Config) -> None:
    big_one = KeySample("report:big", "report:", "list", 300.0, size_bytes=5 * MIB)
    sample = [*keys("report:", [300.0] * 3, size=100), big_one]
    result = run(make(keys=sample), cache_cfg)
    big = by_rule(result)["cache.key.big"][0]
    assert big.vars["size_mib"] == "5.00" and big.vars["count"] == 1 and big.vars["type"] == "list"
    assert "api.response_size" in result.covered


def test_hot_keys_need_lfu(cache_cfg: Config) -> None:
    sample = keys("hot:", [60.0], freq=155) + keys("cold:", [60.0] * 3, freq=5)
    assert "cache.key.hot" not in by_rule(run(make(keys=sample), cache_cfg))
    found = by_rule(run(make(keys=sample, lfu=True, policy="allkeys-lfu"), cache_cfg))["cache.key.hot"]
    assert [(f.location["key_prefix"], f.vars["freq"]) for f in found] == [("hot:", 155)]


def test_connections(cache_cfg: Config) -> None:
    ev = make(connected_clients=9, maxclients=10, rejected_connections=3, blocked_clients=1)
    found = by_rule(run(ev, cache_cfg))
    assert found["cache.connections.near-limit"][0].vars["pct"] == "90"
    assert found["cache.connections.rejected"][0].vars["rejected"] == 3
    assert found["cache.connections.blocked"][0].vars["blocked"] == 1


def test_combined_findings(cache_cfg: Config) -> None:
    url = "http://127.0.0.1:8000/api/products"
    related = RelatedEvidence(
        slow_urls={url: {"rule": "http.latency.p95-high"}, "http://x/other": {"rule": "r"}},
        uncacheable_urls={url: {"rule": "http.cache.no-cache-control"}},
        workload=[
            {"fingerprint": "a1", "sample": "SELECT * FROM users WHERE id = $1", "calls": 5000},
            {"fingerprint": "b2", "sample": "UPDATE users SET name = $1 WHERE id = $2", "calls": 4000},
            {"fingerprint": "c3", "sample": "select count(*) from orders", "calls": 999},
        ],
    )
    found = by_rule(run(make(hits=600, misses=400, related=related), cache_cfg))
    slow = found["cache.combined.slow-uncached"]
    assert [f.location for f in slow] == [{"url": url, "method": "GET"}]
    assert slow[0].vars["hit_rate"] == "60"
    aside = found["cache.combined.cache-aside-candidate"]
    assert [(f.location["fingerprint"], f.vars["share"]) for f in aside] == [("a1", "50.0")]  # 5000 / 10000
    # with a good hit rate the endpoint is not blamed on the cache
    assert "cache.combined.slow-uncached" not in by_rule(run(make(related=related), cache_cfg))


def test_report_assembles_with_wording(cache_cfg: Config) -> None:
    ev = make(hits=400, misses=600, keys=keys("user:", [None] * 10))
    rep = assemble(kind="cache", targets=[SERVER], run=run(ev, cache_cfg), ruleset=cache_cfg.ruleset,
                   started_at="2026-11-29T00:00:00Z", duration_s=0.1)
    msgs = {f.rule: f.message for f in rep.findings}
    expected = f"{SERVER}: hit rate 40 % (400 hits, 600 misses since the counters started; server up 2.0 h)"
    assert msgs["cache.hitrate.critical"].startswith(expected)
    assert "100 % of sampled `user:` keys (10 of 10)" in msgs["cache.ttl.no-expiry"]
    for f in rep.findings:  # every template field was filled
        fields = cache_cfg.ruleset.rules[f.rule].template_fields()
        assert not [name for name in fields if "{" + name + "}" in f.message + f.fix], f.rule
    status = {c.id: c.status for c in rep.checklist}
    assert status["caching.hit_rate"] == "fail" and status["caching.invalidation"] == "warn"


@pytest.mark.parametrize(("key", "prefix", "shown"), [
    ("user:42", "user:", "user:42"),
    ("cache:user:42:v2", "cache:user:", "cache:user:42:v2"),
    ("session:9f8a7b6c5d4e3f2a1b0c9d8e", "session:", "session:9f8a7b…"),
    ("user42", "user*", "user42"),
    ("plain", "(no prefix)", "plain"),
    ("a/b/c", "a/b/", "a/b/c"),
])
def test_key_prefix_and_display(key: str, prefix: str, shown: str) -> None:
    assert key_prefix(key) == prefix
    assert display_key(key) == shown


def test_bands_and_prefix_stats() -> None:
    assert [band_of(t) for t in (30, 60, 300, 400, 600, 1800, 2000, 3600, 86400, 90000)] == [
        "under 1 min", "short", "short", "between short and medium", "medium", "medium",
        "between medium and long", "long", "long", "over 24 h"]
    s = prefix_stats("p:", keys("p:", [None, 30.0, 200.0, 1000.0, 5000.0], size=10))
    assert (s.keys, s.no_expiry, s.ttl_min_s, s.ttl_median_s, s.ttl_max_s, s.bytes_total) == (
        5, 1, 30.0, 600.0, 5000.0, 50)
    assert s.histogram == {"<1m": 1, "1-5m": 1, "5-10m": 0, "10-30m": 1, "30-60m": 0, "1-24h": 1, ">24h": 0}

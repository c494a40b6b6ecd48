"""Issue 13: a Redis user denied INFO, CONFIG and SCAN by an ACL audited nothing (before: score 100,
caching.application_cache PASS, exit 0). A real redis-server with real ACL users."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis

PASSWORD = "limited-pw-13"


def test_user_denied_info_config_and_scan_exits_3(redis_server: Callable[..., Any],
                                                  run_cli: Callable[..., Any]) -> None:
    with redis_server() as port:
        admin = redis.Redis(port=port)
        admin.execute_command("ACL", "SETUSER", "limited", "on", f">{PASSWORD}", "~*", "-@all", "+ping",
                              "+auth", "+hello")
        admin.set("user:1", "v")
        res = run_cli("cache", f"redis://limited:{PASSWORD}@127.0.0.1:{port}/0", "-f", "json", timeout=60)
    assert res.code == 3, res
    assert "statistics, configuration and keys were all refused" in res.stderr, res
    assert PASSWORD not in res.stderr + res.stdout and "Traceback" not in res.stderr


def test_user_denied_info_keeps_stats_items_unjudged(redis_server: Callable[..., Any],
                                                     run_cli: Callable[..., Any]) -> None:
    with redis_server() as port:
        admin = redis.Redis(port=port)
        # SCAN/PTTL allowed, INFO and CONFIG denied: only the key sample can be judged.
        admin.execute_command("ACL", "SETUSER", "keysonly", "on", f">{PASSWORD}", "~*", "-@all", "+ping",
                              "+auth", "+hello", "+scan", "+pttl", "+type", "+object", "+memory", "+select")
        for i in range(5):
            admin.set(f"user:{i}", "v", ex=600)
        res = run_cli("cache", f"redis://keysonly:{PASSWORD}@127.0.0.1:{port}/0", "-f", "json",
                      "--fail-on", "none", timeout=60)
    assert res.code == 0, res
    items = {c["id"]: c for c in json.loads(res.stdout)["checklist"]}
    # No statistics, no configuration: the application-cache and hit-rate items cannot pass.
    for item in ("caching.application_cache", "caching.hit_rate"):
        assert items[item]["status"] == "not_assessed", items[item]
    assert items["caching.invalidation"]["status"] == "pass"  # TTLs seen on every sampled key

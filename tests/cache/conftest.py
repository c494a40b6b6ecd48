"""Real cache servers for the cache audit tests: redis-server and memcached on free 127.0.0.1 ports,
no persistence, one per test (hit-rate counters are server-wide)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cache_servers import run_memcached, run_redis

from apiaudit.config import Config
from apiaudit.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_server() -> Iterator[Callable[..., contextlib.AbstractContextManager[int]]]:
    """``with redis_server("--maxmemory", "64mb") as port:`` starts a fresh redis-server."""
    yield run_redis


@pytest.fixture
def memcached_server() -> Iterator[Callable[..., contextlib.AbstractContextManager[int]]]:
    yield run_memcached


@pytest.fixture(scope="session")
def cache_cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A config whose ruleset is the checklist plus rules/cache.yaml only (isolated from other areas)."""
    base = tmp_path_factory.mktemp("cache-rules")
    for name in ("checklist.yaml", "cache.yaml"):
        shutil.copy(ROOT / "rules" / name, base / name)
    return Config(ruleset=load_rules(base))

"""Real cache servers for the cache audit tests: redis-server and memcached on free 127.0.0.1 ports,
no persistence, one per test (hit-rate counters are server-wide)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import need

from apiaudit import pgcluster
from apiaudit.config import Config
from apiaudit.rules import load_rules

ROOT = Path(__file__).resolve().parents[2]


def _wait(port: int, proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"server on port {port} did not start")


@contextlib.contextmanager
def _serve(argv: list[str], port: int) -> Iterator[int]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(port, proc)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_server() -> Iterator[Callable[..., contextlib.AbstractContextManager[int]]]:
    """``with redis_server("--maxmemory", "64mb") as port:`` starts a fresh redis-server."""
    need(shutil.which("redis-server") is not None, "redis-server (Debian package redis-server)")

    def start(*extra: str) -> contextlib.AbstractContextManager[int]:
        port = pgcluster.free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--daemonize", "no", *extra]
        return _serve(argv, port)

    yield start


@pytest.fixture
def memcached_server() -> Iterator[Callable[..., contextlib.AbstractContextManager[int]]]:
    need(shutil.which("memcached") is not None, "memcached (Debian package memcached)")

    def start(*extra: str) -> contextlib.AbstractContextManager[int]:
        port = pgcluster.free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        return _serve(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", *user, *extra], port)

    yield start


@pytest.fixture(scope="session")
def cache_cfg(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A config whose ruleset is the checklist plus rules/cache.yaml only (isolated from other areas)."""
    base = tmp_path_factory.mktemp("cache-rules")
    for name in ("checklist.yaml", "cache.yaml"):
        shutil.copy(ROOT / "rules" / name, base / name)
    return Config(ruleset=load_rules(base))

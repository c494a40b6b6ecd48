"""Bench: the cache audit's cost stays bounded as the keyspace grows, and its sampled share of keys
without expiry tracks the exact figure.

Starts its own redis-server and memcached on free 127.0.0.1 ports (Debian packages), fills N keys
(30 % without expiry, the rest EX 60..3600 s), then runs the collectors with the default caps.
Prints per N: audit wall time, commands sent (INFO commandstats delta), sampled vs exact share of
keys without expiry. Run: /tmp/venv/bin/python bench/cache_sampling.py [N ...]
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time

import redis
from pymemcache.client.base import Client

from apiaudit.cache.limits import Limits
from apiaudit.cache.memcached import collect_memcached
from apiaudit.cache.redis import collect_redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(port: int) -> None:
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not start")


def fill_redis(r: redis.Redis, n: int, rng: random.Random) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        ttl = None if rng.random() < 0.3 else rng.randint(60, 3600)
        pipe.set(f"{rng.choice(('user', 'product', 'page'))}:{i}", "v" * 50, ex=ttl)
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()


def calls(r: redis.Redis) -> int:
    return sum(int(v["calls"]) for v in r.info("commandstats").values())


def bench_redis(n: int) -> None:
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        wait(port)
        r = redis.Redis(port=port)
        fill_redis(r, n, random.Random(n))
        space = r.info("keyspace")["db0"]
        exact = 100.0 * (space["keys"] - space["expires"]) / space["keys"]
        before = calls(r)
        t0 = time.monotonic()
        ev = collect_redis(f"redis://127.0.0.1:{port}/0", Limits())
        wall = time.monotonic() - t0
        sent = calls(r) - before - 1  # minus our own INFO commandstats
        sampled = 100.0 * sum(1 for k in ev.keys if k.ttl_s is None) / max(len(ev.keys), 1)
        print(f"redis     N={n:>9,}  audit {wall * 1000:7.1f} ms  commands {sent:5d}  sampled {len(ev.keys):5d}"
              f"  no-expiry sampled {sampled:5.1f} % vs exact {exact:5.1f} %")
    finally:
        proc.terminate()
        proc.wait()


def bench_memcached(n: int) -> None:
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    proc = subprocess.Popen(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "1024", *user])
    try:
        wait(port)
        c = Client(("127.0.0.1", port))
        rng = random.Random(n)
        for start in range(0, n, 1000):
            c.set_many({f"item:{i}": b"v" * 50 for i in range(start, min(start + 1000, n))},
                       expire=0 if rng.random() < 0.3 else 600)
        t0 = time.monotonic()
        ev = collect_memcached(f"memcached://127.0.0.1:{port}", Limits())
        wall = time.monotonic() - t0
        print(f"memcached N={n:>9,}  audit {wall * 1000:7.1f} ms  metadump lines read {len(ev.keys):5d}"
              f"  complete={ev.sample_complete}")
    finally:
        proc.terminate()
        proc.wait()


def main(sizes: list[int]) -> None:
    for n in sizes:
        bench_redis(n)
    for n in sizes:
        bench_memcached(n)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000, 1_000_000])

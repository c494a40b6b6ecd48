"""Proof that `apiaudit cache` is read-only and bounded, measured on the real servers.

Redis: a MONITOR connection records every command the audit sends; only read-only inspection commands
may appear (README "Safety": INFO, SCAN with COUNT, TTL/PTTL, TYPE, MEMORY USAGE, CONFIG GET; never
KEYS), SCAN always carries COUNT, and the keyspace (names, types, values, TTL presence) is unchanged.
Memcached has no MONITOR: its own counters (cmd_set, deletes, incr/decr, touch, flush) must not move.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cache_servers import run_redis
from conftest import need

from apiaudit import pgcluster
from hostile.measure import run_measured

READ_ONLY = {
    "INFO",
    "SCAN",
    "TTL",
    "PTTL",
    "TYPE",
    "MEMORY",
    "CONFIG",
    "DBSIZE",
    "PING",
    "HELLO",
    "AUTH",
    "CLIENT",
    "SELECT",
    "OBJECT",
    "STRLEN",
    "HLEN",
    "LLEN",
    "SCARD",
    "ZCARD",
    "XLEN",
    "SLOWLOG",
    "LATENCY",
    "COMMAND",
    "ECHO",
    "EXISTS",
    "MULTI",
    "EXEC",
    "READONLY",
    "QUIT",
    "RESET",
}
SUBCOMMANDS = {
    "CONFIG": {"GET"},
    "MEMORY": {"USAGE", "STATS", "DOCTOR"},
    "CLIENT": {"SETNAME", "SETINFO", "LIST", "INFO", "GETNAME", "ID"},
    "OBJECT": {"ENCODING", "FREQ", "IDLETIME", "REFCOUNT"},
    "SLOWLOG": {"GET", "LEN"},
    "LATENCY": {"LATEST", "HISTORY", "DOCTOR"},
    "COMMAND": {"DOCS", "INFO", "COUNT"},
}


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


@pytest.fixture
def redis_port() -> Iterator[int]:
    with run_redis() as port:
        yield port


def _seed(r: Any) -> None:
    pipe = r.pipeline(transaction=False)
    for i in range(3000):
        pipe.set(f"session:{i}", "x" * (i % 50), ex=3600 if i % 2 else None)
    for i in range(200):
        pipe.hset(f"user:{i}", mapping={"name": f"u{i}", "email": f"u{i}@x.test"})
        pipe.rpush(f"queue:{i}", *range(i % 7 + 1))
    pipe.execute()


def _keyspace(r: Any) -> dict[str, tuple[str, bytes, bool]]:
    out = {}
    for key in r.scan_iter(count=1000):
        out[key.decode()] = (r.type(key).decode(), r.dump(key) or b"", r.ttl(key) >= 0)
    return out


class Monitor(threading.Thread):
    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        import redis

        self.client = redis.Redis(port=port)
        self.commands: list[list[str]] = []
        self._halt = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        with self.client.monitor() as m:  # type: ignore[no-untyped-call]
            self.ready.set()
            for event in m.listen():
                if self._halt.is_set():
                    return
                # MONITOR prints "CMD" "arg" ...; the monitor's own PING marks our stop point.
                parts = event["command"].split(" ")
                self.commands.append([p.strip('"') for p in parts])

    def stop(self) -> None:
        self._halt.set()
        self.client.ping()
        self.join(timeout=5)


def test_redis_audit_is_read_only_and_bounded(tmp_path: Path, redis_port: int) -> None:
    import redis

    r = redis.Redis(port=redis_port)
    _seed(r)
    before = _keyspace(r)
    mon = Monitor(redis_port)
    mon.start()
    assert mon.ready.wait(5)
    run = run_measured(
        "cache",
        f"redis://127.0.0.1:{redis_port}/0",
        "--format",
        "json",
        "--sample-keys",
        "500",
        cwd=tmp_path,
        timeout=120,
    )
    time.sleep(0.2)
    mon.stop()
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in (0, 1), run
    assert _keyspace(r) == before, "the audit changed the keyspace"
    sent = [c for c in mon.commands if c and c[0].upper() != "PING"]
    assert sent, "MONITOR saw nothing from the audit"
    bad = [
        c
        for c in sent
        if c[0].upper() not in READ_ONLY
        or (c[0].upper() in SUBCOMMANDS and len(c) > 1 and c[1].upper() not in SUBCOMMANDS[c[0].upper()])
    ]
    assert not bad, f"non read-only commands: {bad[:10]}"
    scans = [c for c in sent if c[0].upper() == "SCAN"]
    assert all("COUNT" in (p.upper() for p in c) for c in scans), scans[:3]
    per_key = [c for c in sent if c[0].upper() in ("TTL", "PTTL", "TYPE", "MEMORY", "OBJECT", "STRLEN")]
    # At most a few inspection commands per sampled key (500 sampled).
    assert len(per_key) <= 500 * 4, len(per_key)


@pytest.fixture
def memcached_port() -> Iterator[int]:
    binary = shutil.which("memcached")
    need(binary is not None, "memcached")
    port = pgcluster.free_port()
    proc = subprocess.Popen(
        [str(binary), "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "32", "-u", "nobody"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


WRITE_COUNTERS = (
    "cmd_set",
    "cmd_flush",
    "cmd_touch",
    "delete_hits",
    "delete_misses",
    "incr_hits",
    "incr_misses",
    "decr_hits",
    "decr_misses",
    "cas_hits",
    "cas_misses",
    "curr_items",
    "total_items",
)


def _mc_stats(port: int) -> dict[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"stats\r\n")
        data = b""
        while not data.endswith(b"END\r\n"):
            data += s.recv(65536)
    return {p[1]: p[2] for line in data.decode().splitlines() if (p := line.split(" ")) and len(p) == 3}


def test_memcached_audit_writes_nothing(tmp_path: Path, memcached_port: int) -> None:
    from pymemcache.client.base import Client

    c = Client(("127.0.0.1", memcached_port))
    for i in range(500):
        c.set(f"k{i}", b"v" * (i % 40 + 1), expire=3600)
    for i in range(300):
        c.get(f"k{i}")
    before = _mc_stats(memcached_port)
    run = run_measured(
        "cache", f"memcached://127.0.0.1:{memcached_port}", "--format", "json", cwd=tmp_path, timeout=120
    )
    after = _mc_stats(memcached_port)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in (0, 1), run
    moved = {k: (before.get(k), after.get(k)) for k in WRITE_COUNTERS if before.get(k) != after.get(k)}
    assert not moved, f"write counters moved: {moved}"


def test_hostile_key_names_do_not_inject_into_reports(tmp_path: Path, redis_port: int) -> None:
    import redis

    r = redis.Redis(port=redis_port)
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"<script>alert({i})</script>:{i}", "v")
        pipe.set(f"\x1b[31mred\x07:{i}".encode(), "v")
        pipe.set(b"\xff\xfe\x00bin:" + str(i).encode(), "v" * 100)
    pipe.execute()
    out = tmp_path / "out"
    args = ["cache", f"redis://127.0.0.1:{redis_port}/0", "--output-dir", str(out)]
    for fmt in ("json", "html", "markdown", "table", "junit", "sarif"):
        args += ["--format", fmt]
    run = run_measured(*args, cwd=tmp_path, timeout=120)
    assert run.code in (0, 1) and not run.has_traceback() and not run.internal_error(), run
    files = {p.name: p.read_text(errors="replace") for p in out.iterdir()}
    assert "<script>alert(" not in files["report.html"]
    for name, text in files.items():
        assert "\x1b" not in text and "\x07" not in text, f"control characters from key names in {name}"
    assert "\x1b" not in run.stdout + run.stderr


def test_big_keyspace_is_sampled_not_walked(tmp_path: Path, redis_port: int) -> None:
    import redis

    r = redis.Redis(port=redis_port)
    for batch in range(200):  # 200,000 keys
        r.mset({f"k:{batch}:{i}": "v" for i in range(1000)})
    mon = Monitor(redis_port)
    mon.start()
    assert mon.ready.wait(5)
    run = run_measured(
        "cache",
        f"redis://127.0.0.1:{redis_port}/0",
        "--format",
        "json",
        "--sample-keys",
        "1000",
        cwd=tmp_path,
        timeout=120,
    )
    time.sleep(0.2)
    mon.stop()
    assert run.code in (0, 1) and not run.has_traceback() and not run.internal_error(), run
    assert run.wall_s < 30, run
    sent = [c for c in mon.commands if c and c[0].upper() != "PING"]
    scans = [c for c in sent if c[0].upper() == "SCAN"]
    per_key = [c for c in sent if c[0].upper() in ("TTL", "PTTL", "TYPE", "MEMORY", "OBJECT", "STRLEN")]
    # 1,000 sampled keys out of 200,000: a bounded number of SCAN pages and per-key commands.
    assert len(scans) <= 60, f"{len(scans)} SCAN calls for a 1,000-key sample"
    assert len(per_key) <= 1000 * 4, len(per_key)

"""Issue 12 item 8: keys with multi-MiB names on a real redis-server. The collector keeps a bounded
prefix of each name and inspects one SCAN batch at a time, so memory follows the batch, not the sample
(before: every whole name held, plus decoded copies, until the end of the audit)."""

from __future__ import annotations

import tracemalloc

import redis
from cache_servers import run_redis

from apiaudit.cache.limits import Limits
from apiaudit.cache.redis import NAME_KEEP, collect_redis
from apiaudit.deadline import Deadline

MIB = 1 << 20
KEYS = 12
NAME_MIB = 4


def test_huge_key_names_are_held_as_a_bounded_prefix() -> None:
    with run_redis("--proto-max-bulk-len", "64mb") as port:
        r = redis.Redis(port=port)
        for i in range(KEYS):
            r.set(b"blob:%02d:" % i + b"x" * (NAME_MIB * MIB), b"v" * 100)
        r.set(b"user:1", b"small")
        r.close()
        tracemalloc.start()
        try:
            ev = collect_redis(f"redis://127.0.0.1:{port}/0", Limits(scan_count=1, time_cap_s=60),
                               Deadline(60))
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(ev.keys) == KEYS + 1, ev.notices
    assert all(len(k.key.encode()) <= NAME_KEEP + 40 for k in ev.keys), [len(k.key) for k in ev.keys]
    assert {k.prefix for k in ev.keys} == {"blob:", "user:"}
    big = [k for k in ev.keys if k.prefix == "blob:"]
    assert all(k.type == "string" and (k.size_bytes or 0) > NAME_MIB * MIB for k in big), big[:2]
    # Before: 61 MiB (every whole name held to the end); now ~25 MiB: one 4 MiB name at a time
    # plus redis-py's read buffers.
    print(f"tracemalloc peak {peak / MIB:.1f} MiB")
    assert peak < 40 * MIB, f"peak {peak / MIB:.0f} MiB"

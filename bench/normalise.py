"""Normalisation speed: PostgreSQL's parser (libpg_query via pgparse) vs the former sqlglot normaliser.

CPU time (process_time), so a loaded machine changes the figures little.

1. Per statement: N distinct generated shapes, each normalised once (every call a cache miss, the
   worst case for a log of many unique shapes), µs per statement for both normalisers.
2. A ~4.7 MB stderr log in which nearly every statement is a new shape (issue 12 item 7: 19 s
   before), analysed end to end by ``analyze_logs`` with the new normaliser and, patched in, the old.

    .venv/bin/python bench/normalise.py [--shapes 5000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from legacy_normaliser import legacy_sample

from apiaudit.db import fingerprint as fpmod
from apiaudit.db import pgnorm

PREFIX = "2026-01-01 00:00:{s:02d}.{ms:03d} UTC [{pid}] 6650a1b2.{pid:x} 0 app@shop LOG:  statement: "


def shapes(n: int, seed: int = 7) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        t = f"t{i % 97}"
        cols = ", ".join(f"c{rnd.randrange(40)}_{i}" for _ in range(rnd.randrange(1, 6)))
        where = " AND ".join(
            rnd.choice([f"a{j} = {rnd.randrange(10**6)}", f"b{j} = 'v{rnd.randrange(999)}'",
                        f"d{j} > now() - interval '{rnd.randrange(1, 30)} days'", f"e{j} IN (1, 2, 3)",
                        f"f{j} LIKE 'x%'"])
            for j in range(rnd.randrange(1, 5)))
        join = f" JOIN u{i % 13} u ON u.id = {t}.u_id" if i % 3 == 0 else ""
        out.append(f"SELECT {cols} FROM {t}{join} WHERE {where} ORDER BY {t}.id DESC LIMIT {rnd.randrange(1, 100)}")
    return out


def per_statement(stmts: list[str]) -> tuple[float, float]:
    fpmod._CACHE.clear()
    t0 = time.process_time()
    for s in stmts:
        fpmod.fingerprint(s)
    new = (time.process_time() - t0) / len(stmts) * 1e6
    t0 = time.process_time()
    for s in stmts:
        legacy_sample(s)
    old = (time.process_time() - t0) / len(stmts) * 1e6
    return new, old


def _legacy_normalise(sql: str) -> tuple[str, str] | None:
    sample = legacy_sample(sql)
    return None if sample is None else (sample, sample)


def log_run(stmts: list[str], target_bytes: int) -> tuple[float, float, int]:
    from apiaudit.db.logs import analyze_logs

    lines, size, i = [], 0, 0
    while size < target_bytes:
        line = PREFIX.format(s=i // 1000 % 60, ms=i % 1000, pid=1000 + i % 7) + stmts[i % len(stmts)] + "\n"
        lines.append(line)
        size += len(line)
        i += 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "postgresql.log"
        path.write_text("".join(lines))
        timings = []
        for patch in (None, _legacy_normalise):
            fpmod._CACHE.clear()
            saved = pgnorm.normalise
            if patch is not None:
                pgnorm.normalise = patch  # type: ignore[assignment]
            try:
                t0 = time.process_time()
                analyze_logs([str(path)], fmt="stderr", prefix="%m [%p] %c %x %q%u@%d ")
                timings.append(time.process_time() - t0)
            finally:
                pgnorm.normalise = saved  # type: ignore[assignment]
    return timings[0], timings[1], size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", type=int, default=5000)
    ap.add_argument("--log-mb", type=float, default=4.7)
    args = ap.parse_args()
    stmts = shapes(args.shapes)
    new, old = per_statement(stmts)
    print(f"normalise, {len(stmts)} distinct shapes (all cache misses): "
          f"libpg_query {new:.0f} µs/statement, sqlglot {old:.0f} µs/statement ({old / new:.1f}x)")
    many = shapes(int(args.log_mb * 1e6 / 150), seed=11)
    t_new, t_old, size = log_run(many, int(args.log_mb * 1e6))
    print(f"log of {size / 1e6:.1f} MB, {len(many)} distinct shapes: libpg_query {t_new:.2f} s, "
          f"sqlglot {t_old:.2f} s ({t_old / t_new:.1f}x)")


if __name__ == "__main__":
    main()

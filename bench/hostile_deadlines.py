"""Time to finish against each stalling peer of issue 12 item 6 (fake PostgreSQL silent after auth,
Redis trickling INFO, Memcached with endless stats / an endless metadump line, an HTTP tarpit answering
just under the per-request cap, a slow-drip body). Prints a Markdown table for bench/README-hostile.md.

    .venv/bin/python bench/hostile_deadlines.py               # --deadline 10 everywhere
    .venv/bin/python bench/hostile_deadlines.py --deadline 5

Same stdlib servers and runner as tests/hostile (real sockets on 127.0.0.1, the installed console
script, peak RSS from wait4 on the child). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.measure import run_measured  # noqa: E402
from hostile.stalling import (  # noqa: E402
    http_slow_drip,
    http_tarpit,
    memcached_endless_line,
    memcached_endless_stats,
    pg_silent_after_auth,
    redis_trickle,
    serve_http,
    serve_tcp,
)


@contextlib.contextmanager
def _tcp(handle: Callable[..., None], scheme: str) -> Iterator[str]:
    with serve_tcp(handle) as port:
        yield f"{scheme}127.0.0.1:{port}"


@contextlib.contextmanager
def _http(handler: Callable[..., object]) -> Iterator[str]:
    with serve_http(handler) as (url, _hits):
        yield url


CASES: list[tuple[str, Callable[[], contextlib.AbstractContextManager[str]], Callable[[str], list[str]]]] = [
    ("db: PostgreSQL silent after auth", lambda: _tcp(pg_silent_after_auth, "postgresql://postgres@"),
     lambda u: ["db", f"{u}/x?sslmode=disable"]),
    ("cache: Redis INFO one byte / 2 s", lambda: _tcp(functools.partial(redis_trickle, step_s=2.0), "redis://"),
     lambda u: ["cache", f"{u}/0"]),
    ("cache: Memcached endless stats", lambda: _tcp(memcached_endless_stats, "memcached://"),
     lambda u: ["cache", u]),
    ("cache: Memcached endless metadump line", lambda: _tcp(memcached_endless_line, "memcached://"),
     lambda u: ["cache", u]),
    ("scan: tarpit 2.4 s/response, --timeout 1, 3 endpoints", lambda: _http(http_tarpit(0.8, 3)),
     lambda u: ["scan", f"{u}/a", f"{u}/b", f"{u}/c", "--timeout", "1"]),
    ("scan: tarpit 27 s/response, --timeout 10, 3 endpoints", lambda: _http(http_tarpit(9.0, 3)),
     lambda u: ["scan", f"{u}/a", f"{u}/b", f"{u}/c", "--timeout", "10"]),
    ("scan: slow-drip body, --timeout 10", lambda: _http(http_slow_drip),
     lambda u: ["scan", f"{u}/a", "--timeout", "10"]),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deadline", default="10")
    args = parser.parse_args()
    print("| stalling peer | --deadline | exit | wall s | peak RSS MB |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, server, argv in CASES:
            with server() as url:
                run = run_measured(*argv(url), "--deadline", args.deadline, "--format", "json", cwd=tmp,
                                   timeout=float(args.deadline) + 120)
            print(f"| {name} | {args.deadline} | {run.code} | {run.wall_s:.1f} | {run.rss_mb:.0f} |", flush=True)


if __name__ == "__main__":
    main()

"""Measure `apiaudit` against every hostile behaviour: exit code, wall time, peak RSS, and what the
server saw (requests, bytes it sent). Prints a Markdown table for bench/README-hostile.md.

    /tmp/venv/bin/python bench/hostile_figures.py            # HTTP corpus + logs + config
    /tmp/venv/bin/python bench/hostile_figures.py --only gzip-bomb,slowloris

Same servers and runner as tests/hostile (real sockets on 127.0.0.1, the installed console script,
peak RSS from wait4 on the child). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.measure import Run, run_measured  # noqa: E402
from hostile.servers import CORPUS, big_json_api, hostile  # noqa: E402

SCAN = ["--format", "json", "--samples", "0", "--timeout", "3", "--max-requests", "40"]


def http_rows(only: set[str] | None) -> list[str]:
    rows = []
    for b in CORPUS:
        if only and b.name not in only:
            continue
        with hostile(b.name) as t:
            extra = ["--openapi", t.url.split("/api/")[0] + b.openapi] if b.openapi else []
            run = run_measured("scan", t.url, *SCAN, *extra, timeout=120)
            c = t.server.counters
            rows.append(_row(b.name, run, f"{c.requests}", _size(c.bytes_sent)))
        if b.name == "tls-self-signed" and not only:
            with hostile(b.name) as t:
                run = run_measured("scan", t.url, *SCAN, "--insecure", timeout=120)
                rows.append(
                    _row(
                        "tls-self-signed --insecure",
                        run,
                        str(t.server.counters.requests),
                        _size(t.server.counters.bytes_sent),
                    )
                )
    return rows


def many_bodies_row() -> str:
    server = big_json_api()
    with server.running() as base:
        urls = [f"{base}/api/c{i}" for i in range(100)]
        run = run_measured("scan", *urls, "--format", "json", "--samples", "0", "--max-requests", "300", timeout=300)
    c = server.counters
    return _row("100 endpoints x 3.4 MB JSON", run, str(c.requests), _size(c.bytes_sent))


def log_rows(tmp: Path) -> list[str]:
    prefix = "2026-11-29 05:00:00.000 UTC [42] 6569a1b2.2a 0 app@shop LOG:  statement: "
    cases: dict[str, bytes] = {
        "log: 16 MiB random bytes": os.urandom(16 << 20),
        "log: 100 MB single line": (prefix + "SELECT '").encode() + b"x" * (100 << 20) + b"'\n",
        "log: 1M lines, CRLF": ((prefix + "SELECT * FROM t WHERE id = 7\r\n") * 1_000_000).encode(),
    }
    rows = []
    for name, data in cases.items():
        path = tmp / "case.log"
        path.write_bytes(data)
        run = run_measured("db", "--log", str(path), "--format", "json", timeout=300)
        rows.append(_row(name, run, "-", _size(len(data))))
    return rows


def config_rows(tmp: Path) -> list[str]:
    laughs = "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
        + ["http: {user_agent: *i}"]
    )
    rows = []
    for name, text in {
        "config: billion laughs": laughs,
        "config: 5000-deep nesting": "http: " + "[" * 5000 + "]" * 5000,
    }.items():
        cfg = tmp / "apiaudit.yaml"
        cfg.write_text(text)
        run = run_measured("scan", "http://127.0.0.1:9/", "--config", str(cfg), timeout=60, cwd=tmp)
        rows.append(_row(name, run, "-", _size(len(text))))
    return rows


def _row(name: str, run: Run, requests: str, size: str) -> str:
    flag = " (killed)" if run.timed_out else (" (internal error)" if run.internal_error() else "")
    return f"| {name} | {run.code}{flag} | {run.wall_s:.1f} | {run.rss_mb:.0f} | {requests} | {size} |"


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="comma-separated case names of the HTTP corpus")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    print("| case | exit | wall s | peak RSS MB | server requests | bytes (server sent / input) |")
    print("|---|---|---|---|---|---|")
    for row in http_rows(only):
        print(row, flush=True)
    if only:
        return
    print(many_bodies_row(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for row in log_rows(Path(tmp)) + config_rows(Path(tmp)):
            print(row, flush=True)


if __name__ == "__main__":
    main()

"""Hostile inputs beyond HTTP: saved reports, baselines and evidence files that are not what they claim
(`report`, `--baseline`, `--from-evidence`, `k6`), and peers on the PostgreSQL/Redis/Memcached ports
that never answer, talk garbage or speak HTTP. Each must end in a clear error with the DESIGN.md exit
code (2 for a bad file, 3 for a peer that cannot be audited), quickly and without a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from hostile.measure import Run, run_measured
from hostile.rawserver import RawServer

GOOD = {
    "schema_version": 1,
    "tool": {"name": "apiaudit", "version": "0.1.0"},
    "kind": "scan",
    "targets": [],
    "started_at": "2026-11-29T04:00:00Z",
    "duration_s": 1.0,
    "score": {},
    "checklist": [],
    "findings": [],
    "workload": [],
    "stats": {},
    "errors": [],
}
BAD_FILES: dict[str, bytes] = {
    "random-bytes": os.urandom(4096),
    "not-json": b"hello, world\n",
    "json-list": b"[1, 2, 3]",
    "json-deep": b"[" * 100_000 + b"]" * 100_000,
    "json-huge-number": b'{"schema_version": ' + b"9" * 100_000 + b"}",
    "wrong-types": json.dumps({**GOOD, "findings": "nope", "checklist": {"a": 1}, "score": []}).encode(),
    "findings-of-garbage": json.dumps({**GOOD, "findings": [1, None, "x", {"rule": 5}]}).encode(),
    "future-schema": json.dumps({**GOOD, "schema_version": 99}).encode(),
    "empty": b"",
    "nan": b'{"schema_version": NaN, "duration_s": Infinity}',
}


def _check(run: Run, codes: tuple[int, ...] = (2,)) -> None:
    assert not run.timed_out, run
    assert not run.has_traceback() and not run.internal_error(), run
    assert run.code in codes, run
    assert run.stderr.strip(), run
    assert run.wall_s < 30 and run.rss_mb < 500, run


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_report_merge_refuses_bad_reports(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(BAD_FILES[name])
    _check(run_measured("report", str(path), "--format", "json", cwd=tmp_path, timeout=60))


@pytest.mark.parametrize("name", ["random-bytes", "json-deep", "json-list", "nan"])
def test_bad_baseline_is_a_usage_error(tmp_path: Path, name: str) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    base = tmp_path / f"{name}.json"
    base.write_bytes(BAD_FILES[name])
    _check(run_measured("report", str(good), "--baseline", str(base), "--format", "json", cwd=tmp_path, timeout=60))


@pytest.mark.parametrize("name", ["random-bytes", "json-deep", "wrong-types", "json-huge-number"])
def test_bad_evidence_file_is_a_usage_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.json"
    path.write_bytes(BAD_FILES[name])
    _check(run_measured("scan", "--from-evidence", str(path), "--format", "json", cwd=tmp_path, timeout=60))


# --- peers that are not what the URL says ----------------------------------------------------------


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, srv: RawServer) -> None:
    await asyncio.sleep(120)


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, srv: RawServer) -> None:
    await reader.read(1024)
    writer.write(os.urandom(8192))
    await writer.drain()


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, srv: RawServer) -> None:
    await reader.read(1024)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbad request")
    await writer.drain()


async def _huge_bulk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, srv: RawServer) -> None:
    # RESP: claims a 9 GB bulk string, then trickles it (a Redis that lies about sizes).
    while await reader.read(4096):
        writer.write(b"$9000000000\r\n" + b"x" * 65536)
        await writer.drain()


PEERS: dict[str, Callable[..., Awaitable[None]]] = {
    "silent": _silent,
    "garbage": _garbage,
    "http": _http,
    "huge-bulk": _huge_bulk,
}
URLS = {
    "db": "postgresql://app:pw@127.0.0.1:{port}/shop?connect_timeout=3",
    "redis": "redis://127.0.0.1:{port}/0",
    "memcached": "memcached://127.0.0.1:{port}",
}


CASES = [(k, p) for k in sorted(URLS) for p in sorted(PEERS) if p != "huge-bulk" or k == "redis"]


@pytest.mark.parametrize(("kind", "peer"), CASES)
def test_impostor_peers_cannot_hang_or_crash_the_audit(tmp_path: Path, kind: str, peer: str) -> None:
    server = RawServer(raw=PEERS[peer])
    with server.running():
        url = URLS[kind].format(port=server.port)
        command = "db" if kind == "db" else "cache"
        run = run_measured(command, url, "--format", "json", cwd=tmp_path, timeout=90)
    _check(run, codes=(3,))
    assert run.wall_s < 45, run

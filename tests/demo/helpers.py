"""Helpers for the end-to-end demo tests: a private TMPDIR, and proofs that nothing was left behind."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
from pathlib import Path
from typing import Any

API_LINE = re.compile(r"API: (http://127\.0\.0\.1:(\d+))")
PG_LINE = re.compile(r"PostgreSQL: (postgresql://\S+@127\.0\.0\.1:(\d+)/\S+)")


def ports(stderr: str) -> list[int]:
    """The ports the demo said it used (sample API, PostgreSQL)."""
    found = [int(m.group(2)) for m in API_LINE.finditer(stderr)]
    found += [int(m.group(2)) for m in PG_LINE.finditer(stderr)]
    return found


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def processes_with_env(needle: str) -> list[str]:
    """Processes whose environment holds ``needle`` (the demo's TMPDIR=...). Every process the demo
    starts inherits it: runuser, pg_ctl, psql, and the postmaster with all its backends."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle.encode() in (proc / "environ").read_bytes().split(b"\0"):
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {cmd}")
    return found


def assert_nothing_left(tmpdir: Path, stderr: str) -> None:
    assert list(tmpdir.iterdir()) == [], "the demo left files in its temp dir"
    assert processes_with_env(f"TMPDIR={tmpdir}") == []
    used = ports(stderr)
    assert used, "the demo did not print its ports"
    assert [p for p in used if port_open(p)] == []


def load_report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def findings_at(report: dict[str, Any], item: str | None = None, **where: Any) -> list[dict[str, Any]]:
    """Findings of a checklist item whose location matches ``where``; ``path=`` matches a URL's path."""
    out = []
    for f in report["findings"]:
        if item is not None and f["checklist"] != item:
            continue
        loc = f["location"]
        path = where.get("path")
        if path is not None and not re.fullmatch(
            rf"http://127\.0\.0\.1:\d+{re.escape(path)}", loc.get("url", "")
        ):
            continue
        if all(loc.get(k) == v for k, v in where.items() if k != "path"):
            out.append(f)
    return out

"""Real cache servers for tests: redis-server and memcached on free 127.0.0.1 ports, no persistence.

``with run_redis("--maxmemory", "64mb") as port:`` / ``with run_memcached() as port:``; both need the
Debian package (skipped locally, failed in CI when missing).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

from conftest import need

from apiaudit import pgcluster


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


def run_redis(*extra: str) -> contextlib.AbstractContextManager[int]:
    need(shutil.which("redis-server") is not None, "redis-server (Debian package redis-server)")
    port = pgcluster.free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", *extra]
    return _serve(argv, port)


def run_memcached(*extra: str) -> contextlib.AbstractContextManager[int]:
    need(shutil.which("memcached") is not None, "memcached (Debian package memcached)")
    port = pgcluster.free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    return _serve(["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", *user, *extra], port)

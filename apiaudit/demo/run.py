"""`apiaudit demo`: sample API + throwaway PostgreSQL, audited end to end, everything stopped afterwards.

Order: find PostgreSQL -> start it and load schema.sql -> start the sample API on it -> drive a workload
through the API -> scan the API -> audit the database and its statement log -> merge -> write the
reports -> stop what was started (also on Ctrl-C, SIGTERM or failure). It is a demo, not a gate: the
exit code is 0 whenever it ran, 3 when nothing at all could be audited.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from apiaudit.demo import democfg, output
from apiaudit.demo.data import MemoryStore, PgStore, Store
from apiaudit.demo.database import (
    HYPOPG_HINT,
    INSTALL_HINT,
    DemoDatabase,
    describe,
    find_demo_bindir,
    start_database,
)
from apiaudit.demo.endpoints import FIXES
from apiaudit.demo.sample_api import SampleApi, start_sample_api
from apiaudit.demo.steps import Steps
from apiaudit.errors import AuditError, UsageError
from apiaudit.fileio import atomic_write
from apiaudit.model import Report
from apiaudit.redact import redact_text


@dataclass
class Demo:
    steps: Steps
    out: Path
    fixes: frozenset[str]
    port: int
    db: DemoDatabase | None = None
    api: SampleApi | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


def parse_fixes(values: Iterable[str]) -> frozenset[str]:
    names: set[str] = set()
    for value in values:
        names.update(v.strip().lower() for v in value.split(",") if v.strip())
    if "all" in names:
        return frozenset(FIXES)
    unknown = names - set(FIXES)
    if unknown:
        raise UsageError(
            f"--fix: unknown problem {', '.join(sorted(unknown))} (choose from {', '.join(FIXES)}, all)"
        )
    return frozenset(names)


def run_demo(*, keep_running: bool, output_dir: str, fixes: Iterable[str] = (), port: int = 0) -> int:
    out = Path(output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {out}: {exc.strerror or exc}") from None
    demo = Demo(
        steps=Steps(Console(stderr=True, highlight=False, soft_wrap=True)),
        out=out,
        fixes=parse_fixes(fixes),
        port=port,
    )
    with _stop_on_exit(demo), _sigterm_as_interrupt():
        report = _audit(demo)
        _publish(demo, report)
        if keep_running:
            _wait(demo)
    return 0


def _audit(demo: Demo) -> Report:
    _start_database(demo)
    store = _start_api(demo)
    assert demo.api is not None
    db = demo.db
    data = democfg.config_data(demo.api.url, db.dsn if db else None, str(db.log_file) if db else None)
    atomic_write(demo.out / "apiaudit.yaml", democfg.config_yaml(data), named=False)
    cfg = democfg.demo_config(data)
    if db is not None:
        _drive(demo)
    scan_report = _scan(demo, cfg)
    if db is not None:
        _publish_workload(demo, db, store)
    reports = [r for r in (scan_report, _db_audit(demo, cfg)) if r is not None]
    if not reports:
        problems = "; ".join(e["message"] for e in demo.errors) or "no audit ran"
        raise AuditError(f"the demo could not audit anything: {problems}")
    from apiaudit.assemble import merge_reports

    report = merge_reports(reports, cfg.ruleset)
    if db is None:
        output.mark_database_missing(report)
    report.errors = [*report.errors, *demo.errors]
    report.stats["demo"] = {"store": store.kind, "fixes": sorted(demo.fixes)}
    return report


def _drive(demo: Demo) -> None:
    from apiaudit.demo.drive import drive

    assert demo.api is not None
    try:
        with demo.steps.step("Driving a workload through the API (it reaches PostgreSQL's statement log)"):
            drive(demo.api.url)
    except Exception as exc:  # the audits can still run on whatever reached the database
        demo.errors.append({"where": "demo workload", "message": f"{type(exc).__name__}: {exc}"[:800]})


def _publish_workload(demo: Demo, db: DemoDatabase, store: Store) -> None:
    """Make the workload visible to the database audit: table statistics and the statement log."""
    try:
        if isinstance(store, PgStore):
            store.refresh()
        if not db.flush_log():
            demo.errors.append(
                {"where": "demo", "message": "the server log did not show the workload in time"}
            )
    except Exception as exc:
        demo.errors.append(
            {"where": "demo workload", "message": redact_text(f"{type(exc).__name__}: {exc}")[:800]}
        )


def _start_api(demo: Demo) -> Store:
    store: Store = MemoryStore()
    if demo.db is not None:
        with demo.steps.step("Connecting the sample API to PostgreSQL"):
            store = PgStore(demo.db.dsn)
    try:
        with demo.steps.step(f"Starting the sample API ({store.kind} data)"):
            demo.api = start_sample_api(store, port=demo.port, fixes=demo.fixes)
    except OSError as exc:
        store.close()
        raise UsageError(f"cannot serve the sample API on port {demo.port}: {exc.strerror or exc}") from None
    fixed = f"  (fixed: {', '.join(sorted(demo.fixes))})" if demo.fixes else ""
    demo.steps.info(f"  API: {demo.api.url}{fixed}")
    return store


def _start_database(demo: Demo) -> None:
    bindir = find_demo_bindir()
    if bindir is None:
        demo.steps.note("PostgreSQL server binaries not found: auditing the HTTP half only.")
        demo.steps.note(
            f"To see the database half too, install them ({INSTALL_HINT}) and re-run `apiaudit demo`."
        )
        return
    try:
        with demo.steps.step("Starting a throwaway PostgreSQL and loading the sample schema"):
            demo.db = start_database(bindir)
    except Exception as exc:  # a broken local install must not stop the HTTP half
        demo.errors.append({"where": "demo PostgreSQL", "message": redact_text(str(exc))[:800]})
        demo.steps.note("PostgreSQL could not be started: auditing the HTTP half only.")
        return
    demo.db.reset_statistics()
    demo.steps.info(f"  PostgreSQL: {demo.db.dsn}  ({describe(bindir)})")
    if not demo.db.hypopg:
        demo.steps.note(f"HypoPG is not installed for this PostgreSQL: index advice is shown unverified "
                        f"({HYPOPG_HINT}).")


def _scan(demo: Demo, cfg: Any) -> Report | None:
    with demo.steps.step("Scanning the API (caching, compression, pagination, rate limits, latency...)"):
        try:
            from apiaudit.http.audit import ScanOptions, run_scan

            options = ScanOptions.from_cli(
                cfg,
                urls=[],
                openapi=None,
                headers=[],
                max_requests=None,
                concurrency=None,
                timeout=None,
                samples=None,
                burst=None,
                insecure=False,
                save_evidence=None,
                from_evidence=None,
                verbose=False,
                quiet=True,
            )
            scan_report: Report = run_scan(options, cfg)
            return scan_report
        except Exception as exc:  # ImportError too: an engine missing from this build
            demo.errors.append(
                {"where": "scan", "message": redact_text(f"{type(exc).__name__}: {exc}")[:800]}
            )
            return None


def _db_audit(demo: Demo, cfg: Any) -> Report | None:
    if demo.db is None:
        return None
    with demo.steps.step("Auditing PostgreSQL and its statement log (indexes, plans, N+1...)"):
        try:
            from apiaudit.db.audit import DbOptions, run_db_audit

            options = DbOptions.from_cli(
                cfg,
                dsn=demo.db.dsn,
                logs=[str(demo.db.log_file)],
                log_format=None,
                log_prefix=None,
                analyze=False,
                top=None,
                statement_timeout_ms=None,
                verbose=False,
                quiet=True,
            )
            db_report: Report = run_db_audit(options, cfg)
            return db_report
        except Exception as exc:  # ImportError too: an engine missing from this build
            demo.errors.append({"where": "db", "message": redact_text(f"{type(exc).__name__}: {exc}")[:800]})
            return None


def _publish(demo: Demo, report: Report) -> None:
    written = output.write_reports(report, demo.out, demo.steps)
    output.print_report(report)
    output.print_written(written, demo.steps)


def _wait(demo: Demo) -> None:
    assert demo.api is not None
    db = demo.db
    output.print_still_running(
        demo.steps,
        api_url=demo.api.url,
        config=demo.out / "apiaudit.yaml",
        dsn=db.dsn if db else None,
        log_file=db.log_file if db else None,
    )
    try:
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        demo.steps.info("Stopping.")


@contextlib.contextmanager
def _stop_on_exit(demo: Demo) -> Iterator[None]:
    """Stop the API and the cluster however the demo ends; a second Ctrl-C cannot cut the cleanup short."""
    try:
        yield
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if demo.api is not None:
                with contextlib.suppress(Exception):
                    demo.api.stop()
            if demo.db is not None:
                with contextlib.suppress(Exception):
                    demo.db.stop()
        finally:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

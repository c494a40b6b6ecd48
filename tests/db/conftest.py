"""Helpers for the db audit tests: run the audit in-process on a DSN, read findings by rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from apiaudit.config import Config
from apiaudit.db.audit import DbOptions, run_db_audit
from apiaudit.model import Report
from apiaudit.rules import load_rules

UNFILLED = re.compile(r"\{[a-z_]+\}")


def make_config(thresholds: dict[str, float] | None = None, db: dict[str, Any] | None = None) -> Config:
    return Config(ruleset=load_rules(), thresholds=dict(thresholds or {}), db=dict(db or {}))


@pytest.fixture
def audit() -> Callable[..., Report]:
    """``audit(dsn, thresholds=..., db=..., **cli) -> Report`` (in-process, same path as the CLI)."""

    def run(
        dsn: str | None,
        *,
        thresholds: dict[str, float] | None = None,
        db: dict[str, Any] | None = None,
        logs: list[str] | None = None,
        analyze: bool = False,
        top: int | None = None,
        statement_timeout_ms: int | None = None,
    ) -> Report:
        cfg = make_config(thresholds, db)
        options = DbOptions.from_cli(
            cfg,
            dsn=dsn,
            logs=logs or [],
            log_format=None,
            log_prefix=None,
            analyze=analyze,
            top=top,
            statement_timeout_ms=statement_timeout_ms,
        )
        report = run_db_audit(options, cfg)
        for f in report.findings:  # every template variable was supplied by the check
            assert not UNFILLED.search(f.message + f.fix), (f.rule, f.message, f.fix)
        return report

    return run


def findings(report: Report, rule: str) -> list[Any]:
    return [f for f in report.findings if f.rule == rule]


def tables_of(report: Report, rule: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (f.location["schema"], f.location["table"], tuple(f.location.get("columns") or ()))
        for f in findings(report, rule)
    }


def indexes_of(report: Report, rule: str) -> set[str]:
    return {f.location["index"] for f in findings(report, rule)}


def status(report: Report, item: str) -> str:
    return next(c.status for c in report.checklist if c.id == item)


def wait_for_stats(pg: Any, db: str, condition: str, timeout_s: float = 10.0) -> None:
    """Wait until ``condition`` (SQL returning one boolean) holds: a backend flushes its activity
    counters to pg_stat_* when it exits, a moment after psql returns."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pg.psql(f"SELECT ({condition})", db).strip() == "t":
            return
        time.sleep(0.05)
    raise AssertionError(f"statistics never showed: {condition}")


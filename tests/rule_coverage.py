"""Rule coverage and template strictness for the test session (issue 13, item 4).

What counts as *raised*: a finding produced by ``run_checks`` while a live audit is running —
``run_scan`` without ``--from-evidence`` (real HTTP exchanges), ``run_db_audit`` without
``--from-evidence`` (a real PostgreSQL and/or log files read by the log parser), ``run_cache_audit``
(a real Redis/memcached) or ``run_monitor`` (a real Prometheus). Evidence a test builds by hand and feeds to
``run_checks``/``build_report`` directly, and replays of saved evidence, are not counted: they prove
a check's logic, not that the real collectors can produce the situation. The audit entry points are
wrapped (module attributes, no change to apiaudit), so this works both in the pytest process and in
every ``apiaudit`` subprocess the tests start: ``sitecustomize`` in ``tests/rule_coverage_site`` (put
on PYTHONPATH by the plugin) installs the same wrappers when an apiaudit module is first imported.

Template strictness: every finding resolved against its rule (``assemble.resolve``, the one place
findings meet their wording) in a test process is checked: the check must supply every variable of
the rule's message and fix templates, and the values must format. A failure is recorded (and raised
in the pytest process), and the session gate lists it. Direct ``Rule.render_message`` calls are left
alone: the renderer's lenient production behaviour has its own unit tests.

Records are JSON lines appended to the file named by ``APIAUDIT_RULE_TRACE``. Kept free of heavy
imports: the CLI's start-up time is measured by the tests.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.abc
import importlib.machinery
import json
import os
import sys
from pathlib import Path
from typing import Any

TRACE_ENV = "APIAUDIT_RULE_TRACE"
SITE_DIR = Path(__file__).resolve().parent / "rule_coverage_site"
ALLOWLIST = Path(__file__).resolve().parent / "rule_coverage_allowlist.yaml"

_live: contextvars.ContextVar[str | None] = contextvars.ContextVar("apiaudit_live_audit", default=None)
_RAISE_IN_PROCESS = {"on": False}


class TemplateVariableMissing(AssertionError):
    """A rule template used a variable its check did not supply (or the value did not format)."""


def _write(record: dict[str, Any]) -> None:
    path = os.environ.get(TRACE_ENV)
    if not path:
        return
    record["test"] = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    line = json.dumps(record, default=str) + "\n"
    # O_APPEND writes below PIPE_BUF are atomic: subprocesses may write at the same time.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


# ---- wrappers ---------------------------------------------------------------------------------

def _live_entry(fn: Any, source: Any) -> Any:
    """Wrap an audit entry point: while it runs, findings from run_checks count as raised live."""
    if getattr(fn, "_rule_coverage", False):
        return fn

    @functools.wraps(fn)
    def wrapper(options: Any, *args: Any, **kwargs: Any) -> Any:
        label = source(options)
        token = _live.set(label) if label else None
        try:
            return fn(options, *args, **kwargs)
        finally:
            if token is not None:
                _live.reset(token)

    wrapper._rule_coverage = True  # type: ignore[attr-defined]
    return wrapper


def _recording_run_checks(fn: Any) -> Any:
    if getattr(fn, "_rule_coverage", False):
        return fn

    @functools.wraps(fn)
    def wrapper(kind: str, evidence: Any, ctx: Any) -> Any:
        run = fn(kind, evidence, ctx)
        label = _live.get()
        if label:
            for rule in sorted({f.rule_id for f in run.findings}):
                _write({"event": "raised", "rule": rule, "source": label})
        return run

    wrapper._rule_coverage = True  # type: ignore[attr-defined]
    return wrapper


def _scan_source(options: Any) -> str | None:
    return None if getattr(options, "from_evidence", None) else "http"


def _db_source(options: Any) -> str | None:
    if getattr(options, "from_evidence", None):
        return None
    parts = (["postgresql"] if getattr(options, "dsn", None) else []) + (["log"] if getattr(options, "logs", None)
                                                                          else [])
    return "+".join(parts) or None


def _cache_source(options: Any) -> str | None:
    return "cache"


def check_template(rule_id: str, part: str, template: str, variables: dict[str, Any]) -> str | None:
    """Why ``template`` cannot be filled from ``variables`` (None when it can)."""
    import string

    names: set[str] = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(name.split(".")[0].split("[")[0])
    missing = sorted(names - set(variables))
    if missing:
        return f"{rule_id}: {part} template needs {', '.join(missing)}, which the check did not supply"
    try:
        string.Formatter().vformat(template, (), variables)
    except Exception as exc:
        return f"{rule_id}: {part} template does not format with the check's values ({type(exc).__name__}: {exc})"
    return None


def _strict_resolve(fn: Any) -> Any:
    """Wrap ``assemble.resolve`` (where every finding meets its rule's wording): check each template."""
    if getattr(fn, "_rule_coverage", False):
        return fn

    @functools.wraps(fn)
    def wrapper(findings: list[Any], ruleset: Any, *args: Any, **kwargs: Any) -> Any:
        for f in findings:
            rule = ruleset.rules.get(f.rule_id)
            if rule is None or not rule.enabled:
                continue
            variables = {**f.location, **f.vars}
            for part, template in (("message", rule.message), ("fix", rule.fix)):
                problem = check_template(rule.id, part, template, variables)
                if problem:
                    _write({"event": "template", "rule": rule.id, "problem": problem})
                    if _RAISE_IN_PROCESS["on"]:
                        raise TemplateVariableMissing(problem)
        return fn(findings, ruleset, *args, **kwargs)

    wrapper._rule_coverage = True  # type: ignore[attr-defined]
    return wrapper


def patch_module(name: str, module: Any) -> None:
    """Install the wrappers into one freshly imported apiaudit module."""
    if name == "apiaudit.assemble":
        module.resolve = _strict_resolve(module.resolve)
    elif name == "apiaudit.http.audit":
        module.run_scan = _live_entry(module.run_scan, _scan_source)
        module.run_checks = _recording_run_checks(module.run_checks)
    elif name == "apiaudit.db.audit":
        module.run_db_audit = _live_entry(module.run_db_audit, _db_source)
        module.run_checks = _recording_run_checks(module.run_checks)
    elif name == "apiaudit.monitor.audit":
        module.run_monitor = _live_entry(module.run_monitor, lambda options: "prometheus")
        module.run_checks = _recording_run_checks(module.run_checks)
    elif name == "apiaudit.cache.audit":
        module.run_cache_audit = _live_entry(module.run_cache_audit, _cache_source)
        module.run_checks = _recording_run_checks(module.run_checks)
        package = sys.modules.get("apiaudit.cache")
        if package is not None and hasattr(package, "run_cache_audit"):
            package.run_cache_audit = module.run_cache_audit


PATCHED = ("apiaudit.assemble", "apiaudit.http.audit", "apiaudit.db.audit", "apiaudit.cache.audit",
           "apiaudit.monitor.audit")


class _PostImport(importlib.abc.MetaPathFinder):
    """Patch the audit modules right after their first import (no eager import of apiaudit)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                original = spec.loader.exec_module

                def exec_module(module: Any, _original: Any = original, _name: str = fullname) -> None:
                    _original(module)
                    patch_module(_name, module)

                spec.loader.exec_module = exec_module  # type: ignore[method-assign]
                return spec
        return None


def install(*, raise_in_process: bool = False) -> None:
    """Wrap the audit entry points and the template renderer, now or when first imported."""
    _RAISE_IN_PROCESS["on"] = raise_in_process
    for name in PATCHED:
        if name in sys.modules:
            patch_module(name, sys.modules[name])
    if not any(isinstance(f, _PostImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImport())


# ---- the gate ---------------------------------------------------------------------------------

def read_trace(path: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Raised rules (rule -> {source, test} of the first sighting) and template problems."""
    raised: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    if not path.is_file():
        return raised, problems
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("event") == "raised":
            raised.setdefault(rec["rule"], {"source": rec.get("source", ""), "test": rec.get("test", "")})
        elif rec.get("event") == "template":
            where = f" (in {rec['test']})" if rec.get("test") else ""
            problem = rec["problem"] + where
            if problem not in problems:
                problems.append(problem)
    return raised, problems


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """rule id -> reason; every entry must carry a reason."""
    import yaml

    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    entries = (data or {}).get("allow") or []
    out: dict[str, str] = {}
    for entry in entries:
        rid, reason = str(entry.get("rule", "")), str(entry.get("reason", "") or "").strip()
        if not rid or len(reason) < 20:
            raise ValueError(f"{path.name}: entry {entry!r} needs a rule id and a real reason")
        out[rid] = reason
    return out


def gate(all_rules: set[str], raised: set[str], allow: dict[str, str]) -> list[str]:
    """The lines that fail the session (empty when every rule is raised or allow-listed)."""
    lines = []
    missing = sorted(all_rules - raised - set(allow))
    if missing:
        lines.append(f"{len(missing)} rule(s) never raised against a real server, database, log or cache "
                     f"(raise them in a test, or allow-list with a reason in {ALLOWLIST.name}):")
        lines += [f"  {r}" for r in missing]
    unknown = sorted(set(allow) - all_rules)
    if unknown:
        lines.append(f"{ALLOWLIST.name} names rules that do not exist: {', '.join(unknown)}")
    stale = sorted(set(allow) & raised)
    if stale:
        lines.append(f"{ALLOWLIST.name} lists rules the suite now raises (remove them): {', '.join(stale)}")
    return lines

"""The check registry and runner.

A check is a pure function ``(evidence, ctx) -> Iterable[Finding | NotApplicable]`` registered with
the rule ids it may raise::

    @check("http.cache.no-cache-control", "http.cache.vary-star", kind="scan")
    def check_cache_control(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding]:
        ...
        yield Finding("http.cache.no-cache-control", {"url": url, "method": "GET"}, {"status": 200})

No IO, clock or randomness inside a check. Modules are listed explicitly per audit kind in
``CHECK_MODULES`` (each package's ``__init__.MODULES``); a meta-test ties every registered rule id
to ``rules/*.yaml`` and back.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from apiaudit.model import Finding
from apiaudit.rules import RuleSet

# Audit kinds and the package whose MODULES tuple lists their check modules.
CHECK_PACKAGES: dict[str, str] = {
    "scan": "apiaudit.http.checks",
    "db": "apiaudit.db.checks",
    "cache": "apiaudit.cache.checks",
}
# Which rule-id prefix belongs to which audit kind (used to explain not_assessed items).
KIND_OF_PREFIX: dict[str, str] = {"http": "scan", "db": "db", "cache": "cache"}


@dataclass(frozen=True)
class NotApplicable:
    """Yielded by a check that ran but had nothing to judge (e.g. no collection endpoint found).

    ``items`` defaults to every checklist item of the check's rules.
    """

    reason: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckContext:
    ruleset: RuleSet
    thresholds: dict[str, float]
    options: dict[str, Any] = field(default_factory=dict)

    def threshold(self, name: str) -> float:
        if name in self.thresholds:
            return self.thresholds[name]
        return self.ruleset.thresholds[name].default

    def enabled(self, rule_id: str) -> bool:
        rule = self.ruleset.rules.get(rule_id)
        return rule is not None and rule.enabled


CheckFn = Callable[[Any, CheckContext], Iterable[Finding | NotApplicable]]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    kind: str
    rules: tuple[str, ...]
    fn: CheckFn


REGISTRY: dict[str, CheckSpec] = {}


def check(*rule_ids: str, kind: str) -> Callable[[CheckFn], CheckFn]:
    if kind not in CHECK_PACKAGES:
        raise ValueError(f"unknown check kind {kind!r}")

    def register(fn: CheckFn) -> CheckFn:
        name = f"{fn.__module__}.{fn.__name__}"
        REGISTRY[name] = CheckSpec(name=name, kind=kind, rules=tuple(rule_ids), fn=fn)
        return fn

    return register


def load_checks(kind: str) -> list[CheckSpec]:
    package = importlib.import_module(CHECK_PACKAGES[kind])
    for module in getattr(package, "MODULES", ()):
        importlib.import_module(f"{CHECK_PACKAGES[kind]}.{module}")
    return [spec for spec in REGISTRY.values() if spec.kind == kind]


@dataclass
class CheckRun:
    findings: list[Finding] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)  # checklist items some check judged
    reasons: dict[str, str] = field(default_factory=dict)  # item -> why it was not judged
    errors: list[dict[str, str]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)

    def merge(self, other: CheckRun) -> None:
        self.findings.extend(other.findings)
        self.covered |= other.covered
        for item, reason in other.reasons.items():
            self.reasons.setdefault(item, reason)
        self.errors.extend(other.errors)
        self.kinds |= other.kinds


def run_checks(kind: str, evidence: Any, ctx: CheckContext) -> CheckRun:
    """Run every enabled check of ``kind``; a failing check is reported, never raised."""
    run = CheckRun(kinds={kind})
    for spec in load_checks(kind):
        live = [r for r in spec.rules if ctx.enabled(r)]
        if not live:
            continue
        items = {ctx.ruleset.rules[r].checklist for r in live}
        skipped: dict[str, str] = {}
        found: list[Finding] = []
        try:
            for out in spec.fn(evidence, ctx):
                if isinstance(out, NotApplicable):
                    for item in out.items or tuple(items):
                        skipped.setdefault(item, out.reason)
                    continue
                if out.rule_id not in spec.rules:
                    raise RuntimeError(f"raised {out.rule_id!r}, which it does not declare")
                if ctx.enabled(out.rule_id):
                    found.append(out)
        except Exception as exc:  # a broken check must not sink the audit; say which one broke
            run.errors.append({"where": f"check {spec.name}", "message": f"{type(exc).__name__}: {exc}"})
            continue
        run.findings.extend(found)
        judged = items - set(skipped) | {ctx.ruleset.rules[f.rule_id].checklist for f in found}
        run.covered |= judged
        for item, reason in skipped.items():
            if item not in judged:
                run.reasons.setdefault(item, reason)
    return run

"""The check registry and runner.

A check is a pure function ``(evidence, ctx) -> Iterable[Finding | NotApplicable]`` registered with
the rule ids it may raise and the evidence it needs (:class:`apiaudit.requirements.Req`)::

    @check("http.cache.no-cache-control", "http.cache.vary-star", kind="scan", requires=(Req.BASE_ANSWER,))
    def check_cache_control(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding]:
        ...
        yield Finding("http.cache.no-cache-control", {"url": url, "method": "GET"}, {"status": 200})

The evidence contract (DESIGN.md "Evidence rule"), enforced here for every check:

* Before a check runs, each of its ``requires`` is asked of the evidence (``evidence.available(req)``:
  True or the reason it is missing). A missing requirement, a crash, or a ``NotApplicable(missing=True)``
  marks the check's items *unmeasured*: such an item is never ``pass`` (``not_assessed`` with the
  reason, or warn/fail from real findings of other checks).
* A check that ran with its requirements met and yielded nothing for an item *judged* it (found nothing
  wrong). ``NotApplicable`` (missing=False) means "nothing to judge here": the item is left to others.
* ``pass_requires``: requirements without which the check still runs (its findings are real) but
  cannot vouch for its items (a sampled log can show an N+1, never prove there is none).
* A ``NotAsked`` reason (no DSN, no --log given) skips the check without blocking its items.
* ``findings_only=True``: the check can only report problems, never vouch for an item (apiaudit's own
  latency and error-rate measurements say nothing about whether the team monitors them).
* Info findings never judge an item on their own.

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
from apiaudit.requirements import NotAsked, Req
from apiaudit.rules import RuleSet

# Audit kinds and the package whose MODULES tuple lists their check modules.
CHECK_PACKAGES: dict[str, str] = {
    "scan": "apiaudit.http.checks",
    "db": "apiaudit.db.checks",
    "cache": "apiaudit.cache.checks",
    "monitor": "apiaudit.monitor.checks",
}
# Which rule-id prefix belongs to which audit kind (used to explain not_assessed items).
KIND_OF_PREFIX: dict[str, str] = {"http": "scan", "db": "db", "cache": "cache", "monitor": "monitor"}


@dataclass(frozen=True)
class NotApplicable:
    """Yielded by a check that ran but had nothing to judge (e.g. no collection endpoint found).

    ``items`` defaults to every checklist item of the check's rules. ``missing=True``: something the
    check needed was not measured (a refused probe, a changed ETag): the items cannot pass.
    """

    reason: str
    items: tuple[str, ...] = ()
    missing: bool = False


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
    requires: tuple[Req, ...] = ()
    findings_only: bool = False
    pass_requires: tuple[Req, ...] = ()


REGISTRY: dict[str, CheckSpec] = {}


def check(*rule_ids: str, kind: str, requires: tuple[Req, ...] = (), findings_only: bool = False,
          pass_requires: tuple[Req, ...] = ()) -> Callable[[CheckFn], CheckFn]:
    if kind not in CHECK_PACKAGES:
        raise ValueError(f"unknown check kind {kind!r}")
    for req in (*requires, *pass_requires):
        if not isinstance(req, Req):
            raise TypeError(f"requires= takes apiaudit.requirements.Req members, not {req!r}")

    def register(fn: CheckFn) -> CheckFn:
        name = f"{fn.__module__}.{fn.__name__}"
        REGISTRY[name] = CheckSpec(name=name, kind=kind, rules=tuple(rule_ids), fn=fn,
                                   requires=tuple(requires), findings_only=findings_only,
                                   pass_requires=tuple(pass_requires))
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
    # item -> what a check needed and did not get: such an item is never ``pass``
    unmeasured: dict[str, str] = field(default_factory=dict)
    crashed: list[str] = field(default_factory=list)  # names of checks that raised

    def merge(self, other: CheckRun) -> None:
        self.findings.extend(other.findings)
        self.covered |= other.covered
        for item, reason in other.reasons.items():
            self.reasons.setdefault(item, reason)
        for item, reason in other.unmeasured.items():
            self.unmeasured.setdefault(item, reason)
        self.errors.extend(other.errors)
        self.kinds |= other.kinds
        self.crashed.extend(other.crashed)


def missing_requirement(evidence: Any, requires: tuple[Req, ...]) -> str | None:
    """The first requirement the evidence cannot meet, as a reason (a :class:`NotAsked` when that
    evidence was not asked for); None when all are met.

    Evidence without ``available`` (hand-built test doubles) is taken at its word."""
    probe = getattr(evidence, "available", None)
    if probe is None:
        return None
    for req in requires:
        got = probe(req)
        if got is not True:
            return got if isinstance(got, str) and got else f"{req.value} not available"
    return None


def run_checks(kind: str, evidence: Any, ctx: CheckContext) -> CheckRun:
    """Run every enabled check of ``kind``; a failing check is reported, never raised."""
    run = CheckRun(kinds={kind})
    for spec in load_checks(kind):
        live = [r for r in spec.rules if ctx.enabled(r)]
        if not live:
            continue
        items = {ctx.ruleset.rules[r].checklist for r in live}
        if (why := missing_requirement(evidence, spec.requires)) is not None:
            _unmeasured(run, spec, items, why)
            continue
        _run_one(run, spec, items, evidence, ctx)
        if (why := missing_requirement(evidence, spec.pass_requires)) is not None:
            _unmeasured(run, spec, items, why)
    return run


def _unmeasured(run: CheckRun, spec: CheckSpec, items: set[str], why: str) -> None:
    """A check that could not judge: its items cannot pass (unless it only ever reports problems, or
    nobody asked for the evidence it needs)."""
    for item in sorted(items):
        if spec.findings_only or isinstance(why, NotAsked):
            run.reasons.setdefault(item, why)
        else:
            run.unmeasured.setdefault(item, why)


def _run_one(run: CheckRun, spec: CheckSpec, items: set[str], evidence: Any, ctx: CheckContext) -> None:
    skipped: dict[str, str] = {}
    missing: dict[str, str] = {}
    found: list[Finding] = []
    try:
        for out in spec.fn(evidence, ctx):
            if isinstance(out, NotApplicable):
                for item in out.items or tuple(sorted(items)):
                    (missing if out.missing else skipped).setdefault(item, out.reason)
                continue
            if out.rule_id not in spec.rules:
                raise RuntimeError(f"raised {out.rule_id!r}, which it does not declare")
            if ctx.enabled(out.rule_id):
                found.append(out)
    except Exception as exc:  # a broken check must not sink the audit; say which one broke
        message = f"{type(exc).__name__}: {exc}"
        run.errors.append({"where": f"check {spec.name}", "message": message})
        run.crashed.append(spec.name)
        # Findings a crashed check yielded before it broke are real; the items it judged are not.
        run.findings.extend(found)
        _unmeasured(run, spec, items, f"check {spec.name.rsplit('.', 1)[-1]} crashed ({message})")
        return
    run.findings.extend(found)
    for item, reason in missing.items():
        if spec.findings_only:
            skipped.setdefault(item, reason)
        else:
            run.unmeasured.setdefault(item, reason)
    judged = set() if spec.findings_only else items - set(skipped) - set(missing)
    run.covered |= judged
    for item, reason in skipped.items():
        if item not in judged:
            run.reasons.setdefault(item, reason)


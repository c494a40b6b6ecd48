"""Per-threshold/rule case files (tests/cases/*.yaml, sqlfluff's std_rule_cases style).

Each file: ``kind`` (scan|db|cache), a ``base`` evidence dict and named ``cases``; a case may
``set`` dotted paths of the base (``endpoints.0.exchanges.0.elapsed_ms: 500``), override
``thresholds`` and lists the rule ids it ``raises``, those that must stay ``absent``, exact ``counts``,
text the resolved ``messages`` must contain, a subset of a finding's ``evidence`` and not-assessed
``reasons``. Cases sit on
both sides of a boundary: the threshold exactly (no finding, or a finding for ``>=`` rules) and one
unit past it. Every threshold of rules/*.yaml has a file (test_every_threshold_has_cases).
"""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from apiaudit.assemble import resolve
from apiaudit.cache.evidence import CacheEvidence, KeySample, RelatedEvidence
from apiaudit.checks import CheckContext, NotApplicable, load_checks, run_checks
from apiaudit.db import evidence_io
from apiaudit.db.logs.evidence import HotRead, LogEvidence, NPlusOnePattern, SessionStats, SingleSelectTx
from apiaudit.http.evidence import ScanEvidence
from apiaudit.rules import load_rules

CASES = Path(__file__).resolve().parent.parent / "cases"
FILES = {p.stem: yaml.safe_load(p.read_text()) for p in sorted(CASES.glob("*.yaml"))}


def _set(doc: Any, path: str, value: Any) -> None:
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for p in parents:
        doc = doc[p]
    doc[last] = value


def _scan(d: dict[str, Any]) -> ScanEvidence:
    for ep in d.get("endpoints", []):
        for i, ex in enumerate(ep.get("exchanges", [])):
            ex.setdefault("id", f"x{i}"), ex.setdefault("url", ep["url"]), ex.setdefault("purpose", "base")
    return ScanEvidence.from_dict({"evidence_version": 1, "kind": "scan", **d})


def _cache(d: dict[str, Any]) -> CacheEvidence:
    return CacheEvidence(**{**d, "keys": [KeySample(**k) for k in d.get("keys", [])],
                            "related": RelatedEvidence(**d.get("related", {}))})


def _db(d: dict[str, Any]) -> Any:
    logs = d.pop("logs", None)
    ev = evidence_io.from_dict({"format": evidence_io.FORMAT, **d})
    if logs is not None:
        ev.logs = LogEvidence(**{**logs, "sessions": SessionStats(**logs.get("sessions", {})),
                                 "single_select_tx": [SingleSelectTx(**t) for t in logs.get("single_select_tx", [])],
                                 "hot_reads": [HotRead(**h) for h in logs.get("hot_reads", [])],
                                 "nplusone": [NPlusOnePattern(**p) for p in logs.get("nplusone", [])]})
    return ev


BUILD = {"scan": _scan, "cache": _cache, "db": _db}
PARAMS = [pytest.param(doc, case, id=f"{name}::{case['name']}") for name, doc in FILES.items() for case in doc["cases"]]


@pytest.mark.parametrize(("doc", "case"), PARAMS)
def test_case(doc: dict[str, Any], case: dict[str, Any]) -> None:
    evidence = copy.deepcopy(doc.get("base") or {})
    for path, value in (case.get("set") or {}).items():
        _set(evidence, path, value)
    ctx = CheckContext(ruleset=load_rules(), thresholds={**doc.get("thresholds", {}), **case.get("thresholds", {})})
    run = run_checks(doc["kind"], BUILD[doc["kind"]](copy.deepcopy(evidence)), ctx)
    assert not run.errors, run.errors
    resolved = resolve(run.findings, ctx.ruleset)  # every template fills from the check's variables (strict)
    raised = {f.rule_id for f in run.findings}
    assert set(case.get("raises", [])) <= raised, f"expected {case.get('raises')}, raised {sorted(raised)}"
    assert not set(case.get("absent", [])) & raised, f"must not raise {case.get('absent')}: {sorted(raised)}"
    for rule, n in (case.get("counts") or {}).items():
        assert [f.rule_id for f in run.findings].count(rule) == n, f"{rule}: expected {n} findings"
    texts = [f"{f.message}\n{f.fix}" for f in resolved]
    for text in case.get("messages", []):
        assert any(text in t for t in texts), f"no message says {text!r}: {[f.message for f in resolved]}"
    for rule, expected in (case.get("evidence") or {}).items():
        got = next(f.evidence for f in run.findings if f.rule_id == rule)
        assert {k: got.get(k) for k in expected} == expected, got
    if case.get("reasons"):  # any check's NotApplicable, not only the item's first reason
        said = [*run.reasons.values(), *_not_applicable(doc["kind"], BUILD[doc["kind"]](copy.deepcopy(evidence)), ctx)]
        for text in case["reasons"]:
            assert any(text in r for r in said), f"no not-assessed reason says {text!r}: {said}"


def _not_applicable(kind: str, ev: Any, ctx: CheckContext) -> list[str]:
    out = []
    for spec in load_checks(kind):
        with contextlib.suppress(Exception):
            out += [o.reason for o in spec.fn(ev, ctx) if isinstance(o, NotApplicable)]
    return out


def test_every_threshold_has_cases_on_both_sides() -> None:
    for name in load_rules().thresholds:
        doc = FILES.get(name)
        assert doc is not None, f"tests/cases/{name}.yaml is missing"
        if doc["kind"] == "collector":  # measured while collecting: the named live tests hold the boundary
            for ref in doc["tested_by"]:
                path, test = ref.split("::")
                assert f"def {test}(" in (CASES.parent.parent / path).read_text(), ref
            continue
        assert any(c.get("raises") for c in doc["cases"]) and any(c.get("absent") for c in doc["cases"]), name

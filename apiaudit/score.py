"""Checklist status and scores.

Formula (README "Scoring"):

* An item's status is decided by its worst finding: critical/high -> ``fail``, medium/low -> ``warn``,
  info or none -> ``pass``. An item no check judged is ``not_assessed`` (with a reason) and is left
  out of every score — never counted as passed. Evidence rule (DESIGN.md): info findings never judge
  an item on their own, and an *unmeasured* item (a check that needed it lacked evidence or crashed)
  is never ``pass``: ``not_assessed`` with that reason unless a real (low or worse) finding makes it
  warn/fail.
* Points: pass 100, warn 50, fail 0. A section's score is the mean of its assessed items' points;
  the overall score is the mean over all assessed items. Grade: A >= 90, B >= 80, C >= 70,
  D >= 60, else F.
* Monotone: the assessed set is fixed by which checks ran (a finding always belongs to an item its
  check judged), and adding a finding can only lower an item's points, so it can never raise a score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from apiaudit.model import SECTIONS, ChecklistStatus, ReportFinding, Severity
from apiaudit.rules import ChecklistItem

POINTS = {"pass": 100, "warn": 50, "fail": 0}
GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"), (0, "F"))


def status_for(severities: Iterable[Severity]) -> str:
    worst = max(severities, default=None)
    if worst is None or worst == Severity.INFO:
        return "pass"
    return "fail" if worst >= Severity.HIGH else "warn"


def grade_for(score: float | None) -> str | None:
    if score is None:
        return None
    return next(letter for floor, letter in GRADES if score >= floor)


def build_checklist(
    items: Mapping[str, ChecklistItem],
    findings: list[ReportFinding],
    assessed: set[str],
    reasons: Mapping[str, str],
    unmeasured: Mapping[str, str] | None = None,
) -> list[ChecklistStatus]:
    by_item: dict[str, list[ReportFinding]] = {}
    for f in findings:
        by_item.setdefault(f.checklist, []).append(f)
    unmeasured = unmeasured or {}
    out = []
    for item in items.values():
        mine = by_item.get(item.id, [])
        problems = any(f.severity > Severity.INFO for f in mine)
        if problems or (item.id in assessed and item.id not in unmeasured):
            # A warn/fail on an item that was only partly measured keeps why (saved reports re-judge it).
            status, reason = status_for(f.severity for f in mine), unmeasured.get(item.id)
        else:
            status = "not_assessed"
            reason = (unmeasured.get(item.id) or item.outside or reasons.get(item.id)
                      or "not assessed by this audit")
        out.append(ChecklistStatus(item.id, item.section, item.title, status, reason, [f.id for f in mine]))
    return out


def compute_score(checklist: list[ChecklistStatus]) -> dict[str, Any]:
    sections: dict[str, dict[str, Any]] = {}
    all_points: list[int] = []
    for section in SECTIONS:
        rows = [c for c in checklist if c.section == section]
        points = [POINTS[c.status] for c in rows if c.status in POINTS]
        all_points.extend(points)
        sections[section] = {
            "score": _mean(points),
            "assessed": len(points),
            "total": len(rows),
        }
    overall = _mean(all_points)
    return {"overall": overall, "grade": grade_for(overall), "sections": sections}


def _mean(points: list[int]) -> int | None:
    if not points:
        return None
    return round(sum(points) / len(points))

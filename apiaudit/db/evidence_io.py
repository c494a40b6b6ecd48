"""Save and replay db evidence (DESIGN.md: collected evidence is plain data that can be replayed).

``apiaudit db DSN --save-evidence FILE`` writes what was collected; ``apiaudit db --from-evidence FILE``
re-runs the checks offline (new thresholds, new rule versions) without touching the database.
Query-log evidence is not saved: give ``--log`` again to re-analyse the logs next to it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from apiaudit.db.evidence import DbEvidence, PlanResult
from apiaudit.db.workload import WorkloadQuery
from apiaudit.errors import ConfigError, UsageError
from apiaudit.fileio import atomic_write, bounded_text

FORMAT = "apiaudit-db-evidence/1"
_ROWS = ("server", "tables", "indexes", "foreign_keys", "settings", "activity",
         "sequences", "key_types", "xid_age", "vacuum", "sessions")


def to_dict(ev: DbEvidence) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "target": ev.target, "hypopg": ev.hypopg}
    for name in _ROWS:
        data[name] = getattr(ev, name)
    data["statements"] = None if ev.statements is None else [asdict(q) for q in ev.statements]
    data["workload"] = [asdict(q) for q in ev.workload]
    data["plans"] = None if ev.plans is None else [asdict(p) for p in ev.plans]
    data["column_stats"] = None if ev.column_stats is None else [[*k, v] for k, v in ev.column_stats.items()]
    data["raw_samples"] = dict(ev.raw_samples)
    data["notices"] = list(ev.notices)
    data["refused"] = dict(ev.refused)
    return data


def from_dict(data: dict[str, Any]) -> DbEvidence:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not {FORMAT} data")
    ev = DbEvidence(target=data.get("target"), hypopg=bool(data.get("hypopg")))
    for name in _ROWS:
        setattr(ev, name, data.get(name))
    ev.statements = None if data.get("statements") is None else [_query(q) for q in data["statements"]]
    ev.workload = [_query(q) for q in data.get("workload") or []]
    ev.plans = None if data.get("plans") is None else [_plan(p) for p in data["plans"]]
    stats = data.get("column_stats")
    ev.column_stats = None if stats is None else {(s, t, c): float(v) for s, t, c, v in stats}
    ev.raw_samples = {str(k): str(v) for k, v in (data.get("raw_samples") or {}).items()}
    ev.notices = [str(n) for n in data.get("notices") or []]
    ev.refused = {str(k): str(v) for k, v in (data.get("refused") or {}).items()}
    return ev


def _query(raw: dict[str, Any]) -> WorkloadQuery:
    known = {f.name for f in fields(WorkloadQuery)}
    return WorkloadQuery(**{k: v for k, v in raw.items() if k in known})


def _plan(raw: dict[str, Any]) -> PlanResult:
    known = {f.name for f in fields(PlanResult)}
    return PlanResult(**{k: v for k, v in raw.items() if k in known})


def save(ev: DbEvidence, path: str) -> None:
    try:
        atomic_write(path, json.dumps(to_dict(ev), indent=1, default=str) + "\n", named=True)
    except OSError as exc:
        raise UsageError(f"cannot write evidence {path}: {exc.strerror or exc}") from None


def load(path: str) -> DbEvidence:
    try:
        text = bounded_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read evidence {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return from_dict(json.loads(text))
    except RecursionError:
        raise ConfigError("not saved db evidence (nested too deeply)", where=path) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(f"not saved db evidence ({exc})", where=path) from None

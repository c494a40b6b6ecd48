"""N+1 queries (checklist: database.n_plus_one).

From a query log: the patterns :mod:`apiaudit.db.logs` found inside units of work. From
pg_stat_statements alone: a by-key read whose calls match the rows returned by another query and
far exceed its calls (child calls ≈ parent rows, ≥ N × parent calls) — lower confidence, since
counters cannot tell which request ran what.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.checks.logs import log_unusable
from apiaudit.db.logs.units import shape_kind
from apiaudit.db.workload import WorkloadQuery
from apiaudit.model import Finding

_CASTS = r"((?:\s*::\s*\w+)*)"  # "$1::uuid::UUID": any chain of casts on the parameter
_BY_KEY = re.compile(r"=\s*(?:CAST\(\s*)?\$(\d+)((?:\s+AS\s+[\w ]+)?)\)?" + _CASTS, re.I)
_KEY_FIRST = re.compile(r"(?:CAST\(\s*)?\$(\d+)(?:\s+AS\s+([\w ]+)\))?" + _CASTS + r"\s*=\s*([\w.\"]+)", re.I)
_LIMIT = re.compile(r"\bLIMIT\b", re.I)
ROWS_PER_CALL_TOLERANCE = 0.5  # child calls within ±50 % of the parent's rows (identity maps skip repeats)


def _array(n: str, cast: str | None, chain: str | None) -> str:
    types = [t.strip() for t in (chain or "").split("::") if t.strip()]
    typ = types[-1] if types else (cast or "").strip()
    return f"${n}::{typ}[]" if typ else f"${n}"


def batched_sql(sample: str) -> str:
    """The child query rewritten to fetch every key at once (``= $1`` → ``= ANY($1)``, keeping the
    parameter's type). A child with a LIMIT (``ORDER BY ... LIMIT 1`` per parent) keeps its meaning
    only per key, so it becomes a LATERAL join over the array of keys instead."""
    first = _KEY_FIRST.search(sample)
    m = first or _BY_KEY.search(sample)
    if m is None:
        return "WHERE key IN (…all parent keys…)"
    if first:
        array, column = _array(m.group(1), m.group(2), m.group(3)), m.group(4)
    else:
        array, column = _array(m.group(1), m.group(2).replace("AS", "", 1), m.group(3)), ""
    if _LIMIT.search(sample):
        key = "k.key = " + column if column else "= k.key"
        per_key = sample[: m.start()] + key + sample[m.end():]
        return f"SELECT per_key.* FROM unnest({array}) AS k(key) CROSS JOIN LATERAL ({per_key}) AS per_key"
    if first:
        return sample[: m.start()] + f"{column} = ANY({array})" + sample[m.end():]
    return sample[: m.start()] + f"= ANY({array})" + sample[m.end():]


@check("db.nplusone.lazy-load", kind="db")
def check_log_nplusone(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if why := log_unusable(getattr(ev, "logs", None), grouped=True):
        yield NotApplicable(why)
        return
    logs = ev.logs
    for p in logs.nplusone:
        time_text = f"; {p.total_ms:.1f} ms spent in them" if p.total_ms is not None else ""
        route_text = f" (route {p.route})" if p.route else ""
        loc = {"fingerprint": p.child, "sample": p.child_sample, "parent": p.parent or ""}
        yield Finding(
            "db.nplusone.lazy-load", loc,
            {"child_sample": p.child_sample, "statements": p.statements, "units": p.units,
             "max_repeats": p.max_repeats, "median_repeats": _num(p.median_repeats),
             "parent_text": p.parent_sample or "an earlier query (not identified)", "time_text": time_text,
             "route_text": route_text, "batched_sql": batched_sql(p.child_sample)},
            {"parent": p.parent, "parent_sample": p.parent_sample, "units": p.units,
             "statements": p.statements,
             "max_repeats": p.max_repeats, "median_repeats": p.median_repeats, "total_ms": p.total_ms,
             "min_repeats": logs.min_repeats, "route": p.route},
        )


@check("db.nplusone.calls-ratio", kind="db")
def check_calls_ratio(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if log_unusable(getattr(ev, "logs", None), grouped=True) is None:
        return  # the log shows real units of work; counters would only add guesses
    rows = [q for q in getattr(ev, "workload", None) or [] if "pg_stat_statements" in q.source and q.rows]
    if not rows:
        yield NotApplicable("pg_stat_statements rows (calls and rows per query) not available")
        return
    ratio_min = ctx.threshold("logs_nplusone_ratio_min")
    min_calls = ctx.threshold("logs_nplusone_ratio_min_calls")
    kinds = {q.fingerprint: shape_kind(q.sample, ()) for q in rows}
    parents = [q for q in rows if kinds[q.fingerprint] in ("select", "keyread") and q.calls > 0]
    for child in rows:
        if kinds[child.fingerprint] != "keyread" or child.calls < min_calls:
            continue
        best = _best_parent(child, parents, ratio_min)
        if best is None:
            continue
        ratio = child.calls / best.calls
        yield Finding(
            "db.nplusone.calls-ratio", {"fingerprint": child.fingerprint, "sample": child.sample,
                                        "parent": best.fingerprint},
            {"child_sample": child.sample, "child_calls": child.calls, "ratio": _num(round(ratio, 1)),
             "parent_sample": best.sample, "parent_rows": best.rows, "parent_calls": best.calls,
             "batched_sql": batched_sql(child.sample)},
            {"child_calls": child.calls, "parent_calls": best.calls, "parent_rows": best.rows,
             "calls_per_parent_call": round(ratio, 2), "confidence": "low"},
        )


def _best_parent(child: WorkloadQuery, parents: list[WorkloadQuery],
                 ratio_min: float) -> WorkloadQuery | None:
    best: tuple[float, str, WorkloadQuery] | None = None
    for parent in parents:
        if parent.fingerprint == child.fingerprint or not parent.rows:
            continue
        if child.calls < ratio_min * parent.calls:
            continue
        miss = abs(child.calls - parent.rows) / parent.rows
        if miss > ROWS_PER_CALL_TOLERANCE:
            continue
        key = (miss, parent.fingerprint)
        if best is None or key < best[:2]:
            best = (miss, parent.fingerprint, parent)
    return None if best is None else best[2]


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value

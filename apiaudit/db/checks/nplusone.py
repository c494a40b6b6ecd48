"""N+1 queries (checklist: database.n_plus_one).

From a query log: the patterns :mod:`apiaudit.db.logs` found inside units of work — HIGH only with a
parent query and a complete log (a sampled log gives "possible", low). From pg_stat_statements
alone: a by-key read whose calls match the rows returned by another query and far exceed its calls
(child calls ≈ parent rows, ≥ N × parent calls) — a guess (info), since counters cannot tell which
request ran what: on a real workload most such ratios are coincidences.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.checks.logs import log_unusable, sampled_ms
from apiaudit.db.logs.units import shape_kind
from apiaudit.db.workload import WorkloadQuery
from apiaudit.model import Finding
from apiaudit.requirements import Req

_TYPE = r"[\w\"]+(?:\s+[\w\"]+)*?"
# ``= $1``, ``= CAST(CAST($1 AS UUID) AS UUID)``, ``= $1::uuid::UUID``: a parameter behind any chain of casts.
_CASTS = rf"((?:CAST\(\s*)*)\$(\d+)((?:\s+AS\s+{_TYPE}\s*\))*)((?:\s*::\s*{_TYPE})*)"
_BY_KEY = re.compile(rf"=\s*{_CASTS}", re.I)
_KEY_FIRST = re.compile(rf"{_CASTS}\s*=\s*([\w.\"]+)", re.I)
_LAST_TYPE = re.compile(rf"(?:\bAS\s+|::\s*)({_TYPE})\s*\)?\s*$", re.I)
ROWS_PER_CALL_TOLERANCE = 0.5  # child calls within ±50 % of the parent's rows (identity maps skip repeats)


def _array_param(m: re.Match[str]) -> str:
    """``$n`` as an array of the parameter's outermost cast type: ``$1::UUID[]``."""
    opened, number, closes, colons = m.group(1), m.group(2), m.group(3), m.group(4)
    if opened.count("(") != closes.count(")"):
        return ""
    cast = _LAST_TYPE.search(colons or closes or "")
    return f"${number}::{cast.group(1).strip()}[]" if cast else f"${number}"


_LIMIT = re.compile(r"\bLIMIT\b", re.I)


def batched_sql(sample: str) -> str:
    """The child query rewritten to fetch every key at once (``= $1`` → ``= ANY($1)``, keeping the
    parameter's type). A child with a LIMIT (``ORDER BY ... LIMIT 1`` per parent) keeps its meaning
    only per key, so it becomes a LATERAL join over the array of keys instead."""
    for pattern, key_first in ((_KEY_FIRST, True), (_BY_KEY, False)):
        for m in pattern.finditer(sample):
            array = _array_param(m)
            if not array:
                continue
            column = m.group(5) if key_first else ""
            if _LIMIT.search(sample):
                key = f"k.key = {column}" if key_first else "= k.key"
                per_key = sample[: m.start()] + key + sample[m.end():]
                return f"SELECT per_key.* FROM unnest({array}) AS k(key) CROSS JOIN LATERAL ({per_key}) AS per_key"
            if key_first:
                return sample[: m.start()] + f"{column} = ANY({array})" + sample[m.end():]
            return sample[: m.start()] + f"= ANY({array})" + sample[m.end():]
    return "WHERE key IN (…all parent keys…)"


NO_PARENT = "db.nplusone.no-parent"
SAMPLED = "db.nplusone.sampled-log"


def _rule_for(parent: str | None, sampled: bool) -> str:
    """HIGH needs the whole story: every statement logged, and the query whose rows the loop walked.
    A sampled log shows only slow statements (at most "possible"); without a parent the repeats may be
    independent requests on one connection (never HIGH)."""
    if sampled:
        return SAMPLED
    return "db.nplusone.lazy-load" if parent else NO_PARENT


@check("db.nplusone.lazy-load", NO_PARENT, SAMPLED, kind="db",
       requires=(Req.LOG_STATEMENTS, Req.TRANSACTION_BOUNDARIES), pass_requires=(Req.EVERY_STATEMENT_LOGGED,))
def check_log_nplusone(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if why := log_unusable(ev, grouped=True, complete=False):
        yield NotApplicable(why)
        return
    logs = ev.logs
    sampled_below = sampled_ms(ev)
    sampled = sampled_below is not None
    for p in logs.nplusone:
        time_text = f"; {p.total_ms:.1f} ms spent in them" if p.total_ms is not None else ""
        route_text = f" (route {p.route})" if p.route else ""
        loc = {"fingerprint": p.child, "sample": p.child_sample, "parent": p.parent or ""}
        yield Finding(
            _rule_for(p.parent, sampled), loc,
            {"child_sample": p.child_sample, "statements": p.statements, "units": p.units,
             "max_repeats": p.max_repeats, "median_repeats": _num(p.median_repeats),
             "parent_text": p.parent_sample or "an earlier query (not identified)", "time_text": time_text,
             "route_text": route_text, "batched_sql": batched_sql(p.child_sample),
             "min_duration_ms": _num(round(sampled_below or 0.0, 1))},
            {"parent": p.parent, "parent_sample": p.parent_sample, "units": p.units,
             "statements": p.statements,
             "max_repeats": p.max_repeats, "median_repeats": p.median_repeats, "total_ms": p.total_ms,
             "min_repeats": logs.min_repeats, "route": p.route,
             "confidence": "possible" if sampled else ("high" if p.parent else "medium")},
        )


@check("db.nplusone.calls-ratio", kind="db", requires=(Req.WORKLOAD,))
def check_calls_ratio(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if log_unusable(ev, grouped=True) is None:
        return  # the log shows every statement in real units of work; counters would only add guesses
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
             "calls_per_parent_call": round(ratio, 2), "confidence": "guess"},
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

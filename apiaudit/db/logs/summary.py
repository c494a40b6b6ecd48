"""Turn a finished :class:`Collector` into :class:`LogEvidence` (workload, patterns, stats)."""

from __future__ import annotations

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.evidence import HotRead, LogEvidence, SessionStats, SingleSelectTx
from apiaudit.db.logs.filters import LogFilter
from apiaudit.db.workload import WorkloadQuery, rank

MAX_WORKLOAD = 500
MAX_LISTED = 50


def summarise(coll: Collector, ev: LogEvidence, counts: dict[str, int], formats: dict[str, int],
              files: list[str]) -> None:
    ev.workload = rank([
        WorkloadQuery(fingerprint=fp, sample=q.sample, calls=q.calls, source="log", total_ms=q.total_ms,
                      mean_ms=None if q.total_ms is None or not q.calls else q.total_ms / q.calls,
                      attributes=dict(q.tags))
        for fp, q in coll.queries.items() if q.kind not in ("begin", "commit", "rollback", "savepoint")
    ])[:MAX_WORKLOAD]
    ev.durations = coll.counts["durations"] > 0
    ev.literal_samples = {fp: list(q.literals) for fp, q in coll.queries.items() if q.literals}
    ev.sampled, ev.min_duration_ms = coll.sampled, coll.min_duration_ms
    samples = {fp: q.sample for fp, q in coll.queries.items()}
    routes = {fp: r for fp, q in coll.queries.items() if (r := _route(q.tags))}
    ev.nplusone = coll.book.patterns(samples, routes)
    ev.single_select_tx = sorted(
        (SingleSelectTx(fingerprint=fp, sample=samples[fp], transactions=n, calls=coll.queries[fp].calls)
         for fp, n in coll.single_tx.items()),
        key=lambda t: (-t.transactions, t.fingerprint))[:MAX_LISTED]
    ev.hot_reads = _hot_reads(coll, {p.child for p in ev.nplusone})
    sessions, med_stmts, med_life, span = coll.session_summary()
    ev.sessions = SessionStats(sessions=sessions, median_statements=med_stmts, median_lifetime_ms=med_life,
                               span_s=span, connections_logged=coll.counts["connections"])
    c = coll.counts
    ev.stats.update({
        "log_files": len(files), "log_formats": formats, "log_lines": counts["lines"],
        "log_parsed": counts["parsed"], "log_unparsed": counts["unparsed"],
        "log_statements": coll.n_statements, "log_reads": coll.n_reads,
        "log_queries": len(coll.queries), "log_sessions": sessions, "log_units": c["units"],
        "log_transactions": c["transactions"], "log_durations": c["durations"],
        "log_server_errors": c["server_errors"],
        "log_bind_parse": c["bind_parse"], "log_units_split": c["units_split"],
        "log_own_statements": c["own_statements"],  # apiaudit's own (/* apiaudit */), left out
        "log_units_signature": c["units_signature"], "log_units_rhythm": c["units_rhythm"],
        "log_sampled": coll.sampled, "log_min_duration_ms": coll.min_duration_ms,
    })
    if coll.sampled:
        ev.errors.append({"where": "log", "message": (
            f"the log holds only statements slower than about {coll.min_duration_ms:.0f} ms "
            "(log_min_duration_statement > 0): N+1 from it is at most possible; transactions, connection "
            "churn and repeated reads are not judged from it (set log_min_duration_statement = 0)")})
    if coll.other_severities:
        seen = ", ".join(sorted(coll.other_severities)[:6])
        ev.stats["log_non_english"] = sorted(coll.other_severities)
        ev.errors.append({"where": "log", "message": (
            f"server messages are not in English (saw {seen}): statements are only read from English "
            "messages; set lc_messages = 'C' on the server")})
    if coll.n_statements == 0 and counts["parsed"]:
        seen = "; ".join(repr(s) for s in coll.other_samples) or "none"
        ev.errors.append({"where": "log", "message": (
            f"no SQL statements found in {counts['parsed']} log lines (other LOG messages, e.g. {seen}): "
            "enable log_statement = 'all' or log_min_duration_statement, with lc_messages = 'C'")})
    if counts["unparsed"]:
        ev.errors.append({"where": "log", "message": (
            f"{counts['unparsed']} of {counts['lines']} log lines could not be parsed (wrong --log-prefix or "
            "--log-format, or corrupt lines)")})


def report_filter(coll: Collector, ev: LogEvidence, keep: LogFilter) -> None:
    """What --log-database/--log-user/--log-application left out, and what it could not place."""
    c = coll.counts
    ev.stats["log_filter"] = {"database": keep.database, "user": keep.user, "application": keep.application,
                              "from_dsn": keep.defaulted, "messages_left_out": c["filtered_out"],
                              "messages_unplaced": c["filter_unknown"]}
    if c["filter_unknown"] and not keep.defaulted:
        ev.errors.append({"where": "log", "message": (
            f"{c['filter_unknown']} log messages do not say their database/user/application, so the filter "
            f"({keep.describe()}) could not be applied to them: add %d/%u/%a to log_line_prefix or turn on "
            "log_connections")})


def _route(tags: dict[str, str]) -> str | None:
    for key in ("route", "controller", "action", "path"):
        if key in tags:
            return tags[key]
    return None


def _hot_reads(coll: Collector, children: set[str]) -> list[HotRead]:
    """Reads repeated with the same values; N+1 children are not among them: a per-row lazy load whose
    keys repeat (Django's ``plans.id = … LIMIT 21``) is fixed by eager loading, not by a cache."""
    best: dict[str, int] = {}
    for n, fp in coll.reads.values():
        if n > best.get(fp, 1) and fp not in children:
            best[fp] = n
    rows = [HotRead(fingerprint=fp, sample=coll.queries[fp].sample, repeats=n, calls=coll.queries[fp].calls,
                    total_ms=coll.queries[fp].total_ms) for fp, n in best.items()]
    return sorted(rows, key=lambda h: (-h.repeats, h.fingerprint))[:MAX_LISTED]

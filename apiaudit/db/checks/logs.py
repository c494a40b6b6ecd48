"""What a query log shows beyond N+1: transactions around lone SELECTs (database.transactions),
a connection per request (database.connection_pooling) and the same read repeated with the same
parameters (caching.application_cache). Every check reads ``ev.logs`` (LogEvidence or None)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.model import Finding
from apiaudit.requirements import Req

NO_LOG = "no query log given (apiaudit db --log FILE)"
_LOG_TARGET = {"target": "query log", "scope": "sessions"}


SAMPLED_LOG = ("the query log holds only statements slower than log_min_duration_statement (about {ms} ms): "
               "what is missing cannot be judged; log every statement (log_min_duration_statement = 0)")


def sampled_ms(ev: Any) -> float | None:
    """The duration below which the query log dropped statements, or None when it holds them all: seen
    in the log itself (LogEvidence.sampled), or in the server's settings when a DSN was given
    (log_min_duration_statement > 0 while log_statement is not 'all')."""
    logs = getattr(ev, "logs", None)
    if logs is not None and getattr(logs, "sampled", False):
        return float(getattr(logs, "min_duration_ms", None) or 0.0)
    server = {r["name"]: str(r["setting"]) for r in getattr(ev, "settings", None) or []
              if r.get("level") == "server"}
    try:
        ms = float(server.get("log_min_duration_statement", "-1"))
    except ValueError:
        return None
    return ms if ms > 0 and server.get("log_statement", "all") != "all" else None


def log_unusable(ev: Any, *, grouped: bool, complete: bool = True) -> str | None:
    """Why the query log (``ev.logs``) cannot be judged (None: it can). A log with no statement judges
    nothing, and must not turn into a pass; ``grouped``: the check needs statements grouped into
    sessions; ``complete``: it needs every statement (a sampled log cannot show a lone SELECT's
    transaction, a session's statement count or how often a read repeats)."""
    logs = getattr(ev, "logs", None)
    if logs is None:
        return NO_LOG
    if not int(logs.stats.get("log_statements") or 0):
        return "the query log holds no statements (unreadable file, or log_statement/log_min_duration off)"
    if complete and (ms := sampled_ms(ev)) is not None:
        return SAMPLED_LOG.format(ms=f"{ms:.0f}")
    return logs.grouping if grouped else None


@check("db.tx.single-select", kind="db", requires=(Req.LOG_STATEMENTS, Req.TRANSACTION_BOUNDARIES),
       pass_requires=(Req.EVERY_STATEMENT_LOGGED,))
def check_single_select_tx(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    logs: Any = getattr(ev, "logs", None)
    if why := log_unusable(ev, grouped=True):
        yield NotApplicable(why)
        return
    least = ctx.threshold("logs_single_select_tx_min")
    for tx in logs.single_select_tx:
        if tx.transactions >= least:
            yield Finding("db.tx.single-select", {"fingerprint": tx.fingerprint, "sample": tx.sample},
                          {"sample": tx.sample, "transactions": tx.transactions, "calls": tx.calls},
                          {"transactions": tx.transactions, "calls": tx.calls})


@check("db.pool.connection-churn", kind="db", requires=(Req.LOG_STATEMENTS, Req.TRANSACTION_BOUNDARIES),
       pass_requires=(Req.EVERY_STATEMENT_LOGGED,))
def check_connection_churn(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    logs: Any = getattr(ev, "logs", None)
    if why := log_unusable(ev, grouped=True):
        yield NotApplicable(why)
        return
    s = logs.sessions
    if s.sessions < ctx.threshold("logs_churn_min_sessions"):
        yield NotApplicable(f"the log shows only {s.sessions} client session(s), too few to judge pooling")
        return
    if s.median_statements > ctx.threshold("logs_churn_max_statements"):
        return
    lifetime = ""
    if s.median_lifetime_ms is not None:
        lifetime = f", living a median of {s.median_lifetime_ms:.0f} ms"
    rate = ""
    if s.span_s:
        rate = f" ({s.sessions / max(s.span_s, 1.0) * 60:.0f} new sessions a minute)"
    yield Finding("db.pool.connection-churn", dict(_LOG_TARGET),
                  {"sessions": s.sessions, "median_statements": _num(s.median_statements),
                   "lifetime_text": lifetime, "rate_text": rate},
                  s.to_dict())


@check("db.cache.hot-read", kind="db", requires=(Req.LOG_STATEMENTS,),
       pass_requires=(Req.EVERY_STATEMENT_LOGGED,))
def check_hot_reads(ev: Any, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    logs: Any = getattr(ev, "logs", None)
    if why := log_unusable(ev, grouped=False):
        yield NotApplicable(why)
        return
    least = ctx.threshold("logs_hot_read_min_repeats")
    reads = int(logs.stats.get("log_reads") or 0)
    if reads < least:
        yield NotApplicable(f"the query log holds {reads} table reads, too few to judge repeated reads")
        return
    for hot in logs.hot_reads:
        if hot.repeats < least:
            continue
        time_text = f", {hot.total_ms:.1f} ms in all" if hot.total_ms is not None else ""
        yield Finding("db.cache.hot-read", {"fingerprint": hot.fingerprint, "sample": hot.sample},
                      {"sample": hot.sample, "repeats": hot.repeats, "calls": hot.calls,
                       "time_text": time_text},
                      {"repeats": hot.repeats, "calls": hot.calls, "total_ms": hot.total_ms})


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value

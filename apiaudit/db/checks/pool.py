"""Connection pooling and transactions (checklist: database.connection_pooling, database.transactions)
from pg_stat_activity and the effective settings (server, database and role level)."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.db.evidence import DbEvidence, Row
from apiaudit.model import Finding
from apiaudit.requirements import Req


def _server_setting(settings: list[Row], name: str) -> str | None:
    for s in settings:
        if s["level"] == "server" and s["name"] == name:
            return str(s["setting"])
    return None


def _database(ev: DbEvidence) -> str:
    return str((ev.server or {}).get("database") or "")


@check("db.pool.connections-high", "db.pool.no-pool", "db.pool.idle-connections", kind="db",
       requires=(Req.CATALOG_ACTIVITY, Req.CATALOG_SETTINGS), pass_requires=(Req.PRIV_READ_ALL_STATS,))
def check_pool(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.activity is None or ev.settings is None:
        yield NotApplicable(ev.unavailable("pg_stat_activity or pg_settings"))
        return
    max_conn = int(_server_setting(ev.settings, "max_connections") or 100)
    total = sum(int(a["connections"]) for a in ev.activity) + 1  # + this audit's own session
    pct = 100.0 * total / max_conn
    target = {"target": _database(ev), "scope": "server"}
    if pct >= ctx.threshold("db_connections_warn_pct"):
        yield Finding(
            "db.pool.connections-high",
            target,
            {"connections": total, "max_connections": max_conn, "pct": round(pct)},
            {"connections": total, "max_connections": max_conn},
        )
    per_app: dict[str, int] = {}
    for a in ev.activity:
        per_app[a["application"]] = per_app.get(a["application"], 0) + int(a["connections"])
    for app, n in sorted(per_app.items()):
        if n > ctx.threshold("db_app_connections_max"):
            yield Finding(
                "db.pool.no-pool",
                {"target": _database(ev), "scope": "application", "application": app},
                {"connections": n},
                {"connections": n},
            )
    idle = sum(int(a["connections"]) for a in ev.activity if a["state"] == "idle")
    if 100.0 * idle / max_conn >= ctx.threshold("db_idle_connections_pct"):
        yield Finding(
            "db.pool.idle-connections",
            {**target, "scope": "idle"},
            {"idle": idle, "pct": round(100.0 * idle / max_conn), "max_connections": max_conn},
            {"idle": idle, "max_connections": max_conn},
        )


# Without pg_read_all_stats other roles' sessions show no state: an idle-in-transaction session of
# another role is invisible, so what is seen is reported and the item cannot pass.
@check("db.tx.idle-in-transaction", "db.tx.long-running", kind="db", requires=(Req.CATALOG_ACTIVITY,),
       pass_requires=(Req.PRIV_READ_ALL_STATS,))
def check_transactions(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.activity is None:
        yield NotApplicable(ev.unavailable("pg_stat_activity"))
        return
    idle_max, long_max = ctx.threshold("db_idle_in_tx_max_s"), ctx.threshold("db_long_xact_max_s")
    for a in ev.activity:
        loc = {
            "target": a["database"],
            "scope": "session",
            "application": a["application"],
            "role": a["role"],
        }
        if a["state"].startswith("idle in transaction") and float(a["max_state_age_s"]) > idle_max:
            yield Finding(
                "db.tx.idle-in-transaction",
                {**loc, "state": a["state"]},
                {
                    "connections": int(a["connections"]),
                    "age_s": round(float(a["max_state_age_s"])),
                    "database": a["database"],
                },
                {"connections": int(a["connections"]), "age_s": round(float(a["max_state_age_s"]))},
            )
        if float(a["max_xact_age_s"]) > long_max:
            yield Finding(
                "db.tx.long-running",
                {**loc, "scope": "transaction"},
                {"age_s": round(float(a["max_xact_age_s"])), "state": a["state"]},
                {"age_s": round(float(a["max_xact_age_s"])), "state": a["state"]},
            )


def _effective_off(settings: list[Row], name: str) -> bool:
    """Off at server level and not set (to non-zero) for the database or any role in it."""
    values = [str(s["setting"]) for s in settings if s["name"] == name]
    return all(v in ("0", "0ms", "0s", "") for v in values)


@check("db.tx.no-idle-timeout", "db.tx.no-statement-timeout", kind="db", requires=(Req.CATALOG_SETTINGS,))
def check_timeouts(ev: DbEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    if ev.settings is None:
        yield NotApplicable(ev.unavailable("pg_settings"))
        return
    loc = {"target": _database(ev), "scope": "settings"}
    for name, rule in (
        ("idle_in_transaction_session_timeout", "db.tx.no-idle-timeout"),
        ("statement_timeout", "db.tx.no-statement-timeout"),
    ):
        if _effective_off(ev.settings, name):
            yield Finding(rule, {**loc, "setting": name}, {"database": _database(ev)}, {"setting": name})

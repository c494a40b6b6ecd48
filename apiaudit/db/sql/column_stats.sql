-- Planner statistics per column (pg_stats), for the given tables or, with an empty list, for every
-- audited table: n_distinct of leading index columns (low cardinality) and of candidate index
-- columns when HypoPG is not there to verify them. Negative n_distinct is a fraction of the rows.
SELECT
    s.schemaname AS schema,
    s.tablename AS table,
    s.attname AS column,
    s.n_distinct::float8 AS n_distinct,
    s.null_frac::float8 AS null_frac
FROM pg_stats s
WHERE (cardinality(%(tables)s::text[]) = 0 OR s.tablename = ANY (%(tables)s))
  AND s.schemaname <> ALL (%(excluded_schemas)s)
  AND (cardinality(%(schemas)s::text[]) = 0 OR s.schemaname = ANY (%(schemas)s))

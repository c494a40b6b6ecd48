-- Planner statistics for the given columns (pg_stats): selectivity of candidate index columns
-- when HypoPG is not available to verify them.
SELECT
    s.schemaname AS schema,
    s.tablename AS table,
    s.attname AS column,
    s.n_distinct::float8 AS n_distinct,
    s.null_frac::float8 AS null_frac
FROM pg_stats s
WHERE s.tablename = ANY (%(tables)s)
  AND s.schemaname <> ALL (%(excluded_schemas)s)

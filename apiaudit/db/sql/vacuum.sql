-- Vacuum state of the audited schemas' tables: dead and live tuple counts, the last (auto)vacuum,
-- and the table's autovacuum_enabled reloption (raw text; NULL when not set). Bounded: tables with
-- autovacuum switched off first, then the most dead tuples.
SELECT
    n.nspname AS schema,
    c.relname AS table,
    COALESCE(s.n_live_tup, 0)::pg_catalog.int8 AS n_live_tup,
    COALESCE(s.n_dead_tup, 0)::pg_catalog.int8 AS n_dead_tup,
    EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-)
        GREATEST(s.last_autovacuum, s.last_vacuum))::pg_catalog.float8 AS vacuum_age_s,
    av.value AS autovacuum_enabled
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid OPERATOR(pg_catalog.=) c.oid
LEFT JOIN LATERAL (
    SELECT o.option_value AS value
    FROM pg_catalog.pg_options_to_table(c.reloptions) o
    WHERE o.option_name OPERATOR(pg_catalog.=) 'autovacuum_enabled'
) av ON true
WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'm']::pg_catalog."char"[])
  AND (COALESCE(s.n_dead_tup, 0) OPERATOR(pg_catalog.>) 0 OR av.value IS NOT NULL)
  AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
ORDER BY (av.value IS NOT NULL) DESC, COALESCE(s.n_dead_tup, 0) DESC, n.nspname, c.relname
LIMIT 500

-- Every index of the audited schemas with what duplicate/coverage comparisons need:
-- key attnums (0 = expression), opclasses, collations, expressions, predicate, and usage.
-- Only the first indnkeyatts entries of indkey are key columns; the rest are INCLUDE columns
-- (PostgreSQL docs, "pg_index"). The first key column's name and type serve the low-cardinality
-- check; its n_distinct comes from column_stats.sql (joined to pg_stats here, the planner
-- misestimates the view and merge-joins on the schema name alone: seconds on 6,700 indexes).
SELECT
    n.nspname AS schema,
    t.relname AS table,
    t.oid::bigint AS table_oid,
    i.relname AS index,
    am.amname AS method,
    x.indisunique AS is_unique,
    x.indisprimary AS is_primary,
    x.indisexclusion AS is_exclusion,
    x.indisvalid AS is_valid,
    x.indisready AS is_ready,
    x.indnkeyatts AS nkeys,
    (x.indkey::int2[])[0:x.indnkeyatts - 1]::int[] AS key_attnums,
    (x.indkey::int2[])[x.indnkeyatts:]::int[] AS include_attnums,
    ARRAY(
        SELECT COALESCE(a.attname, '')
        FROM unnest((x.indkey::int2[])[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
        ORDER BY k.ord
    ) AS key_columns,
    (x.indclass::oid[])::bigint[] AS opclasses,
    (x.indcollation::oid[])::bigint[] AS collations,
    (x.indoption::int2[])::int[] AS options,
    pg_get_expr(x.indexprs, x.indrelid) AS expressions,
    pg_get_expr(x.indpred, x.indrelid) AS predicate,
    -- IN (not EXISTS): pg_constraint has no index on conindid; IN lets the planner hash it once.
    x.indexrelid IN (SELECT k.conindid FROM pg_constraint k WHERE k.conindid <> 0) AS backs_constraint,
    COALESCE(s.idx_scan, 0)::bigint AS idx_scan,
    -- relpages (as of the last VACUUM/ANALYZE), not pg_relation_size: no file stat per index.
    (i.relpages::bigint * current_setting('block_size')::bigint) AS bytes,
    fa.attname AS first_column,
    format_type(fa.atttypid, fa.atttypmod) AS first_type
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
LEFT JOIN pg_attribute fa ON fa.attrelid = t.oid AND fa.attnum = x.indkey[0] AND x.indkey[0] > 0
WHERE t.relkind IN ('r', 'p', 'm')
  AND n.nspname <> ALL (%(excluded_schemas)s)
  AND n.nspname !~ '^pg_toast'
  AND (cardinality(%(schemas)s::text[]) = 0 OR n.nspname = ANY (%(schemas)s))
ORDER BY n.nspname, t.relname, i.relname

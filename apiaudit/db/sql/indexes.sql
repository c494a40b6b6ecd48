-- Every index of the audited schemas with what duplicate/coverage comparisons need:
-- key attnums (0 = expression), opclasses, collations, expressions, predicate, and usage.
-- Only the first indnkeyatts entries of indkey are key columns; the rest are INCLUDE columns
-- (PostgreSQL docs, "pg_index"). The first key column's name and type serve the low-cardinality
-- check; its n_distinct comes from column_stats.sql (joined to pg_stats here, the planner
-- misestimates the view and merge-joins on the schema name alone: seconds on 6,700 indexes).
SELECT
    n.nspname AS schema,
    t.relname AS table,
    t.oid::pg_catalog.int8 AS table_oid,
    i.relname AS index,
    am.amname AS method,
    x.indisunique AS is_unique,
    x.indisprimary AS is_primary,
    x.indisexclusion AS is_exclusion,
    x.indisvalid AS is_valid,
    x.indisready AS is_ready,
    x.indnkeyatts AS nkeys,
    (x.indkey::pg_catalog.int2[])[0:x.indnkeyatts OPERATOR(pg_catalog.-) 1::pg_catalog.int2]::pg_catalog.int4[]
        AS key_attnums,
    (x.indkey::pg_catalog.int2[])[x.indnkeyatts:]::pg_catalog.int4[] AS include_attnums,
    ARRAY(
        SELECT COALESCE(a.attname, '')
        FROM pg_catalog.unnest(
            (x.indkey::pg_catalog.int2[])[0:x.indnkeyatts OPERATOR(pg_catalog.-) 1::pg_catalog.int2]
        ) WITH ORDINALITY AS k(attnum, ord)
        LEFT JOIN pg_catalog.pg_attribute a
          ON a.attrelid OPERATOR(pg_catalog.=) t.oid AND a.attnum OPERATOR(pg_catalog.=) k.attnum
         AND k.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2
        ORDER BY k.ord
    ) AS key_columns,
    (x.indclass::pg_catalog.oid[])::pg_catalog.int8[] AS opclasses,
    (x.indcollation::pg_catalog.oid[])::pg_catalog.int8[] AS collations,
    (x.indoption::pg_catalog.int2[])::pg_catalog.int4[] AS options,
    pg_catalog.pg_get_expr(x.indexprs, x.indrelid) AS expressions,
    pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
    -- = ANY of a sub-select, not EXISTS: pg_constraint has no index on conindid; the planner hashes it once.
    x.indexrelid OPERATOR(pg_catalog.=) ANY (
        SELECT k.conindid FROM pg_catalog.pg_constraint k WHERE k.conindid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
    ) AS backs_constraint,
    COALESCE(s.idx_scan, 0)::pg_catalog.int8 AS idx_scan,
    -- relpages (as of the last VACUUM/ANALYZE), not pg_relation_size: no file stat per index.
    (i.relpages::pg_catalog.int8 OPERATOR(pg_catalog.*) pg_catalog.current_setting('block_size')::pg_catalog.int8)
        AS bytes,
    fa.attname AS first_column,
    pg_catalog.format_type(fa.atttypid, fa.atttypmod) AS first_type
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace
JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) i.relam
LEFT JOIN pg_catalog.pg_stat_user_indexes s ON s.indexrelid OPERATOR(pg_catalog.=) x.indexrelid
LEFT JOIN pg_catalog.pg_attribute fa
  ON fa.attrelid OPERATOR(pg_catalog.=) t.oid AND fa.attnum OPERATOR(pg_catalog.=) x.indkey[0]
 AND x.indkey[0] OPERATOR(pg_catalog.>) 0::pg_catalog.int2
WHERE t.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,m}'::pg_catalog."char"[])
  AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
ORDER BY n.nspname, t.relname, i.relname

-- Tables of the audited schemas with size and activity counters (one row per table).
-- reltuples is the planner's row estimate (-1 when never analysed, PG 14+); n_live_tup is the
-- statistics collector's count. The larger of the two is used as "rows"; a partitioned table
-- (relkind 'p', no storage) counts the rows of its leaf partitions (pg_partition_tree, PG 12+).
SELECT
    n.nspname AS schema,
    c.relname AS table,
    c.oid::pg_catalog.int8 AS oid,
    c.relkind::pg_catalog.text AS relkind,
    c.relispartition AS is_partition,
    (SELECT i.inhparent FROM pg_catalog.pg_inherits i
     WHERE i.inhrelid OPERATOR(pg_catalog.=) c.oid AND c.relispartition)::pg_catalog.int8 AS parent_oid,
    CASE
        WHEN c.relkind OPERATOR(pg_catalog.=) 'p'::pg_catalog."char" THEN (
            SELECT COALESCE(pg_catalog.sum(GREATEST(p.reltuples, ps.n_live_tup, 0)), 0)
            FROM pg_catalog.pg_partition_tree(c.oid::pg_catalog.regclass) pt
            JOIN pg_catalog.pg_class p ON p.oid OPERATOR(pg_catalog.=) pt.relid
            LEFT JOIN pg_catalog.pg_stat_user_tables ps ON ps.relid OPERATOR(pg_catalog.=) p.oid
            WHERE pt.isleaf
        )
        ELSE GREATEST(c.reltuples, COALESCE(s.n_live_tup, 0), 0)
    END::pg_catalog.int8 AS rows,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2
       AND NOT a.attisdropped) AS ncols,
    COALESCE(s.seq_scan, 0)::pg_catalog.int8 AS seq_scan,
    COALESCE(s.seq_tup_read, 0)::pg_catalog.int8 AS seq_tup_read,
    COALESCE(s.idx_scan, 0)::pg_catalog.int8 AS idx_scan,
    COALESCE(s.idx_tup_fetch, 0)::pg_catalog.int8 AS idx_tup_fetch,
    COALESCE(s.n_tup_ins, 0)::pg_catalog.int8 AS n_tup_ins,
    COALESCE(s.n_tup_upd, 0)::pg_catalog.int8 AS n_tup_upd,
    COALESCE(s.n_tup_del, 0)::pg_catalog.int8 AS n_tup_del,
    COALESCE(s.n_tup_hot_upd, 0)::pg_catalog.int8 AS n_tup_hot_upd
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid OPERATOR(pg_catalog.=) c.oid
WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
  AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
ORDER BY n.nspname, c.relname

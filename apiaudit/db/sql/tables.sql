-- Tables of the audited schemas with size and activity counters (one row per table).
-- reltuples is the planner's row estimate (-1 when never analysed, PG 14+); n_live_tup is the
-- statistics collector's count. The larger of the two is used as "rows"; a partitioned table
-- (relkind 'p', no storage) counts the rows of its leaf partitions (pg_partition_tree, PG 12+).
SELECT
    n.nspname AS schema,
    c.relname AS table,
    c.oid::bigint AS oid,
    c.relkind::text AS relkind,
    c.relispartition AS is_partition,
    (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition)::bigint AS parent_oid,
    CASE
        WHEN c.relkind = 'p' THEN (
            SELECT COALESCE(sum(GREATEST(p.reltuples, ps.n_live_tup, 0)), 0)
            FROM pg_partition_tree(c.oid) pt
            JOIN pg_class p ON p.oid = pt.relid
            LEFT JOIN pg_stat_user_tables ps ON ps.relid = p.oid
            WHERE pt.isleaf
        )
        ELSE GREATEST(c.reltuples, COALESCE(s.n_live_tup, 0), 0)
    END::bigint AS rows,
    (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS ncols,
    COALESCE(s.seq_scan, 0)::bigint AS seq_scan,
    COALESCE(s.seq_tup_read, 0)::bigint AS seq_tup_read,
    COALESCE(s.idx_scan, 0)::bigint AS idx_scan,
    COALESCE(s.idx_tup_fetch, 0)::bigint AS idx_tup_fetch,
    COALESCE(s.n_tup_ins, 0)::bigint AS n_tup_ins,
    COALESCE(s.n_tup_upd, 0)::bigint AS n_tup_upd,
    COALESCE(s.n_tup_del, 0)::bigint AS n_tup_del,
    COALESCE(s.n_tup_hot_upd, 0)::bigint AS n_tup_hot_upd
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> ALL (%(excluded_schemas)s)
  AND n.nspname !~ '^pg_toast'
  AND (cardinality(%(schemas)s::text[]) = 0 OR n.nspname = ANY (%(schemas)s))
ORDER BY n.nspname, c.relname

-- Server-wide facts in one row: version, recovery state, replicas, statistics age,
-- buffer cache hits for tables and indexes (pg_statio_user_tables), database write counters,
-- and the schemas of the extensions we call (not on the pinned search_path).
SELECT
    pg_catalog.current_setting('server_version_num')::pg_catalog.int4 AS version_num,
    pg_catalog.current_database() AS database,
    pg_catalog.pg_is_in_recovery() AS in_recovery,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_replication) AS replicas,
    (SELECT EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) d.stats_reset)
     FROM pg_catalog.pg_stat_database d
     WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())::pg_catalog.float8 AS stats_age_s,
    (SELECT COALESCE(pg_catalog.sum(heap_blks_hit), 0) FROM pg_catalog.pg_statio_user_tables)::pg_catalog.int8 AS heap_hit,
    (SELECT COALESCE(pg_catalog.sum(heap_blks_read), 0) FROM pg_catalog.pg_statio_user_tables)::pg_catalog.int8 AS heap_read,
    (SELECT COALESCE(pg_catalog.sum(idx_blks_hit), 0) FROM pg_catalog.pg_statio_user_tables)::pg_catalog.int8 AS idx_hit,
    (SELECT COALESCE(pg_catalog.sum(idx_blks_read), 0) FROM pg_catalog.pg_statio_user_tables)::pg_catalog.int8 AS idx_read,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension
     WHERE extname OPERATOR(pg_catalog.=) 'pg_stat_statements') AS has_pgss,
    (SELECT n.nspname FROM pg_catalog.pg_extension e
     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'pg_stat_statements') AS pgss_schema,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension
     WHERE extname OPERATOR(pg_catalog.=) 'hypopg') AS has_hypopg,
    (SELECT n.nspname FROM pg_catalog.pg_extension e
     JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
     WHERE e.extname OPERATOR(pg_catalog.=) 'hypopg') AS hypopg_schema,
    (SELECT pg_catalog.count(*) FROM pg_catalog.pg_available_extensions
     WHERE name OPERATOR(pg_catalog.=) 'hypopg') AS hypopg_available,
    -- Without pg_read_all_stats (or superuser) other roles' sessions in pg_stat_activity have no
    -- state and no backend_type (PostgreSQL docs, 28.2.3): idle-in-transaction sessions are invisible.
    pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats

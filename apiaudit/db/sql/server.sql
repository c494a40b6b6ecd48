-- Server-wide facts in one row: version, recovery state, replicas, statistics age,
-- buffer cache hits for tables and indexes (pg_statio_user_tables), database write counters,
-- whether this role sees every session's state.
SELECT
    current_setting('server_version_num')::int AS version_num,
    current_database() AS database,
    pg_is_in_recovery() AS in_recovery,
    (SELECT count(*) FROM pg_stat_replication) AS replicas,
    (SELECT EXTRACT(EPOCH FROM now() - d.stats_reset)
     FROM pg_stat_database d
     WHERE d.datname = current_database())::float8 AS stats_age_s,
    (SELECT COALESCE(sum(heap_blks_hit), 0) FROM pg_statio_user_tables)::bigint AS heap_hit,
    (SELECT COALESCE(sum(heap_blks_read), 0) FROM pg_statio_user_tables)::bigint AS heap_read,
    (SELECT COALESCE(sum(idx_blks_hit), 0) FROM pg_statio_user_tables)::bigint AS idx_hit,
    (SELECT COALESCE(sum(idx_blks_read), 0) FROM pg_statio_user_tables)::bigint AS idx_read,
    (SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements') AS has_pgss,
    (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_stat_statements') AS pgss_schema,
    (SELECT count(*) FROM pg_extension WHERE extname = 'hypopg') AS has_hypopg,
    (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'hypopg') AS hypopg_schema,
    (SELECT count(*) FROM pg_available_extensions WHERE name = 'hypopg') AS hypopg_available,
    -- Without pg_read_all_stats (or superuser) other roles' sessions in pg_stat_activity have no
    -- state and no backend_type (PostgreSQL docs, 28.2.3): idle-in-transaction sessions are invisible.
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS reads_all_stats

-- Session counters of this database (pg_stat_database, PostgreSQL 14+): sessions opened and their
-- total time since the statistics were reset (or, never reset, since the server started), and the
-- backends connected now across all databases against max_connections.
SELECT
    d.datname AS database,
    d.sessions::pg_catalog.int8 AS sessions,
    d.session_time::pg_catalog.float8 AS session_time_ms,
    EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-)
        COALESCE(d.stats_reset, pg_catalog.pg_postmaster_start_time()))::pg_catalog.float8 AS window_s,
    (d.stats_reset IS NOT NULL) AS since_reset,
    (SELECT pg_catalog.sum(a.numbackends) FROM pg_catalog.pg_stat_database a)::pg_catalog.int8 AS backends,
    pg_catalog.current_setting('max_connections')::pg_catalog.int8 AS max_connections,
    pg_catalog.current_setting('superuser_reserved_connections')::pg_catalog.int8 AS reserved_connections
FROM pg_catalog.pg_stat_database d
WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()

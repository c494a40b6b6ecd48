-- Client backends grouped by application, role and state (our own session excluded).
-- Ages are in seconds: transaction age from xact_start, state age from state_change.
SELECT
    COALESCE(
        CASE WHEN a.application_name OPERATOR(pg_catalog.=) '' THEN NULL ELSE a.application_name END, '(none)'
    ) AS application,
    COALESCE(a.usename, '') AS role,
    COALESCE(a.datname, '') AS database,
    COALESCE(a.state, 'unknown') AS state,
    pg_catalog.count(*) AS connections,
    COALESCE(pg_catalog.max(EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) a.xact_start)), 0)::pg_catalog.float8
        AS max_xact_age_s,
    COALESCE(pg_catalog.max(EXTRACT(EPOCH FROM pg_catalog.now() OPERATOR(pg_catalog.-) a.state_change)), 0)::pg_catalog.float8
        AS max_state_age_s
FROM pg_catalog.pg_stat_activity a
WHERE a.backend_type OPERATOR(pg_catalog.=) 'client backend'
  AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
GROUP BY 1, 2, 3, 4
ORDER BY 5 DESC

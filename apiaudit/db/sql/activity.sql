-- Client backends grouped by application, role and state (our own session excluded).
-- Ages are in seconds: transaction age from xact_start, state age from state_change.
SELECT
    COALESCE(NULLIF(a.application_name, ''), '(none)') AS application,
    COALESCE(a.usename, '') AS role,
    COALESCE(a.datname, '') AS database,
    COALESCE(a.state, 'unknown') AS state,
    count(*) AS connections,
    COALESCE(max(EXTRACT(EPOCH FROM now() - a.xact_start)), 0)::float8 AS max_xact_age_s,
    COALESCE(max(EXTRACT(EPOCH FROM now() - a.state_change)), 0)::float8 AS max_state_age_s
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend'
  AND a.pid <> pg_backend_pid()
GROUP BY 1, 2, 3, 4
ORDER BY 5 DESC

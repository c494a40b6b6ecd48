-- pg_stat_statements on PostgreSQL 12 (total_time instead of total_exec_time).
SELECT
    s.queryid::text AS queryid,
    s.query,
    sum(s.calls)::bigint AS calls,
    sum(s.total_time)::float8 AS total_ms,
    sum(s.rows)::bigint AS rows
FROM pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.query !~* '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|RESET|DEALLOCATE|DISCARD|EXPLAIN|PREPARE)\y'
  AND s.query NOT LIKE '%%/* apiaudit */%%'
GROUP BY s.queryid, s.query
ORDER BY 4 DESC
LIMIT %(limit)s

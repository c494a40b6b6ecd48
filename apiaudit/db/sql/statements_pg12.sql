-- pg_stat_statements on PostgreSQL 12 (total_time instead of total_exec_time).
SELECT
    s.queryid::pg_catalog.text AS queryid,
    s.query,
    pg_catalog.sum(s.calls)::pg_catalog.int8 AS calls,
    pg_catalog.sum(s.total_time)::pg_catalog.float8 AS total_ms,
    pg_catalog.sum(s.rows)::pg_catalog.int8 AS rows
FROM pg_stat_statements s
WHERE s.dbid OPERATOR(pg_catalog.=) (
        SELECT oid FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
  AND s.query OPERATOR(pg_catalog.!~*) '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|RESET|DEALLOCATE|DISCARD|EXPLAIN|PREPARE)\y'
  AND s.query OPERATOR(pg_catalog.!~~) '%%/* apiaudit */%%'
GROUP BY s.queryid, s.query
ORDER BY 4 DESC
LIMIT %(limit)s

-- Top statements of the current database from pg_stat_statements (PG 13-16 column names; on 17+
-- statements.py substitutes the shared_/local_ I/O timings for blk_read_time + blk_write_time),
-- by total execution time. {pgss} is the extension's schema (quoted by the caller: the session's
-- search_path holds pg_catalog only). Transaction control, SET/SHOW, EXPLAIN/PREPARE (our own included) are
-- left out (\y is a word boundary in PostgreSQL regular expressions; \b would be a backspace).
SELECT
    s.queryid::pg_catalog.text AS queryid,
    s.query,
    pg_catalog.sum(s.calls)::pg_catalog.int8 AS calls,
    pg_catalog.sum(s.total_exec_time)::pg_catalog.float8 AS total_ms,
    pg_catalog.sum(s.rows)::pg_catalog.int8 AS rows,
    pg_catalog.sum(s.blk_read_time OPERATOR(pg_catalog.+) s.blk_write_time)::pg_catalog.float8 AS io_ms
FROM {pgss}.pg_stat_statements s
WHERE s.dbid OPERATOR(pg_catalog.=) (
        SELECT oid FROM pg_catalog.pg_database WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
  AND s.query OPERATOR(pg_catalog.!~*) '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|RESET|DEALLOCATE|DISCARD|EXPLAIN|PREPARE)\y'
  AND s.query OPERATOR(pg_catalog.!~~) '%%/* apiaudit */%%'
GROUP BY s.queryid, s.query
ORDER BY 4 DESC
LIMIT %(limit)s

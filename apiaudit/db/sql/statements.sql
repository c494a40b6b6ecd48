-- Top statements of the current database from pg_stat_statements (PG 13-16 column names; on 17+
-- statements.py substitutes the shared_/local_ I/O timings for blk_read_time + blk_write_time),
-- by total execution time. Transaction control, SET/SHOW, EXPLAIN/PREPARE (our own included) are
-- left out (\y is a word boundary in PostgreSQL regular expressions; \b would be a backspace).
SELECT
    s.queryid::text AS queryid,
    s.query,
    sum(s.calls)::bigint AS calls,
    sum(s.total_exec_time)::float8 AS total_ms,
    sum(s.rows)::bigint AS rows,
    sum(s.blk_read_time + s.blk_write_time)::float8 AS io_ms
FROM pg_stat_statements s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.query !~* '^\s*(BEGIN|COMMIT|ROLLBACK|SET|SHOW|RESET|DEALLOCATE|DISCARD|EXPLAIN|PREPARE)\y'
  AND s.query NOT LIKE '%%/* apiaudit */%%'
GROUP BY s.queryid, s.query
ORDER BY 4 DESC
LIMIT %(limit)s

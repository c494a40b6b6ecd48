-- Transaction ID age (wraparound): every database's age(datfrozenxid), and the oldest tables of this
-- database by age(relfrozenxid) (tables, materialized views, TOAST tables; bounded), with the
-- autovacuum_freeze_max_age they are measured against (a table's own reloption wins). A TOAST
-- table is named by the table it belongs to. template0 (no connections allowed) is autovacuum's own.
WITH freeze_limit AS (
    SELECT pg_catalog.current_setting('autovacuum_freeze_max_age')::pg_catalog.int8 AS max_age
)
(
    SELECT
        'database' AS scope,
        d.datname AS database,
        NULL::pg_catalog.name AS schema,
        NULL::pg_catalog.name AS table,
        pg_catalog.age(d.datfrozenxid)::pg_catalog.int8 AS xid_age,
        freeze_limit.max_age AS freeze_max_age
    FROM pg_catalog.pg_database d
    CROSS JOIN freeze_limit
    WHERE d.datallowconn
    ORDER BY 5 DESC
    LIMIT 50
)
UNION ALL
(
    SELECT
        'table' AS scope,
        pg_catalog.current_database() AS database,
        COALESCE(owner_ns.nspname, n.nspname) AS schema,
        COALESCE(owner.relname, c.relname) AS table,
        pg_catalog.age(c.relfrozenxid)::pg_catalog.int8 AS xid_age,
        COALESCE(
            (SELECT o.option_value::pg_catalog.int8
             FROM pg_catalog.pg_options_to_table(COALESCE(owner.reloptions, c.reloptions)) o
             WHERE o.option_name OPERATOR(pg_catalog.=) 'autovacuum_freeze_max_age'),
            freeze_limit.max_age
        ) AS freeze_max_age
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    LEFT JOIN pg_catalog.pg_class owner
      ON c.relkind OPERATOR(pg_catalog.=) 't'::pg_catalog."char"
     AND owner.reltoastrelid OPERATOR(pg_catalog.=) c.oid
    LEFT JOIN pg_catalog.pg_namespace owner_ns ON owner_ns.oid OPERATOR(pg_catalog.=) owner.relnamespace
    CROSS JOIN freeze_limit
    WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'm', 't']::pg_catalog."char"[])
      AND c.relfrozenxid OPERATOR(pg_catalog.<>) '0'::pg_catalog.xid
    ORDER BY 5 DESC
    LIMIT 20
)

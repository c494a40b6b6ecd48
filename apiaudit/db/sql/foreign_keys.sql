-- Foreign keys of the audited schemas: referencing columns in constraint order.
-- conparentid <> 0 marks a clone of a partitioned table's FK on one partition (PG 11+).
SELECT
    n.nspname AS schema,
    c.relname AS table,
    c.oid::pg_catalog.int8 AS table_oid,
    c.relkind::pg_catalog.text AS relkind,
    k.conname AS constraint,
    k.conkey::pg_catalog.int4[] AS attnums,
    ARRAY(
        SELECT a.attname
        FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
        JOIN pg_catalog.pg_attribute a
          ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum
        ORDER BY u.ord
    ) AS columns,
    rn.nspname AS ref_schema,
    r.relname AS ref_table,
    (k.conparentid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid) AS is_clone
FROM pg_catalog.pg_constraint k
JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) k.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace
WHERE k.contype OPERATOR(pg_catalog.=) 'f'::pg_catalog."char"
  AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
ORDER BY n.nspname, c.relname, k.conname

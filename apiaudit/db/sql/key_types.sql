-- Foreign-key columns whose integer width differs from the key they reference (int4 referencing
-- int8, or int8 referencing int4): the narrower side runs out first, and every join casts.
-- ref_sequence: the serial/identity sequence feeding the referenced column (widened with it).
-- One row per column pair of the audited schemas' foreign keys; bounded.
SELECT
    n.nspname AS schema,
    c.relname AS table,
    k.conname AS constraint,
    a.attname AS column,
    a.atttypid::pg_catalog.regtype::pg_catalog.text AS column_type,
    rn.nspname AS ref_schema,
    r.relname AS ref_table,
    ra.attname AS ref_column,
    ra.atttypid::pg_catalog.regtype::pg_catalog.text AS ref_type,
    pg_catalog.pg_get_serial_sequence(
        pg_catalog.quote_ident(rn.nspname) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.relname),
        ra.attname
    ) AS ref_sequence
FROM pg_catalog.pg_constraint k
CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(k.conkey), pg_catalog.unnest(k.confkey)) AS u(attnum, ref_attnum)
JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) k.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) k.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid OPERATOR(pg_catalog.=) r.relnamespace
JOIN pg_catalog.pg_attribute a
  ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid AND a.attnum OPERATOR(pg_catalog.=) u.attnum
JOIN pg_catalog.pg_attribute ra
  ON ra.attrelid OPERATOR(pg_catalog.=) k.confrelid AND ra.attnum OPERATOR(pg_catalog.=) u.ref_attnum
WHERE k.contype OPERATOR(pg_catalog.=) 'f'::pg_catalog."char"
  AND k.conparentid OPERATOR(pg_catalog.=) 0::pg_catalog.oid
  AND a.atttypid OPERATOR(pg_catalog.<>) ra.atttypid
  AND a.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.int2', 'pg_catalog.int4', 'pg_catalog.int8']::pg_catalog.regtype[]::pg_catalog.oid[])
  AND ra.atttypid OPERATOR(pg_catalog.=) ANY (ARRAY['pg_catalog.int2', 'pg_catalog.int4', 'pg_catalog.int8']::pg_catalog.regtype[]::pg_catalog.oid[])
  AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
  AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
       OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
ORDER BY n.nspname, c.relname, k.conname, a.attname
LIMIT 200

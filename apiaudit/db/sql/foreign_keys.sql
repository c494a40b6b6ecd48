-- Foreign keys of the audited schemas: referencing columns in constraint order.
-- conparentid <> 0 marks a clone of a partitioned table's FK on one partition (PG 11+).
SELECT
    n.nspname AS schema,
    c.relname AS table,
    c.oid::bigint AS table_oid,
    c.relkind::text AS relkind,
    k.conname AS constraint,
    k.conkey::int[] AS attnums,
    ARRAY(
        SELECT a.attname
        FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
        ORDER BY u.ord
    ) AS columns,
    rn.nspname AS ref_schema,
    r.relname AS ref_table,
    (k.conparentid <> 0) AS is_clone
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class r ON r.oid = k.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE k.contype = 'f'
  AND n.nspname <> ALL (%(excluded_schemas)s)
  AND (cardinality(%(schemas)s::text[]) = 0 OR n.nspname = ANY (%(schemas)s))
ORDER BY n.nspname, c.relname, k.conname

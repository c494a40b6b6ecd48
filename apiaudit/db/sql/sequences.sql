-- Sequences of the audited schemas with their last value, and the column each one feeds (serial:
-- pg_depend deptype 'a', identity: 'i'). The usable range is the smaller of the sequence's own
-- max_value and its column type's maximum (an int4 column fed by a bigint sequence stops at int4).
-- Ascending sequences only. last_value is NULL when never called or when this role may not read
-- the sequence (pg_sequences hides it the same way). Reading last_value locks each sequence until the
-- transaction ends, so the sequences are read in batches by oid (after_oid, batch), each batch in its
-- own rolled-back transaction (apiaudit.db.catalog.collect_sequences): a 28,000-sequence schema
-- never fills the server's lock table.
WITH batch AS (
    SELECT s.seqrelid
    FROM pg_catalog.pg_sequence s
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.seqrelid
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE s.seqrelid OPERATOR(pg_catalog.>) %(after_oid)s::pg_catalog.oid
      AND s.seqincrement OPERATOR(pg_catalog.>) 0::pg_catalog.int8
      AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
      AND n.nspname OPERATOR(pg_catalog.!~) '^pg_toast'
      AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
           OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
    ORDER BY s.seqrelid
    LIMIT %(batch)s
),
seq AS (
    SELECT
        c.oid::pg_catalog.int8 AS oid,
        n.nspname AS schema,
        c.relname AS sequence,
        s.seqtypid::pg_catalog.regtype::pg_catalog.text AS sequence_type,
        s.seqmax::pg_catalog.numeric AS seq_max,
        s.seqincrement AS increment_by,
        s.seqcycle AS cycle,
        CASE
            WHEN pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE')
            THEN pg_catalog.pg_sequence_last_value(c.oid::pg_catalog.regclass)
        END::pg_catalog.numeric AS last_value,
        tn.nspname AS table_schema,
        t.relname AS table,
        a.attname AS column,
        a.atttypid::pg_catalog.regtype::pg_catalog.text AS column_type
    FROM batch
    JOIN pg_catalog.pg_sequence s ON s.seqrelid OPERATOR(pg_catalog.=) batch.seqrelid
    JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.seqrelid
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    LEFT JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) c.oid
     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.refobjsubid OPERATOR(pg_catalog.>) 0
     AND d.deptype OPERATOR(pg_catalog.=) ANY (ARRAY['a', 'i']::pg_catalog."char"[])
    LEFT JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) d.refobjid
    LEFT JOIN pg_catalog.pg_namespace tn ON tn.oid OPERATOR(pg_catalog.=) t.relnamespace
    LEFT JOIN pg_catalog.pg_attribute a
      ON a.attrelid OPERATOR(pg_catalog.=) d.refobjid
     AND a.attnum OPERATOR(pg_catalog.=) d.refobjsubid
),
capped AS (
    SELECT
        seq.*,
        LEAST(
            seq.seq_max,
            CASE seq.column_type
                WHEN 'smallint' THEN 32767::pg_catalog.numeric
                WHEN 'integer' THEN 2147483647::pg_catalog.numeric
                ELSE seq.seq_max
            END
        ) AS cap
    FROM seq
)
SELECT
    capped.oid,
    capped.schema,
    capped.sequence,
    capped.sequence_type,
    capped.seq_max::pg_catalog.text AS seq_max,
    capped.increment_by::pg_catalog.int8 AS increment_by,
    capped.cycle,
    capped.last_value::pg_catalog.text AS last_value,
    capped.cap::pg_catalog.text AS cap,
    capped.table_schema,
    capped.table,
    capped.column,
    capped.column_type,
    (capped.last_value OPERATOR(pg_catalog./) capped.cap OPERATOR(pg_catalog.*) 100)::pg_catalog.float8 AS used_pct
FROM capped
ORDER BY capped.oid

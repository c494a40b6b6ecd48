-- The audit role's own rights: a superuser, or a role that may write to or create in the audited
-- schemas, is more than an audit needs (README "Safety": the recommended role).
SELECT
    r.rolname AS role,
    r.rolsuper AS superuser,
    pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') AS create_in_database,
    ARRAY(
        SELECT n.nspname
        FROM pg_catalog.pg_namespace n
        WHERE n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
          AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp)'
          AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
               OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
          AND pg_catalog.has_schema_privilege(n.oid, 'CREATE')
        ORDER BY 1
    ) AS create_schemas,
    (
        SELECT pg_catalog.count(*)
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
        WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog."char"[])
          AND n.nspname OPERATOR(pg_catalog.<>) ALL (%(excluded_schemas)s::pg_catalog.text[])
          AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp)'
          AND (pg_catalog.cardinality(%(schemas)s::pg_catalog.text[]) OPERATOR(pg_catalog.=) 0
               OR n.nspname OPERATOR(pg_catalog.=) ANY (%(schemas)s::pg_catalog.text[]))
          AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
    ) AS writable_tables
FROM pg_catalog.pg_roles r
WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER

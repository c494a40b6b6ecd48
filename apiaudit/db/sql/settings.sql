-- Server settings the pool/transaction checks read, plus per-role and per-database overrides
-- (pg_db_role_setting; ALTER ROLE/DATABASE ... SET). level: server | database | role | role_in_database.
SELECT
    'server' AS level,
    NULL::pg_catalog.text AS role,
    s.name,
    s.setting,
    s.unit
FROM pg_catalog.pg_settings s
WHERE s.name OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])
UNION ALL
SELECT
    CASE
        WHEN d.setrole OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'database'
        WHEN d.setdatabase OPERATOR(pg_catalog.=) 0::pg_catalog.oid THEN 'role'
        ELSE 'role_in_database'
    END AS level,
    r.rolname AS role,
    pg_catalog.split_part(cfg, '=', 1) AS name,
    pg_catalog.split_part(cfg, '=', 2) AS setting,
    NULL::pg_catalog.text AS unit
FROM pg_catalog.pg_db_role_setting d
CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS cfg
LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) d.setrole
WHERE d.setdatabase OPERATOR(pg_catalog.=) ANY (ARRAY[
        0::pg_catalog.oid,
        (SELECT oid FROM pg_catalog.pg_database
         WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())])
  AND pg_catalog.split_part(cfg, '=', 1) OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])

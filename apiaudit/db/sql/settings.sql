-- Server settings the pool/transaction checks read, plus per-role and per-database overrides
-- (pg_db_role_setting; ALTER ROLE/DATABASE ... SET). level: server | database | role | role_in_database.
SELECT
    'server' AS level,
    NULL::text AS role,
    s.name,
    s.setting,
    s.unit
FROM pg_settings s
WHERE s.name = ANY (%(names)s)
UNION ALL
SELECT
    CASE
        WHEN d.setrole = 0 THEN 'database'
        WHEN d.setdatabase = 0 THEN 'role'
        ELSE 'role_in_database'
    END AS level,
    r.rolname AS role,
    split_part(cfg, '=', 1) AS name,
    split_part(cfg, '=', 2) AS setting,
    NULL::text AS unit
FROM pg_db_role_setting d
CROSS JOIN LATERAL unnest(d.setconfig) AS cfg
LEFT JOIN pg_roles r ON r.oid = d.setrole
WHERE d.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
  AND split_part(cfg, '=', 1) = ANY (%(names)s)

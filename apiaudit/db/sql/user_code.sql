-- Code of the database's own users that planning (or, with --analyze, executing) one workload
-- statement could run: every function and operator it may name, everything the relations it may
-- read depend on (view and rule definitions, recursively; RLS policies; index expressions and
-- predicates and CHECK constraints, which the planner constant-folds; partition keys), the
-- functions of the types involved (I/O, domain checks, range subtype_diff used for selectivity;
-- casts from or to, and operators on, the user-defined ones: only the owner of a type may create
-- them), foreign-data-wrapper and access-method handlers.
-- Trusted: pg_catalog, and members of an allow-listed extension owned by a superuser (a trusted
-- extension created by the database owner is owned by them, who could ALTER EXTENSION ... ADD).
-- Conservative by design: every identifier of the statement is tried as a function, type and
-- relation name, in every schema of the workload's search_path, every schema the statement names,
-- and every schema named like a role when the path holds "$user" (pg_catalog's objects are trusted). Views, rules and
-- defaults record what they use in pg_depend; built-in (pinned) objects are never recorded there.
-- Triggers and column defaults are left out: a SELECT fires no trigger and evaluates no default.
WITH RECURSIVE
schemas AS (  -- pg_catalog is left out: only superusers create objects there, all trusted
    SELECT n.oid
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname OPERATOR(pg_catalog.<>) 'pg_catalog'
      AND (n.nspname OPERATOR(pg_catalog.=) ANY (%(path)s::pg_catalog.text[])
           OR n.nspname OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])
           OR ('$user' OPERATOR(pg_catalog.=) ANY (%(path)s::pg_catalog.text[])
               AND n.nspname OPERATOR(pg_catalog.=) ANY (SELECT r.rolname FROM pg_catalog.pg_roles r)))
),
rels AS (
    SELECT c.oid
    FROM pg_catalog.pg_class c
    WHERE c.relname OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])
      AND c.relnamespace OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT s.oid FROM schemas s))
    UNION
    SELECT e.dst
    FROM rels r
    CROSS JOIN LATERAL (
        SELECT d.refobjid
        FROM pg_catalog.pg_rewrite w
        JOIN pg_catalog.pg_depend d
          ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_rewrite'::pg_catalog.regclass
         AND d.objid OPERATOR(pg_catalog.=) w.oid
         AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
        WHERE w.ev_class OPERATOR(pg_catalog.=) r.oid
        UNION ALL
        SELECT d.refobjid
        FROM pg_catalog.pg_policy p
        JOIN pg_catalog.pg_depend d
          ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_policy'::pg_catalog.regclass
         AND d.objid OPERATOR(pg_catalog.=) p.oid
         AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
        WHERE p.polrelid OPERATOR(pg_catalog.=) r.oid
        UNION ALL
        SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent OPERATOR(pg_catalog.=) r.oid
    ) AS e(dst)
),
objs(classid, objid) AS (
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, r.oid FROM rels r
    UNION ALL
    SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass::pg_catalog.oid, w.oid
    FROM pg_catalog.pg_rewrite w WHERE w.ev_class OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
    UNION ALL
    SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass::pg_catalog.oid, p.oid
    FROM pg_catalog.pg_policy p WHERE p.polrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
    UNION ALL
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid, x.indexrelid
    FROM pg_catalog.pg_index x WHERE x.indrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
    UNION ALL
    SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass::pg_catalog.oid, k.oid
    FROM pg_catalog.pg_constraint k WHERE k.conrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
    UNION ALL
    SELECT 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass::pg_catalog.oid, s.oid
    FROM pg_catalog.pg_statistic_ext s WHERE s.stxrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
),
refs AS (
    SELECT d.refclassid, d.refobjid
    FROM objs o
    JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) o.classid AND d.objid OPERATOR(pg_catalog.=) o.objid
),
types AS (
    SELECT a.atttypid AS oid
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
      AND a.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2 AND NOT a.attisdropped
    UNION
    SELECT t.oid
    FROM pg_catalog.pg_type t
    WHERE t.typname OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])
      AND t.typnamespace OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT s.oid FROM schemas s))
    UNION
    SELECT f.refobjid FROM refs f
    WHERE f.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
    UNION
    SELECT x.child
    FROM types ty
    JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) ty.oid
    CROSS JOIN LATERAL (
        SELECT t.typbasetype WHERE t.typbasetype OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
        UNION ALL
        SELECT t.typelem WHERE t.typelem OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
        UNION ALL
        SELECT g.rngsubtype FROM pg_catalog.pg_range g WHERE g.rngtypid OPERATOR(pg_catalog.=) t.oid
        UNION ALL
        SELECT a.atttypid FROM pg_catalog.pg_attribute a
        WHERE a.attrelid OPERATOR(pg_catalog.=) t.typrelid
          AND t.typrelid OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
          AND a.attnum OPERATOR(pg_catalog.>) 0::pg_catalog.int2
    ) AS x(child)
),
user_types AS (
    SELECT t.oid FROM pg_catalog.pg_type t
    WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ty.oid FROM types ty))
      AND t.typnamespace OPERATOR(pg_catalog.<>) 'pg_catalog'::pg_catalog.regnamespace::pg_catalog.oid
),
ops AS (
    SELECT o.oid FROM pg_catalog.pg_operator o
    WHERE o.oprname OPERATOR(pg_catalog.=) ANY (%(ops)s::pg_catalog.text[])
      AND o.oprnamespace OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT s.oid FROM schemas s))
    UNION
    SELECT f.refobjid FROM refs f
    WHERE f.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_operator'::pg_catalog.regclass
    UNION
    SELECT o.oid FROM pg_catalog.pg_operator o
    WHERE o.oprleft OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT u.oid FROM user_types u))
       OR o.oprright OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT u.oid FROM user_types u))
),
op_code AS (  -- an operator runs its function, and the planner its estimators and commutator/negator
    SELECT o.oid AS opr, f.fn
    FROM pg_catalog.pg_operator o
    CROSS JOIN LATERAL (
        VALUES (o.oprcode::pg_catalog.oid), (o.oprrest::pg_catalog.oid), (o.oprjoin::pg_catalog.oid)
    ) AS f(fn)
    WHERE (o.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT p.oid FROM ops p))
           OR o.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT q.oprcom FROM pg_catalog.pg_operator q
                                                     WHERE q.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT p.oid FROM ops p))))
           OR o.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT q.oprnegate FROM pg_catalog.pg_operator q
                                                     WHERE q.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT p.oid FROM ops p)))))
      AND f.fn OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
),
fns(fn) AS (
    SELECT p.oid FROM pg_catalog.pg_proc p
    WHERE p.proname OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])
      AND p.pronamespace OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT s.oid FROM schemas s))
    UNION
    SELECT f.refobjid FROM refs f
    WHERE f.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
    UNION
    SELECT d.refobjid FROM pg_catalog.pg_depend d
    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
      AND d.objid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ty.oid FROM types ty))
      AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
    UNION
    SELECT d.refobjid FROM pg_catalog.pg_constraint k
    JOIN pg_catalog.pg_depend d
      ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_constraint'::pg_catalog.regclass
     AND d.objid OPERATOR(pg_catalog.=) k.oid
     AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
    WHERE k.contypid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ty.oid FROM types ty))
    UNION
    SELECT c.castfunc FROM pg_catalog.pg_cast c
    WHERE c.castfunc OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
      AND (c.castsource OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT u.oid FROM user_types u))
           OR c.casttarget OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT u.oid FROM user_types u)))
    UNION
    SELECT o.fn FROM op_code o
    UNION
    SELECT h.fn FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_am am ON am.oid OPERATOR(pg_catalog.=) c.relam
    CROSS JOIN LATERAL (VALUES (am.amhandler::pg_catalog.oid)) AS h(fn)
    WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT o.objid FROM objs o))
    UNION
    SELECT h.fn FROM pg_catalog.pg_foreign_table ft
    JOIN pg_catalog.pg_foreign_server sv ON sv.oid OPERATOR(pg_catalog.=) ft.ftserver
    JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid OPERATOR(pg_catalog.=) sv.srvfdw
    CROSS JOIN LATERAL (VALUES (w.fdwhandler::pg_catalog.oid), (w.fdwvalidator::pg_catalog.oid)) AS h(fn)
    WHERE ft.ftrelid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT r.oid FROM rels r))
      AND h.fn OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
),
untrusted AS (
    SELECT p.oid, n.nspname, p.proname
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) p.pronamespace
    WHERE p.oid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT f.fn FROM fns f))
      AND n.nspname OPERATOR(pg_catalog.<>) 'pg_catalog'
      AND NOT EXISTS (
          SELECT FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
          JOIN pg_catalog.pg_roles o ON o.oid OPERATOR(pg_catalog.=) p.proowner
          WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
            AND d.objid OPERATOR(pg_catalog.=) p.oid
            AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
            AND d.deptype OPERATOR(pg_catalog.=) 'e'::pg_catalog."char"
            AND e.extname OPERATOR(pg_catalog.=) ANY (%(allowed)s::pg_catalog.text[])
            AND o.rolsuper
      )
)
SELECT 'function' AS kind, u.nspname AS schema, u.proname AS name
FROM untrusted u
UNION
SELECT 'operator', n.nspname, o.oprname
FROM op_code c
JOIN pg_catalog.pg_operator o ON o.oid OPERATOR(pg_catalog.=) c.opr
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) o.oprnamespace
WHERE c.fn OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT u.oid FROM untrusted u))
ORDER BY 1, 2, 3

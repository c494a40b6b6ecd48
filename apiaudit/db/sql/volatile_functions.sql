-- Names of functions that are VOLATILE (provolatile = 'v') among the given names: a workload
-- query calling one may write or have side effects, so it is never EXPLAINed (pg_proc docs).
SELECT DISTINCT
    p.proname AS name
FROM pg_catalog.pg_proc p
WHERE p.provolatile OPERATOR(pg_catalog.=) 'v'::pg_catalog."char"
  AND p.proname OPERATOR(pg_catalog.=) ANY (%(names)s::pg_catalog.text[])

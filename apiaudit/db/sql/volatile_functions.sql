-- Names of functions that are VOLATILE (provolatile = 'v') among the given names: a workload
-- query calling one may write or have side effects, so it is never EXPLAINed (pg_proc docs).
SELECT DISTINCT
    p.proname AS name
FROM pg_proc p
WHERE p.provolatile = 'v'
  AND p.proname = ANY (%(names)s)

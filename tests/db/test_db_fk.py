"""FK coverage against a real schema with each problem and its correct twin.

Coverage rule (issue 4): the FK columns, in any order, must be the leading key columns of a valid,
non-partial B-tree index with no expression among them; INCLUDE columns do not count.
"""

from __future__ import annotations

import contextlib

import pytest

from apiaudit.pgcluster import ClusterError

from .conftest import findings, tables_of

pytestmark = pytest.mark.pg

SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY, a int, b int, UNIQUE (a, b));
INSERT INTO parent SELECT g, g, g FROM generate_series(1, 2000) g;

-- Each child has 2000 rows (>= the 1000-row small-table threshold) unless named small_*.
CREATE TABLE no_index (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE TABLE composite_prefix (id int PRIMARY KEY, parent_id int REFERENCES parent(id), created int);
CREATE INDEX ON composite_prefix (parent_id, created);            -- covered: FK is the prefix
CREATE TABLE composite_second (id int PRIMARY KEY, parent_id int REFERENCES parent(id), created int);
CREATE INDEX ON composite_second (created, parent_id);            -- not covered: FK column second
CREATE TABLE include_only (id int PRIMARY KEY, parent_id int REFERENCES parent(id), created int);
CREATE INDEX ON include_only (created) INCLUDE (parent_id);       -- not covered: INCLUDE only
CREATE TABLE partial (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE INDEX ON partial (parent_id) WHERE parent_id > 10;         -- not covered: partial
CREATE TABLE expression (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE INDEX ON expression ((parent_id + 0));                     -- not covered: expression
CREATE TABLE hashed (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE INDEX ON hashed USING hash (parent_id);                    -- not covered: not a B-tree
CREATE TABLE multi_any_order (id int PRIMARY KEY, a int, b int, c int,
                              FOREIGN KEY (a, b) REFERENCES parent(a, b));
CREATE INDEX ON multi_any_order (b, a, c);                        -- covered: same set, any order
CREATE TABLE multi_half (id int PRIMARY KEY, a int, b int, FOREIGN KEY (a, b) REFERENCES parent(a, b));
CREATE INDEX ON multi_half (a);                                   -- not covered: one of two columns
CREATE TABLE plain_covered (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE INDEX ON plain_covered (parent_id);                        -- covered
-- covered by the PK:
CREATE TABLE pk_covered (parent_id int REFERENCES parent(id), n int, PRIMARY KEY (parent_id, n));
CREATE TABLE invalid_ix (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE TABLE small_no_index (id int PRIMARY KEY, parent_id int REFERENCES parent(id));  -- 10 rows
CREATE TABLE small_covered (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
CREATE INDEX ON small_covered (parent_id);

-- Partitioned: the FK on the parent is cloned onto each partition (conparentid <> 0).
CREATE TABLE events (id int, parent_id int REFERENCES parent(id), at int) PARTITION BY RANGE (at);
CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000);
CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (1000) TO (3000);
CREATE TABLE events_ix (id int, parent_id int REFERENCES parent(id), at int) PARTITION BY RANGE (at);
CREATE TABLE events_ix_1 PARTITION OF events_ix FOR VALUES FROM (0) TO (1000);
CREATE TABLE events_ix_2 PARTITION OF events_ix FOR VALUES FROM (1000) TO (3000);
CREATE INDEX ON events_ix (parent_id);                            -- partitioned index: covered
CREATE TABLE events_leaf (id int, parent_id int REFERENCES parent(id), at int) PARTITION BY RANGE (at);
CREATE TABLE events_leaf_1 PARTITION OF events_leaf FOR VALUES FROM (0) TO (1000);
CREATE TABLE events_leaf_2 PARTITION OF events_leaf FOR VALUES FROM (1000) TO (3000);
CREATE INDEX ON events_leaf_1 (parent_id);                        -- every leaf indexed: covered
CREATE INDEX ON events_leaf_2 (parent_id);
"""

FILL = """
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['no_index','composite_prefix','composite_second','include_only','partial',
                           'expression','hashed','plain_covered','invalid_ix'] LOOP
    EXECUTE format('INSERT INTO %I (id, parent_id) '
                   'SELECT g, 1 + g %% 2000 FROM generate_series(1, 2000) g', t);
  END LOOP;
END $$;
INSERT INTO multi_any_order SELECT g, g, g, g FROM generate_series(1, 2000) g;
INSERT INTO multi_half SELECT g, g, g FROM generate_series(1, 2000) g;
INSERT INTO pk_covered SELECT 1 + g % 2000, g FROM generate_series(1, 2000) g;
INSERT INTO small_no_index SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO small_covered SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO events SELECT g, 1 + g % 2000, g FROM generate_series(1, 2999) g;
INSERT INTO events_ix SELECT g, 1 + g % 2000, g FROM generate_series(1, 2999) g;
INSERT INTO events_leaf SELECT g, 1 + g % 2000, g FROM generate_series(1, 2999) g;
UPDATE invalid_ix SET parent_id = 1 WHERE id <= 2;
ANALYZE;
"""


@pytest.fixture(scope="module")
def fk_db(pg):  # type: ignore[no-untyped-def]
    name = "dbfk_schema"
    pg.psql(f"DROP DATABASE IF EXISTS {name}")
    pg.psql(f"CREATE DATABASE {name}")
    pg.psql(SCHEMA, name)
    pg.psql(FILL, name)
    # A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an INVALID index behind (PG docs, CREATE INDEX).
    with contextlib.suppress(ClusterError):
        pg.psql("CREATE UNIQUE INDEX CONCURRENTLY invalid_ix_parent ON invalid_ix (parent_id)", name)
    return pg.dsn(name)


def test_fk_coverage_exact_set(fk_db, audit) -> None:  # type: ignore[no-untyped-def]
    report = audit(fk_db)
    assert tables_of(report, "db.fk.unindexed") == {
        ("public", "no_index", ("parent_id",)),
        ("public", "composite_second", ("parent_id",)),
        ("public", "include_only", ("parent_id",)),
        ("public", "partial", ("parent_id",)),
        ("public", "expression", ("parent_id",)),
        ("public", "hashed", ("parent_id",)),
        ("public", "multi_half", ("a", "b")),
        ("public", "invalid_ix", ("parent_id",)),  # its only index on parent_id is INVALID
        ("public", "events", ("parent_id",)),  # reported once on the partitioned parent, not per partition
    }
    assert tables_of(report, "db.fk.unindexed-small") == {("public", "small_no_index", ("parent_id",))}


def test_fk_finding_has_fix_sql_and_evidence(fk_db, audit) -> None:  # type: ignore[no-untyped-def]
    report = audit(fk_db)
    (f,) = [f for f in findings(report, "db.fk.unindexed") if f.location["table"] == "no_index"]
    assert f.fix == "CREATE INDEX CONCURRENTLY ON public.no_index (parent_id);"
    assert f.evidence["rows"] == 2000 and f.evidence["references"] == "public.parent"
    (p,) = [f for f in findings(report, "db.fk.unindexed") if f.location["table"] == "events"]
    assert p.fix == "CREATE INDEX ON public.events (parent_id);"  # no CONCURRENTLY on partitioned tables
    assert p.evidence["partitioned"] is True and p.evidence["rows"] == 2999
    small = findings(report, "db.fk.unindexed-small")[0]
    assert small.severity.label == "low"


def test_invalid_index_reported(fk_db, audit) -> None:  # type: ignore[no-untyped-def]
    report = audit(fk_db)
    assert {f.location["index"] for f in findings(report, "db.index.invalid")} == {"invalid_ix_parent"}

"""A role without pg_read_all_stats (or without rights on the tables) degrades with notices,
never a crash: hidden pg_stat_statements rows are counted and said, the catalog checks still run."""

from __future__ import annotations

import pytest

from .conftest import tables_of

pytestmark = pytest.mark.pg


def test_unprivileged_role_degrades_with_a_notice(pg, fresh_db, audit) -> None:  # type: ignore[no-untyped-def]
    dsn = fresh_db("""
    CREATE TABLE parent (id int PRIMARY KEY);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
    """)
    db = dsn.rsplit("/", 1)[1]
    pg.psql("DO $$ BEGIN CREATE ROLE plain_auditor LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    pg.psql("SELECT id FROM child WHERE parent_id = 1", db)  # run by postgres: hidden from plain_auditor
    report = audit(pg.dsn(db, user="plain_auditor"))
    notices = [e["message"] for e in report.errors if e["where"] == "notice"]
    assert any("hidden by missing privileges" in n for n in notices), notices
    # The catalog is readable by everyone: the FK check still judges the schema.
    assert tables_of(report, "db.fk.unindexed-small") == {("public", "child", ("parent_id",))}

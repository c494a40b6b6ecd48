"""Load the catalog queries in ``apiaudit/db/sql/`` and run them (one round-trip each).

Every query we send is tagged ``/* apiaudit */`` so pg_stat_statements rows of our own session
are recognisable and left out of the workload. They are run by ``catalog.fetch_all`` (read-only
transaction, search_path pinned to pg_catalog).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

TAG = "/* apiaudit */"
EXCLUDED_SCHEMAS = ["pg_catalog", "information_schema"]


@lru_cache(maxsize=32)
def load_sql(name: str) -> str:
    text = resources.files("apiaudit.db").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
    # Leading and trailing: PostgreSQL 18's pg_stat_statements drops a statement's leading comments.
    return f"{TAG}\n{text.rstrip()}\n{TAG}"


def scope_params(schemas: list[str] | None) -> dict[str, Any]:
    return {"excluded_schemas": EXCLUDED_SCHEMAS, "schemas": list(schemas or [])}

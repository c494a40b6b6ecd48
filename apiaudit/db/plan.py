"""Read EXPLAIN (FORMAT JSON) plans: total cost, and the nodes that suggest a missing index.

Two shapes (PostgreSQL docs, "Using EXPLAIN"): a Seq Scan with a Filter on a relation large enough
to deserve an index, and a Sort feeding a Limit (top-N by a column that no index delivers in order).
Pure functions over the plan dictionary.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Plan = dict[str, Any]


def top_node(explain_json: Any) -> Plan:
    """The ``Plan`` node of psycopg's decoded EXPLAIN (FORMAT JSON) output."""
    doc = explain_json
    if isinstance(doc, list):
        doc = doc[0] if doc else {}
    if isinstance(doc, dict) and "Plan" in doc:
        return dict(doc["Plan"])
    return dict(doc) if isinstance(doc, dict) else {}


def walk(node: Plan, parent: Plan | None = None) -> Iterator[tuple[Plan, Plan | None]]:
    yield node, parent
    for child in node.get("Plans") or []:
        yield from walk(child, node)


def total_cost(node: Plan) -> float:
    return float(node.get("Total Cost") or 0.0)


def find_issues(node: Plan, rows_of: dict[tuple[str, str], int], small_rows: float) -> list[dict[str, Any]]:
    """Seq Scans with a Filter on big relations, and Sorts directly under a Limit."""
    issues: list[dict[str, Any]] = []
    for n, parent in walk(node):
        kind = n.get("Node Type")
        if kind == "Seq Scan" and n.get("Filter"):
            schema, rel = str(n.get("Schema") or "public"), str(n.get("Relation Name") or "")
            rows = rows_of.get((schema, rel), 0)
            if rows >= small_rows:
                issues.append(
                    {
                        "kind": "seq_scan_filter",
                        "schema": schema,
                        "table": rel,
                        "rows": rows,
                        "filter": str(n["Filter"])[:300],
                        "cost": total_cost(n),
                    }
                )
        elif (
            kind in ("Sort", "Incremental Sort") and parent is not None and parent.get("Node Type") == "Limit"
        ):
            issues.append(
                {
                    "kind": "sort_limit",
                    "sort_key": [str(k) for k in n.get("Sort Key") or []][:4],
                    "cost": total_cost(n),
                }
            )
    return issues


def relations(node: Plan) -> set[tuple[str, str]]:
    return {
        (str(n.get("Schema") or "public"), str(n["Relation Name"]))
        for n, _ in walk(node)
        if n.get("Relation Name")
    }


def uses_index_named(node: Plan, fragment: str) -> bool:
    """Whether any node scans an index whose name contains ``fragment`` (HypoPG names: <oid>btree_...)."""
    return any(fragment in str(n.get("Index Name") or "") for n, _ in walk(node))

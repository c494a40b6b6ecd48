"""Drive the sample API like a day of traffic, so its queries reach pg_stat_statements and the statement log.

The requests go through the API's own handlers (never straight to the database): what the database
audit then finds (the N+1 of /api/orders/recent, the sequential scans behind the email lookup and the
unindexed orders.customer_id) is what the application really sends.
"""

from __future__ import annotations

import httpx

from apiaudit.demo.data import N_CUSTOMERS


def workload_paths() -> list[str]:
    paths = ["/api/orders/recent"] * 6  # each: 1 query for the orders + 2 lazy lookups per order
    paths += [
        f"/api/customers/lookup?email=customer{(k * 197) % N_CUSTOMERS + 1}@example.com" for k in range(25)
    ]
    paths += [f"/api/customers/{(k * 113) % N_CUSTOMERS + 1}/orders" for k in range(25)]
    paths += [f"/api/products?in_stock=true&offset={k * 20}" for k in range(5)]
    paths += [
        "/api/posts",
        "/api/posts?limit=50",
        "/api/posts/7",
        "/api/categories",
        "/api/customers?limit=1000",
    ]
    return paths


def drive(api_url: str, *, timeout_s: float = 30.0) -> dict[str, int]:
    """Send the workload; returns the count of responses by status class."""
    counts: dict[str, int] = {}
    with httpx.Client(base_url=api_url, timeout=timeout_s) as client:
        for path in workload_paths():
            status = client.get(path).status_code
            key = f"{status // 100}xx"
            counts[key] = counts.get(key, 0) + 1
    return counts

"""The sample API's data: the same shop/blog rows from PostgreSQL (``PgStore``) or memory (``MemoryStore``).

Both stores generate identical rows from the same formulas as ``schema.sql`` (``generate_series``), so
the API answers the same with or without a database. ``PgStore`` issues the queries a typical ORM
would: one endpoint (``recent_orders``) lazy-loads each order's customer and product row by row, the
N+1 the database audit then finds in the server's own statement log.
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

Row = dict[str, Any]

# Table sizes; keep in step with schema.sql. Orders is well above the small-table threshold (1000 rows)
# so its unindexed FK matters (GUIDE.md "Database Indexes").
N_CUSTOMERS = 5000
N_PRODUCTS = 3000
N_ORDERS = 30000
N_POSTS = 400
CATEGORIES = (
    "books",
    "music",
    "games",
    "garden",
    "kitchen",
    "tools",
    "toys",
    "sports",
    "office",
    "beauty",
    "health",
    "travel",
)
CITIES = ("Lyon", "Oslo", "Porto", "Riga", "Graz", "Turin", "Ghent", "Cork")
DESCRIPTION = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Store(Protocol):
    kind: str

    def customers(self, limit: int) -> list[Row]: ...
    def customer_by_email(self, email: str) -> Row | None: ...
    def customer_orders(self, customer_id: int) -> list[Row]: ...
    def products(self, offset: int, limit: int, in_stock: bool | None) -> list[Row]: ...
    def product_export(self) -> list[Row]: ...
    def posts(self, after: int, limit: int) -> list[Row]: ...
    def post(self, post_id: int) -> Row | None: ...
    def categories(self) -> list[Row]: ...
    def recent_orders(self, limit: int) -> list[Row]: ...
    def close(self) -> None: ...


def _stamp(minutes: int) -> str:
    return (EPOCH + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def customer_row(i: int) -> Row:
    return {
        "id": i,
        "name": f"Customer {i}",
        "email": f"customer{i}@example.com",
        "city": CITIES[i % len(CITIES)],
    }


def product_row(i: int, *, full: bool = False) -> Row:
    row: Row = {
        "id": i,
        "name": f"Product {i}",
        "category_id": i % len(CATEGORIES) + 1,
        "price_cents": (i * 37) % 9000 + 100,
        "in_stock": i % 10 != 0,
    }
    if full:
        row["description"] = f"{DESCRIPTION}#{i}"
    return row


def order_row(i: int) -> Row:
    return {
        "id": i,
        "customer_id": (i * 7) % N_CUSTOMERS + 1,
        "product_id": (i * 13) % N_PRODUCTS + 1,
        "quantity": i % 5 + 1,
        "created_at": _stamp(i),
    }


def post_row(i: int) -> Row:
    author = (i * 11) % N_CUSTOMERS + 1
    return {
        "id": i,
        "title": f"Post {i}",
        "author_id": author,
        "author_name": f"Customer {author}",
        "category_id": i % len(CATEGORIES) + 1,
        "body": f"Text of post {i}. " * 8,
    }


class MemoryStore:
    """Rows computed on demand from the formulas; no database needed."""

    kind = "memory"

    def customers(self, limit: int) -> list[Row]:
        return [customer_row(i) for i in range(1, min(limit, N_CUSTOMERS) + 1)]

    def customer_by_email(self, email: str) -> Row | None:
        prefix, _, domain = email.partition("@")
        num = prefix.removeprefix("customer")
        if domain != "example.com" or not num.isdigit() or not 1 <= int(num) <= N_CUSTOMERS:
            return None
        return customer_row(int(num))

    def customer_orders(self, customer_id: int) -> list[Row]:
        rows = [order_row(i) for i in range(N_ORDERS, 0, -1) if (i * 7) % N_CUSTOMERS + 1 == customer_id]
        return [{k: r[k] for k in ("id", "product_id", "quantity", "created_at")} for r in rows[:50]]

    def products(self, offset: int, limit: int, in_stock: bool | None) -> list[Row]:
        ids = (i for i in range(1, N_PRODUCTS + 1) if in_stock is None or (i % 10 != 0) == in_stock)
        picked = list(ids)[offset : offset + limit]
        return [product_row(i) for i in picked]

    def product_export(self) -> list[Row]:
        return [product_row(i, full=True) for i in range(1, N_PRODUCTS + 1)]

    def posts(self, after: int, limit: int) -> list[Row]:
        return [post_row(i) for i in range(after + 1, min(after + limit, N_POSTS) + 1)]

    def post(self, post_id: int) -> Row | None:
        return post_row(post_id) if 1 <= post_id <= N_POSTS else None

    def categories(self) -> list[Row]:
        return [{"id": i, "name": name} for i, name in enumerate(CATEGORIES, 1)]

    def recent_orders(self, limit: int) -> list[Row]:
        out = []
        for i in range(N_ORDERS, N_ORDERS - limit, -1):
            row = order_row(i)
            out.append(
                {
                    **row,
                    "customer": customer_row(row["customer_id"]),
                    "product": product_row(row["product_id"]),
                }
            )
        return out

    def close(self) -> None:
        pass


SQL = {
    "customers": "SELECT id, name, email, city FROM customers ORDER BY id LIMIT %s",
    "customer_by_email": "SELECT id, name, email, city FROM customers WHERE email = %s",
    "customer_orders": 'SELECT id, product_id, quantity, to_char(created_at, \'YYYY-MM-DD"T"HH24:MI:SS"Z"\') '
    "AS created_at FROM orders WHERE customer_id = %s ORDER BY id DESC LIMIT 50",
    "products": "SELECT id, name, category_id, price_cents, in_stock FROM products "
    "ORDER BY id OFFSET %s LIMIT %s",
    "products_stock": "SELECT id, name, category_id, price_cents, in_stock FROM products WHERE in_stock = %s "
    "ORDER BY id OFFSET %s LIMIT %s",
    "export": "SELECT id, name, category_id, price_cents, in_stock, description FROM products ORDER BY id",
    "posts": "SELECT p.id, p.title, p.author_id, c.name AS author_name, p.category_id, p.body FROM posts p "
    "JOIN customers c ON c.id = p.author_id WHERE p.id > %s ORDER BY p.id LIMIT %s",
    "post": "SELECT p.id, p.title, p.author_id, c.name AS author_name, p.category_id, p.body FROM posts p "
    "JOIN customers c ON c.id = p.author_id WHERE p.id = %s",
    "categories": "SELECT id, name FROM categories ORDER BY id",
    "recent_orders": "SELECT id, customer_id, product_id, quantity, to_char(created_at, "
    '\'YYYY-MM-DD"T"HH24:MI:SS"Z"\') AS created_at FROM orders ORDER BY id DESC LIMIT %s',
    # The lazy loads: one query per order row, as an ORM's lazy relationship issues them.
    "lazy_customer": "SELECT id, name, email, city FROM customers WHERE id = %s",
    "lazy_product": "SELECT id, name, category_id, price_cents, in_stock FROM products WHERE id = %s",
}


class PgStore:
    """Rows from the demo database through a tiny pool of psycopg connections (one transaction a request)."""

    kind = "postgresql"

    def __init__(self, dsn: str, size: int = 4) -> None:
        self._dsn, self._size = dsn, size
        self._pool: queue.Queue[Any] = queue.Queue()
        self._all: list[Any] = []
        self._connect()

    def _connect(self) -> None:
        import psycopg
        from psycopg.rows import dict_row

        for _ in range(self._size):
            conn = psycopg.connect(
                self._dsn, autocommit=True, row_factory=dict_row, application_name="demo-api"
            )
            self._all.append(conn)
            self._pool.put(conn)

    def refresh(self) -> None:
        """Reconnect the pool. A backend publishes its table statistics (seq_scan, idx_scan) only every
        so often while it lives, and always when it exits (PostgreSQL docs, "The Cumulative Statistics
        System"); reconnecting makes the workload visible to the database audit at once."""
        for _ in range(self._size):  # wait for requests in flight to give their connection back
            self._pool.get(timeout=30)
        self.close()
        self._all = []
        self._connect()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        conn = self._pool.get(timeout=30)
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        finally:
            self._pool.put(conn)

    def _all_rows(self, name: str, *params: Any) -> list[Row]:
        with self._tx() as cur:
            cur.execute(SQL[name], params)
            return list(cur.fetchall())

    def _one(self, name: str, *params: Any) -> Row | None:
        rows = self._all_rows(name, *params)
        return rows[0] if rows else None

    def customers(self, limit: int) -> list[Row]:
        return self._all_rows("customers", limit)

    def customer_by_email(self, email: str) -> Row | None:
        return self._one("customer_by_email", email)

    def customer_orders(self, customer_id: int) -> list[Row]:
        return self._all_rows("customer_orders", customer_id)

    def products(self, offset: int, limit: int, in_stock: bool | None) -> list[Row]:
        if in_stock is None:
            return self._all_rows("products", offset, limit)
        return self._all_rows("products_stock", in_stock, offset, limit)

    def product_export(self) -> list[Row]:
        return self._all_rows("export")

    def posts(self, after: int, limit: int) -> list[Row]:
        return self._all_rows("posts", after, limit)

    def post(self, post_id: int) -> Row | None:
        return self._one("post", post_id)

    def categories(self) -> list[Row]:
        return self._all_rows("categories")

    def recent_orders(self, limit: int) -> list[Row]:
        with self._tx() as cur:
            cur.execute(SQL["recent_orders"], (limit,))
            orders = list(cur.fetchall())
            for order in orders:  # deliberate N+1: two lookups per row instead of one JOIN / IN (...)
                cur.execute(SQL["lazy_customer"], (order["customer_id"],))
                order["customer"] = cur.fetchone()
                cur.execute(SQL["lazy_product"], (order["product_id"],))
                order["product"] = cur.fetchone()
        return orders

    def close(self) -> None:
        for conn in self._all:
            with contextlib.suppress(Exception):
                conn.close()

"""Real-driver workloads for the units-of-work tests: asyncpg's pool, psycopg_pool, SQLAlchemy's QueuePool
over psycopg2 with UUID keys, and a Django-style persistent autocommit connection.

Each "request" is what one HTTP handler of such an app does on a pooled connection. Independent
requests repeat the same by-key reads with different keys, request after request, with no N+1 in
any of them; the lazy-loading handlers read one child row per parent row (a real N+1).
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
from sqlalchemy import ForeignKey, String, Uuid, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

CUSTOMERS = 40
INVOICES_PER_CUSTOMER = 3
PLANS = 3
REQUESTS = 40


def cid(i: int) -> uuid.UUID:
    """The i-th customer's key (request i asks for customer i; past the last one, round again)."""
    return uuid.UUID(int=0x6F1C2B1E_0000_4A4A_8888_000000000000 + 1 + (i - 1) % CUSTOMERS)


SCHEMA = f"""
CREATE TABLE customers (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE invoices (id uuid PRIMARY KEY, customer_id uuid NOT NULL REFERENCES customers, total int NOT NULL);
CREATE TABLE tags (customer_id uuid NOT NULL REFERENCES customers, tag text NOT NULL);
CREATE TABLE plans (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE subscriptions (id int PRIMARY KEY, plan_id int NOT NULL REFERENCES plans, seats int NOT NULL);
INSERT INTO customers SELECT ('6f1c2b1e-0000-4a4a-8888-' || lpad(to_hex(i), 12, '0'))::uuid, 'customer ' || i
  FROM generate_series(1, {CUSTOMERS}) i;
INSERT INTO invoices SELECT gen_random_uuid(), c.id, 10 * g FROM customers c,
  generate_series(1, {INVOICES_PER_CUSTOMER}) g;
INSERT INTO tags SELECT id, 'vip' FROM customers;
INSERT INTO plans SELECT i, 'plan ' || i FROM generate_series(1, {PLANS}) i;
INSERT INTO subscriptions SELECT i, 1 + i % {PLANS}, i FROM generate_series(1, 20) i;
"""

CUSTOMER = "SELECT id, name FROM customers WHERE id = $1"
INVOICES = "SELECT id, total FROM invoices WHERE customer_id = $1 ORDER BY total LIMIT 10"
TAGS = "SELECT tag FROM tags WHERE customer_id = $1"
RECENT = "SELECT id, customer_id FROM invoices ORDER BY total, id LIMIT 15"


# -- asyncpg: the real pool, a FastAPI-style handler per request ------------------------------------
async def _asyncpg(dsn: str, lazy: bool) -> None:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=2)

    async def get_customer(i: int) -> None:  # GET /customers/{id}
        async with pool.acquire() as conn:
            await conn.fetchrow(CUSTOMER, cid(i))
            await conn.fetch(INVOICES, cid(i))
            await conn.fetch(TAGS, cid(i))

    async def recent_invoices() -> None:  # GET /invoices: the customer of each invoice, one by one
        async with pool.acquire() as conn:
            for row in await conn.fetch(RECENT):
                await conn.fetchrow(CUSTOMER, row["customer_id"])

    try:
        for start in range(1, REQUESTS + 1, 2):  # two requests at a time, as two workers would
            await asyncio.gather(get_customer(start), get_customer(start + 1))
        if lazy:
            await asyncio.gather(recent_invoices(), recent_invoices())
    finally:
        await pool.close()


def asyncpg_requests(dsn: str, *, lazy: bool = False) -> None:
    asyncio.run(_asyncpg(dsn, lazy))


# -- psycopg_pool: autocommit connections, nothing logged between requests ---------------------------
def psycopg_pool_requests(dsn: str) -> None:
    from psycopg_pool import ConnectionPool

    sql = [q.replace("$1", "%s") for q in (CUSTOMER, INVOICES, TAGS)]
    with ConnectionPool(dsn, min_size=1, max_size=1, kwargs={"autocommit": True}, open=True) as pool:
        for i in range(1, REQUESTS + 1):
            with pool.connection() as conn:
                for q in sql:
                    conn.execute(q, (cid(i),)).fetchall()


# -- SQLAlchemy 2 QueuePool over psycopg2, UUID primary keys, lazy many-to-one -----------------------
class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    total: Mapped[int]
    customer: Mapped[Customer] = relationship(lazy="select")


def sqlalchemy_psycopg2(dsn: str, *, lazy: bool) -> None:
    """``lazy``: GET /invoices touching each invoice's customer (the guide's N+1); else GET
    /customers/{id} (one by-key read per request)."""
    engine = create_engine(dsn.replace("postgresql://", "postgresql+psycopg2://", 1), pool_size=2, max_overflow=0)
    for i in range(1, REQUESTS + 1):
        with Session(engine) as s:
            if lazy:
                page = s.scalars(select(Invoice).order_by(Invoice.total, Invoice.id).offset(i % 5).limit(15))
                _ = [inv.customer.name for inv in page]
            else:
                _ = s.get(Customer, cid(i)).name  # type: ignore[union-attr]
    engine.dispose()


# -- Django-style: one persistent autocommit connection (CONN_MAX_AGE), client-side binding ----------
def django_requests(dsn: str, *, lazy_plans: bool = False) -> None:
    """Each request: session row, user row, the subscriptions page; ``lazy_plans``: each subscription's
    plan read one by one (``sub.plan`` without select_related: ``plans.id = … LIMIT 21`` per row)."""
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        for i in range(1, REQUESTS + 1):
            conn.execute('SELECT "customers"."id", "customers"."name" FROM "customers" '
                         'WHERE "customers"."id" = %s LIMIT 21', (cid(i),)).fetchall()
            conn.execute('SELECT "tags"."tag" FROM "tags" WHERE "tags"."customer_id" = %s', (cid(i),)).fetchall()
            subs = conn.execute('SELECT "subscriptions"."id", "subscriptions"."plan_id" FROM "subscriptions" '
                                'ORDER BY "subscriptions"."id" ASC LIMIT 20').fetchall()
            if lazy_plans:
                for _sid, plan_id in subs:
                    conn.execute('SELECT "plans"."id", "plans"."name" FROM "plans" WHERE "plans"."id" = %s '
                                 'LIMIT 21', (plan_id,)).fetchall()


def varied_requests(dsn: str, *, pause_s: float, requests: int = 24) -> None:
    """Requests of different handlers in random order on one persistent autocommit connection (no request
    signature to learn), each reading a customer by key after a handler-specific list; ``pause_s`` idle
    time between requests, statements within a request back to back."""
    import random
    import time

    lists = [f"SELECT {what} FROM {table}" for table in ("tags", "plans", "subscriptions", "invoices")
             for what in ("count(*)", "min(1)")]
    rng = random.Random(7)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for i in range(1, requests + 1):
            conn.execute(rng.choice(lists)).fetchall()
            for query in (CUSTOMER, INVOICES):
                conn.execute(query.replace("$1", "%s"), (cid(i),)).fetchall()
            time.sleep(pause_s)

-- apiaudit demo: a small shop/blog schema with deliberate problems for `apiaudit db` to find.
-- Rows are generated with generate_series from the same formulas as apiaudit/demo/data.py.
--
-- Deliberate problems (GUIDE.md "Database Indexes", "When NOT to index"):
--   * orders.customer_id is a foreign key with no index, on a 30,000-row table;
--   * customers.email is looked up by equality (the /api/customers/lookup endpoint) with no index,
--     so every lookup is a sequential scan of 5,000 rows;
--   * products_in_stock_idx indexes a boolean (two distinct values, 90 % true): low cardinality.
-- Done right, for contrast: posts.author_id (FK) is indexed.

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

CREATE TABLE categories (
    id   integer PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE customers (
    id         integer PRIMARY KEY,
    name       text NOT NULL,
    email      text NOT NULL,
    city       text NOT NULL
);

CREATE TABLE products (
    id          integer PRIMARY KEY,
    name        text NOT NULL,
    category_id integer NOT NULL REFERENCES categories (id),
    price_cents integer NOT NULL,
    in_stock    boolean NOT NULL,
    description text NOT NULL
);

CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),  -- no index: deliberate
    product_id  integer NOT NULL REFERENCES products (id),   -- no index: deliberate
    quantity    integer NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE posts (
    id          integer PRIMARY KEY,
    title       text NOT NULL,
    author_id   integer NOT NULL REFERENCES customers (id),
    category_id integer NOT NULL REFERENCES categories (id),
    body        text NOT NULL
);

INSERT INTO categories (id, name)
SELECT i, (ARRAY['books', 'music', 'games', 'garden', 'kitchen', 'tools', 'toys', 'sports', 'office',
                 'beauty', 'health', 'travel'])[i]
FROM generate_series(1, 12) AS i;

INSERT INTO customers (id, name, email, city)
SELECT i, 'Customer ' || i, 'customer' || i || '@example.com',
       (ARRAY['Lyon', 'Oslo', 'Porto', 'Riga', 'Graz', 'Turin', 'Ghent', 'Cork'])[i % 8 + 1]
FROM generate_series(1, 5000) AS i;

INSERT INTO products (id, name, category_id, price_cents, in_stock, description)
SELECT i, 'Product ' || i, i % 12 + 1, (i * 37) % 9000 + 100, i % 10 <> 0,
       repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 6) || '#' || i
FROM generate_series(1, 3000) AS i;

INSERT INTO orders (id, customer_id, product_id, quantity, created_at)
SELECT i, (i * 7) % 5000 + 1, (i * 13) % 3000 + 1, i % 5 + 1,
       timestamptz '2026-01-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, 30000) AS i;

INSERT INTO posts (id, title, author_id, category_id, body)
SELECT i, 'Post ' || i, (i * 11) % 5000 + 1, i % 12 + 1, repeat('Text of post ' || i || '. ', 8)
FROM generate_series(1, 400) AS i;

-- Done right: the FK that the posts listing joins on is indexed.
CREATE INDEX posts_author_id_idx ON posts (author_id);
CREATE INDEX posts_category_id_idx ON posts (category_id);
CREATE INDEX products_category_id_idx ON products (category_id);

-- Deliberate: an index on a boolean column; the planner rarely uses it (90 % of rows match true).
CREATE INDEX products_in_stock_idx ON products (in_stock);

-- ANALYZE runs afterwards in its own session (apiaudit/demo/database.py): run here, it would set
-- n_live_tup before this session's own insert counts are flushed, and the table sizes would double.

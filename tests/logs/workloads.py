"""Workloads run against a real PostgreSQL to produce real query logs: a SQLAlchemy 2 ORM with lazy
relationships over psycopg 3 (extended protocol), and psycopg in simple-protocol mode."""

from __future__ import annotations

import time

import psycopg
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
)

AUTHORS = 10
POSTS_PER_AUTHOR = 2
COMMENTS_PER_POST = 3
POSTS = AUTHORS * POSTS_PER_AUTHOR

SCHEMA = f"""
CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id int PRIMARY KEY, author_id int NOT NULL REFERENCES authors, title text NOT NULL);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts, body text NOT NULL);
INSERT INTO authors SELECT i, 'author ' || i FROM generate_series(1, {AUTHORS}) i;
INSERT INTO posts SELECT i, 1 + (i - 1) % {AUTHORS}, 'post ' || i FROM generate_series(1, {POSTS}) i;
INSERT INTO comments SELECT i, 1 + (i - 1) % {POSTS}, 'comment ' || i
  FROM generate_series(1, {POSTS * COMMENTS_PER_POST}) i;
"""


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String)
    posts: Mapped[list[Post]] = relationship(back_populates="author", lazy="select")


class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    title: Mapped[str] = mapped_column(String)
    author: Mapped[Author] = relationship(back_populates="posts", lazy="select")
    comments: Mapped[list[Comment]] = relationship(back_populates="post", lazy="select")


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    body: Mapped[str] = mapped_column(String)
    post: Mapped[Post] = relationship(back_populates="comments", lazy="select")


def _engine(dsn: str):  # type: ignore[no-untyped-def]
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, pool_size=1, max_overflow=0)


def orm_lazy(dsn: str) -> None:
    """One request: list posts, then touch each post's author and comments (interleaved lazy loads)."""
    engine = _engine(dsn)
    with Session(engine) as s:
        for post in s.scalars(select(Post).order_by(Post.id)):
            _ = post.author.name, [c.body for c in post.comments]
    engine.dispose()


def orm_eager(dsn: str, how: str) -> None:
    engine = _engine(dsn)
    loader = selectinload if how == "selectin" else joinedload
    with Session(engine) as s:
        stmt = select(Post).options(loader(Post.author), loader(Post.comments)).order_by(Post.id)
        for post in s.scalars(stmt).unique():
            _ = post.author.name, [c.body for c in post.comments]
    engine.dispose()


def orm_separate_requests(dsn: str) -> None:
    """The same by-key read once per request, many requests on one pooled connection."""
    engine = _engine(dsn)
    for i in range(1, AUTHORS + 1):
        with Session(engine) as s:
            _ = s.get(Author, i).name  # type: ignore[union-attr]
    engine.dispose()


def simple_lazy(dsn: str) -> None:
    """Simple protocol (literals in the log), autocommit, no BEGIN: the N+1 of a hand-written loop."""
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        posts = conn.execute("SELECT id, author_id, title FROM posts ORDER BY id").fetchall()
        for _pid, author_id, _title in posts:
            conn.execute("SELECT id, name\n  FROM authors\n WHERE id = %s", (author_id,)).fetchone()


def simple_requests_with_gaps(dsn: str, gap_s: float) -> None:
    """Autocommit requests on one kept-open connection, separated by idle time."""
    with psycopg.connect(dsn, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
        for author_id in range(1, AUTHORS + 1):
            conn.execute("SELECT id, name FROM authors WHERE id = %s", (author_id,)).fetchone()
            time.sleep(gap_s)


def single_select_transactions(dsn: str, n: int) -> None:
    with psycopg.connect(dsn, cursor_factory=psycopg.ClientCursor) as conn:
        for i in range(n):
            conn.execute("SELECT title FROM posts WHERE id = %s", (1 + i % POSTS,)).fetchone()
            conn.commit()


def churn(dsn: str, n: int) -> None:
    """A connection per request: no pool."""
    for i in range(n):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT body FROM comments WHERE id = %s", (1 + i,)).fetchone()


def hot_read(dsn: str, n: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(n):
            conn.execute("SELECT name FROM authors WHERE id = %s", (7,)).fetchone()

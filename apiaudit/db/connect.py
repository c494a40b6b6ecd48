"""Open a read-only, time-bounded PostgreSQL session (psycopg 3) and explain connection failures.

Every session starts with ``default_transaction_read_only = on``, ``lock_timeout``,
``search_path = pg_catalog, pg_temp`` and ``application_name = apiaudit`` passed as startup options,
so even the first statement runs under them (PostgreSQL docs, "libpq: options"); the DSN's own
``options`` and ``PGOPTIONS`` never reach the auditor's session (they are read by :mod:`dsn` for the
workload's name resolution only). ``statement_timeout`` and ``idle_in_transaction_session_timeout``
are SET right after the first statement, a trivial read of pg_settings: values sent at startup would
show up in pg_settings as the server's own and hide a server that sets no timeout at all.

Every statement of the auditor's own runs through :func:`readonly`: ``BEGIN READ ONLY``, ``SET LOCAL
search_path = pg_catalog, pg_temp``, the statement, ``ROLLBACK`` (CVE-2018-1058: with pg_catalog
alone on the path no operator or function planted in another schema is a candidate). So:

* a pooler that drops startup options (PgBouncer's ``ignore_startup_parameters``) or an
  ``ALTER ROLE/DATABASE ... SET search_path`` cannot widen the path: it is set in each transaction;
* a planted function that somehow ran could not switch read-only off (``set_config(
  'default_transaction_read_only', 'off', false)``): the transaction is declared READ ONLY, and the
  ROLLBACK undoes every session-level SET made inside it (PostgreSQL docs, "SET": the effects of a
  SET in a transaction that is rolled back disappear).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from apiaudit.deadline import Deadline, Watchdog, cut_session
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text

APPLICATION_NAME = "apiaudit"
TAG = "/* apiaudit */"  # on every statement the auditor sends: its own rows are left out of workloads
PINNED_PATH = "pg_catalog, pg_temp"
BEGIN = f"{TAG} BEGIN READ ONLY"
PIN = f"{TAG} SET LOCAL search_path = {PINNED_PATH}"
ROLLBACK = f"{TAG} ROLLBACK"


@dataclass(frozen=True)
class SessionSettings:
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    connect_timeout_s: float = 5.0
    deadline: Deadline | None = None  # the command's --deadline: the session is cut when it passes


def startup_options(settings: SessionSettings) -> str:
    """The ``options`` startup parameter: GUCs applied before the first statement runs."""
    return " ".join(
        (
            "-c default_transaction_read_only=on",
            f"-c lock_timeout={int(settings.lock_timeout_ms)}",
            "-c search_path=pg_catalog,pg_temp",
            # Catalog queries over thousands of relations look expensive to the planner, and JIT
            # compiling them costs seconds for nothing (PostgreSQL docs, "When to JIT?").
            "-c jit=off",
        )
    )


def apply_timeouts(conn: Any, settings: SessionSettings) -> None:
    """statement_timeout for every later statement; never hold a transaction open if we stall.

    Plain SETs in autocommit mode (they must outlive a transaction); no function is called."""
    idle = max(int(settings.statement_timeout_ms) * 2, 10000)
    with conn.cursor() as cur:
        cur.execute(f"{TAG} SET statement_timeout = {int(settings.statement_timeout_ms)}")
        cur.execute(f"{TAG} SET idle_in_transaction_session_timeout = {idle}")


@contextmanager
def readonly(conn: Any, *, row_factory: Any = None) -> Iterator[Any]:
    """A cursor inside ``BEGIN READ ONLY`` with the pinned search_path; always rolled back."""
    cur = conn.cursor(row_factory=row_factory) if row_factory is not None else conn.cursor()
    try:
        cur.execute(BEGIN)
        try:
            cur.execute(PIN)
            yield cur
        finally:
            cur.execute(ROLLBACK)
    finally:
        cur.close()


def verify_session(conn: Any) -> None:
    """Refuse to go on unless the pinned search_path and read-only mode hold in a transaction of ours."""
    with readonly(conn) as cur:
        cur.execute(
            f"{TAG} SELECT pg_catalog.current_setting('search_path'), "
            "pg_catalog.current_setting('transaction_read_only')"
        )
        path, read_only = cur.fetchone()
    if path.replace(" ", "") != PINNED_PATH.replace(" ", "") or read_only != "on":
        raise AuditError(
            f"the session is not safe to audit with (search_path={path!r}, transaction_read_only={read_only!r})"
        )


def connect(dsn: str, settings: SessionSettings) -> Any:
    """A psycopg connection in autocommit mode; statements go through :func:`readonly`."""
    import psycopg
    from psycopg import conninfo

    from apiaudit.db.dsn import register_dsn_secrets

    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise AuditError(f"invalid DSN: {redact_text(str(exc))}") from None
    register_dsn_secrets(params)
    try:
        conn = psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(1, round(_cap(settings, settings.connect_timeout_s))),
            # A peer that stops answering is noticed by TCP too (PostgreSQL docs, "libpq: keepalives");
            # a silent but alive one only by the deadline's watchdog below.
            keepalives=1, keepalives_idle=10, keepalives_interval=5, keepalives_count=3,
            tcp_user_timeout=max(1000, round(_cap(settings, 30.0) * 1000)),
            application_name=APPLICATION_NAME,
            options=startup_options(settings),
        )
    except psycopg.Error as exc:
        raise AuditError(describe_connect_error(str(exc), params)) from None
    except OSError as exc:  # DNS failures and the like surface as OSError in some libpq builds
        raise AuditError(f"cannot connect to PostgreSQL: {redact_text(str(exc))}") from None
    conn.prepare_threshold = None  # no server-side prepared statements of our own
    if settings.deadline is not None:  # cuts a statement still waiting at the deadline (a no-op once closed)
        Watchdog(settings.deadline, lambda: cut_session(conn)).start()
    return conn


def _cap(settings: SessionSettings, seconds: float) -> float:
    return settings.deadline.cap(seconds) if settings.deadline is not None else seconds


def describe_connect_error(message: str, params: dict[str, Any]) -> str:
    """libpq's message, redacted, with a one-line diagnosis in front."""
    text = redact_text(" ".join(message.split()))
    where = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low:
        head = f"authentication failed for user {params.get('user') or '(default)'!s} at {where}"
    elif "does not exist" in low and "database" in low:
        head = f"database {params.get('dbname') or '(default)'!s} does not exist at {where}"
    elif "ssl" in low and ("required" in low or "no encryption" in low or "does not support ssl" in low):
        head = f"SSL negotiation failed at {where} (check sslmode)"
    elif "connection refused" in low or "could not connect" in low or "timeout expired" in low:
        head = f"PostgreSQL unreachable at {where}"
    elif (
        "received invalid response" in low or "expected authentication request" in low or "unexpected" in low
    ):
        head = f"the server at {where} does not speak the PostgreSQL protocol"
    else:
        head = f"cannot connect to PostgreSQL at {where}"
    return f"{head}: {text}"


def server_version_num(conn: Any) -> int:
    return int(conn.info.server_version)

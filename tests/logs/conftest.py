"""A cluster of our own with statement logging in all three formats, and a log slice per workload."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from conftest import need
from logs import workloads

from apiaudit import pgcluster

FORMATS = {"stderr": "stderr_log", "csvlog": "csv_log", "jsonlog": "json_log"}


class LogLab:
    """Runs a workload and cuts the lines it logged out of each of the server's log files."""

    def __init__(self, cluster: pgcluster.Cluster, dsn: str, out: Path) -> None:
        self.cluster, self.dsn, self.out = cluster, dsn, out
        self._n = 0

    def _sizes(self) -> dict[str, int]:
        return {fmt: getattr(self.cluster, attr).stat().st_size for fmt, attr in FORMATS.items()}

    def _settle(self, marker: str) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"SELECT '{marker}'")
        for attr in FORMATS.values():
            assert pgcluster.wait_for_log(getattr(self.cluster, attr), marker, timeout_s=20), marker

    def run(self, name: str, work: Callable[[str], None]) -> dict[str, Path]:
        """Run ``work(dsn)``; return {format: path of a file holding only what it logged}."""
        self._n += 1
        self._settle(f"apiaudit-before-{self._n}")
        start = self._sizes()
        work(self.dsn)
        self._settle(f"apiaudit-after-{self._n}")
        end = self._sizes()
        paths = {}
        for fmt, attr in FORMATS.items():
            with open(getattr(self.cluster, attr), "rb") as fh:
                fh.seek(start[fmt])
                data = fh.read(end[fmt] - start[fmt])
            ext = {"stderr": "log", "csvlog": "csv", "jsonlog": "json"}[fmt]
            path = self.out / f"{name}.{ext}"
            path.write_bytes(data)
            paths[fmt] = path
        return paths


@pytest.fixture(scope="session")
def log_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LogLab]:
    need(pgcluster.find_bindir() is not None, "PostgreSQL server binaries")
    cluster = pgcluster.start_cluster(settings={"log_statement": "'all'", "log_min_duration_statement": "-1"})
    try:
        cluster.psql("CREATE DATABASE shop")
        cluster.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "shop")
        cluster.psql(workloads.SCHEMA, "shop")
        yield LogLab(cluster, cluster.dsn("shop"), tmp_path_factory.mktemp("logs"))
    finally:
        cluster.stop()

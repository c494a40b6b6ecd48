"""`apiaudit doctor`: can the audit measure what it needs? One check per prerequisite, each with its fix.

IO at the edge, like the collectors: one short read-only session per database, one GET per API
target, one PING/INFO per cache. Nothing is written anywhere. A ``fail`` means the audit of that half
would be refused or empty (exit 3 from ``apiaudit ci``); a ``warn`` means some checklist items would be
"not assessed" (N+1 needs statement logging, index advice needs HypoPG, ...).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from apiaudit.redact import redact_text


@dataclass(frozen=True)
class Check:
    target: str
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def api_checks(urls: list[str], headers: dict[str, str], timeout_s: float = 10.0) -> list[Check]:
    """One GET per URL: the token and the base URL are the usual CI misconfigurations."""
    import httpx

    out: list[Check] = []
    with httpx.Client(headers=headers, timeout=timeout_s, follow_redirects=False) as client:
        for url in urls:
            shown = redact_text(url)
            try:
                resp = client.get(url)
            except httpx.HTTPError as exc:
                out.append(Check(shown, "reachable", "fail", redact_text(f"{type(exc).__name__}: {exc}"),
                                 "start the API before the audit, or fix targets.api"))
                continue
            code = resp.status_code
            if 200 <= code < 300:
                out.append(Check(shown, "answers 2xx", "ok", f"{code} {resp.reason_phrase}"))
            elif code in (401, 403):
                out.append(Check(shown, "answers 2xx", "fail", f"{code}: authentication refused",
                                 "give a valid token in apiaudit.yaml: "
                                 "headers: {Authorization: 'Bearer ${API_TOKEN}'}"))
            elif code == 404:
                out.append(Check(shown, "answers 2xx", "fail", "404: not found",
                                 "check the base URL and path in targets.api / endpoints"))
            elif 300 <= code < 400:
                where = redact_text(resp.headers.get("location", "?"))
                out.append(Check(shown, "answers 2xx", "warn", f"{code} redirect to {where}",
                                 "audit the final URL (a login redirect means the token is missing)"))
            else:
                out.append(Check(shown, "answers 2xx", "fail", f"{code} {resp.reason_phrase}",
                                 "the API must answer before it can be audited"))
    return out


_DB_SQL = """/* apiaudit */ SELECT
    pg_catalog.current_setting('server_version'),
    pg_catalog.current_setting('shared_preload_libraries'),
    (SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'pg_stat_statements'),
    pg_catalog.current_setting('log_statement'),
    pg_catalog.current_setting('log_min_duration_statement'),
    pg_catalog.current_setting('log_line_prefix'),
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user),
    pg_catalog.pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
    (SELECT count(*) FROM pg_catalog.pg_available_extensions WHERE name = 'hypopg'),
    (SELECT count(*) FROM pg_catalog.pg_extension WHERE extname = 'hypopg')"""


def db_checks(dsn: str, connect_timeout_s: float = 5.0) -> list[Check]:
    from apiaudit.db.connect import SessionSettings, connect, readonly
    from apiaudit.db.dsn import display_dsn
    from apiaudit.errors import AuditError

    shown = display_dsn(dsn)
    try:
        conn = connect(dsn, SessionSettings(connect_timeout_s=connect_timeout_s))
    except AuditError as exc:
        return [Check(shown, "connect", "fail", str(exc), "check the DSN, the network and pg_hba.conf")]
    try:
        with readonly(conn) as cur:
            cur.execute(_DB_SQL)
            row = cur.fetchone()
    finally:
        conn.close()
    (version, preload, pgss, log_statement, min_duration, prefix, superuser, all_stats, hypopg_avail,
     hypopg) = row
    out = [Check(shown, "connect", "ok", f"PostgreSQL {version}, read-only session")]
    if "pg_stat_statements" not in preload:
        out.append(Check(shown, "pg_stat_statements loaded", "warn", "not in shared_preload_libraries",
                         "shared_preload_libraries = 'pg_stat_statements' (restart), then "
                         "CREATE EXTENSION pg_stat_statements"))
    elif not pgss:
        out.append(Check(shown, "pg_stat_statements loaded", "warn", "loaded but the extension is not created",
                         "CREATE EXTENSION pg_stat_statements"))
    else:
        out.append(Check(shown, "pg_stat_statements loaded", "ok", "workload available"))
    every = log_statement == "all" or min_duration == "0"
    out.append(Check(shown, "statement logging for N+1", "ok" if every else "warn",
                     f"log_statement = {log_statement}, log_min_duration_statement = {min_duration}",
                     "" if every else "log_min_duration_statement = 0 (staging/CI) so every statement is logged; "
                     "a sampled log can only say 'possible N+1'"))
    grouped = any(esc in prefix for esc in ("%p", "%c"))
    out.append(Check(shown, "log_line_prefix groups sessions", "ok" if grouped else "warn", f"'{prefix}'",
                     "" if grouped else "include %p or %c (e.g. '%m [%p] %q%u@%d ') so statements group by session"))
    if superuser:
        out.append(Check(shown, "least-privilege role", "warn", "connected as a superuser",
                         "create the recommended role (README, Safety): pg_monitor + pg_read_all_stats + CONNECT"))
    elif not all_stats:
        out.append(Check(shown, "least-privilege role", "warn", "no pg_read_all_stats: other sessions' state hidden",
                         "GRANT pg_read_all_stats TO <role>"))
    else:
        out.append(Check(shown, "least-privilege role", "ok", "not a superuser, reads all statistics"))
    if hypopg:
        out.append(Check(shown, "HypoPG for verified index advice", "ok", "installed"))
    else:
        fix = ("CREATE EXTENSION hypopg" if hypopg_avail else
               "apt-get install postgresql-<version>-hypopg, then CREATE EXTENSION hypopg")
        out.append(Check(shown, "HypoPG for verified index advice", "warn",
                         "available, not created" if hypopg_avail else "not installed (advice is unverified)", fix))
    return out


def cache_checks(urls: list[str], timeout_s: float = 5.0) -> list[Check]:
    out: list[Check] = []
    for url in urls:
        from apiaudit.cache.redis import public_url

        shown = public_url(url)
        try:
            out.append(_redis(url, shown, timeout_s) if url.startswith(("redis://", "rediss://"))
                       else _memcached(url, shown, timeout_s))
        except Exception as exc:  # any client error is the finding: unreachable, refused, bad URL
            out.append(Check(shown, "reachable", "fail", redact_text(f"{type(exc).__name__}: {exc}"),
                             "check the cache URL, its password and the network"))
    return out


def _redis(url: str, shown: str, timeout_s: float) -> Check:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.ping()
        try:
            client.info("stats")
        except redis.exceptions.NoPermissionError:
            return Check(shown, "INFO allowed", "fail", "INFO is denied by an ACL: hit rate cannot be read",
                         "allow +info +config|get +scan +ttl +type +memory|usage for the audit user")
        return Check(shown, "reachable, INFO allowed", "ok", "PING and INFO answered")
    finally:
        client.close()


def _memcached(url: str, shown: str, timeout_s: float) -> Check:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 11211), timeout=timeout_s) as sock:
        sock.sendall(b"version\r\n")
        answer = sock.recv(256).decode("ascii", "replace").strip()  # one short line, bounded
    if not answer.startswith("VERSION"):
        return Check(shown, "reachable", "fail", f"unexpected answer {answer[:60]!r}", "is this a memcached server?")
    return Check(shown, "reachable", "ok", answer)


def worst(checks: list[Check]) -> str:
    return "fail" if any(c.status == "fail" for c in checks) else "warn" if any(
        c.status == "warn" for c in checks) else "ok"


def as_json(checks: list[Check]) -> list[dict[str, Any]]:
    return [c.as_dict() for c in checks]

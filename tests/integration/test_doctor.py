"""`apiaudit doctor` against real parts: the demo API, a server that refuses the token, the test
PostgreSQL as a superuser and as the README's recommended role, redis-server with an ACL user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
from cache_servers import run_redis

from apiaudit.demo.sample_api import start_sample_api


class _Refuses(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 404 if self.path.startswith("/missing") else 401
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def checks(res: Any) -> dict[tuple[str, str], dict[str, str]]:
    return {(c["target"].split("/")[2] if "://" in c["target"] else c["target"], c["name"]): c
            for c in json.loads(res.stdout)}


def test_api_token_and_base_url(run_cli: Any, refusing: str) -> None:
    api = start_sample_api()
    try:
        ok = run_cli("doctor", f"{api.url}/api/posts", "--format", "json")
        assert ok.code == 0, ok
        assert [c["status"] for c in json.loads(ok.stdout)] == ["ok"]
        bad = run_cli("doctor", f"{refusing}/api/users", f"{refusing}/missing", "--format", "json")
    finally:
        api.stop()
    assert bad.code == 3, bad
    found = json.loads(bad.stdout)
    assert [c["status"] for c in found] == ["fail", "fail"]
    assert "authentication refused" in found[0]["detail"] and "Authorization" in found[0]["fix"]
    assert "404" in found[1]["detail"] and "base URL" in found[1]["fix"]


def test_database_prerequisites_as_superuser_and_as_recommended_role(run_cli: Any, pg: Any, fresh_db: Any) -> None:
    dsn = fresh_db()
    res = run_cli("doctor", "--db", dsn, "--format", "json")
    assert res.code == 0, res  # warnings only
    by_name = {c["name"]: c for c in json.loads(res.stdout)}
    assert by_name["connect"]["status"] == "ok"
    assert by_name["pg_stat_statements loaded"]["status"] == "ok"
    assert by_name["statement logging for N+1"]["status"] == "ok"  # the test cluster logs every statement
    role = by_name["least-privilege role"]
    assert role["status"] == "warn" and "superuser" in role["detail"]
    dbname = dsn.rsplit("/", 1)[1]
    pg.psql(f"DROP ROLE IF EXISTS doctor_auditor; CREATE ROLE doctor_auditor LOGIN; "
            f"GRANT pg_monitor, pg_read_all_stats TO doctor_auditor; "
            f'GRANT CONNECT ON DATABASE "{dbname}" TO doctor_auditor')
    res = run_cli("doctor", "--db", pg.dsn(dbname, user="doctor_auditor"), "--format", "json")
    assert res.code == 0, res
    role = {c["name"]: c for c in json.loads(res.stdout)}["least-privilege role"]
    assert role["status"] == "ok", role
    unreachable = run_cli("doctor", "--db", "postgresql://nobody@127.0.0.1:9/x", "--format", "json")
    assert unreachable.code == 3 and json.loads(unreachable.stdout)[0]["status"] == "fail"


def test_cache_info_denied_by_acl(run_cli: Any) -> None:
    import redis

    with run_redis() as port:
        admin = redis.Redis(port=port)
        admin.execute_command("ACL", "SETUSER", "noinfo", "on", ">pw", "~*", "+@all", "-info")
        ok = run_cli("doctor", "--cache", f"redis://127.0.0.1:{port}/0", "--format", "json")
        denied = run_cli("doctor", "--cache", f"redis://noinfo:pw@127.0.0.1:{port}/0", "--format", "json")
    assert ok.code == 0 and json.loads(ok.stdout)[0]["status"] == "ok", ok
    assert denied.code == 3, denied
    found = json.loads(denied.stdout)[0]
    assert found["status"] == "fail" and "ACL" in found["detail"]
    assert "pw" not in denied.stdout  # the password is never echoed

"""No secret may appear in any output: every report format, stdout, stderr, --verbose, saved evidence and
error paths are scanned for the DSN password, Authorization/Cookie/API-key header values, a password
in a URL, a token in a query string and a ``${ENV}``-expanded config secret.

The HTTP target is hostile on purpose: it reflects every request header back in its response headers
and its JSON body, so a secret that reaches the server comes back in the evidence.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cache_servers import run_redis

from apiaudit import pgcluster
from hostile.measure import Run, run_measured
from hostile.rawserver import RawServer, Request, respond

TOKEN = "tokSECRETa1b2c3"
COOKIE = "cookieSECRETd4e5"
API_KEY = "keySECRETf6g7h8"
ENV_KEY = "envSECRETi9j0k1"
URL_PASS = "urlpassSECRETl2m3"
QS_TOKEN = "qsSECRETn4o5p6"
DB_PASS = "dbpassSECRETq7r8"
REDIS_PASS = "redisSECRETs9t0"
SECRETS = [TOKEN, COOKIE, API_KEY, ENV_KEY, URL_PASS, QS_TOKEN, DB_PASS, REDIS_PASS]
FORMATS = ["json", "table", "html", "sarif", "junit", "markdown"]


def leaks(*texts: str) -> list[str]:
    blob = "\n".join(texts)
    return [s for s in SECRETS if s in blob]


def outputs(run: Run, out_dir: Path | None = None) -> list[str]:
    texts = [run.stdout, run.stderr]
    if out_dir is not None and out_dir.exists():
        texts += [p.read_text(errors="replace") for p in sorted(out_dir.rglob("*")) if p.is_file()]
    return texts


async def _mirror(req: Request, w: asyncio.StreamWriter, srv: RawServer) -> bool:
    """Reflect the request headers (and the query string) in response headers and a JSON body."""
    echoed = [(f"X-Echo-{k}", v) for k, v in req.headers if k.lower() not in ("host", "content-length")]
    body = json.dumps({"items": [{"id": 1}], "you_sent": dict(req.headers), "target": req.target}).encode()
    headers = [("Content-Type", "application/json"), ("Set-Cookie", f"session={COOKIE}; HttpOnly"), *echoed]
    if "/redirect" in req.target:
        headers.append(("Location", f"/api/items?access_token={QS_TOKEN}"))
        return await respond(w, srv, 302, headers, b"", reason="Found")
    return await respond(w, srv, 200, headers, body, head_only=req.method == "HEAD")


@pytest.fixture
def mirror() -> Iterator[str]:
    server = RawServer(_mirror)
    with server.running() as url:
        yield url


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_text(
        "headers:\n  X-API-Key: ${HOSTILE_ENV_KEY}\n"
        "endpoints:\n  - path: /api/items\n    headers:\n      X-Auth-Token: ${HOSTILE_ENV_KEY}\n"
    )
    return cfg


SCAN_HEADERS = [
    "-H",
    f"Authorization: Bearer {TOKEN}",
    "-H",
    f"Cookie: session={COOKIE}",
    "-H",
    f"X-API-Key: {API_KEY}",
]


@pytest.mark.parametrize("verbose", [False, True])
def test_scan_outputs_hold_no_secret(tmp_path: Path, mirror: str, verbose: bool) -> None:
    cfg = _config(tmp_path)
    host = mirror.replace("http://", "")
    urls = [
        f"{mirror}/api/items?access_token={QS_TOKEN}",
        f"http://user:{URL_PASS}@{host}/api/users",
        f"{mirror}/api/redirect",
    ]
    out = tmp_path / "out"
    evidence = tmp_path / "evidence.json"
    args = [
        "scan",
        *urls,
        *SCAN_HEADERS,
        "--config",
        str(cfg),
        "--samples",
        "1",
        "--max-requests",
        "60",
        "--output-dir",
        str(out),
        "--save-evidence",
        str(evidence),
    ]
    for fmt in FORMATS:
        args += ["--format", fmt]
    run = run_measured(
        *args,
        *(["--verbose"] if verbose else []),
        env={"HOSTILE_ENV_KEY": ENV_KEY},
        cwd=tmp_path,
        timeout=120,
    )
    assert run.code in (0, 1), run
    assert {p.name for p in out.iterdir()} >= {"report.json", "report.html"}, list(out.iterdir())
    texts = [*outputs(run, out), evidence.read_text() if evidence.exists() else ""]
    assert not leaks(*texts), f"secrets leaked: {leaks(*texts)}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_scan_stdout_per_format_holds_no_secret(tmp_path: Path, mirror: str, fmt: str) -> None:
    run = run_measured(
        "scan",
        f"{mirror}/api/items?token={QS_TOKEN}",
        *SCAN_HEADERS,
        "--samples",
        "0",
        "--format",
        fmt,
        "--verbose",
        cwd=tmp_path,
        timeout=60,
    )
    assert run.code in (0, 1), run
    assert not leaks(*outputs(run)), leaks(*outputs(run))


SCAN_ERRORS = {
    "unreachable": ["scan", f"http://user:{URL_PASS}@127.0.0.1:1/api?api_key={QS_TOKEN}", *SCAN_HEADERS],
    "malformed-header": ["scan", "http://127.0.0.1:9/", "-H", f"Authorization Bearer {TOKEN}"],
    "header-with-newline": ["scan", "http://127.0.0.1:9/", "-H", f"X-API-Key: {API_KEY}\nX: y"],
    "bad-scheme": ["scan", f"ftp://user:{URL_PASS}@127.0.0.1/x"],
    "bad-flag": ["scan", f"http://user:{URL_PASS}@127.0.0.1:1/", "--max-requests", "-1"],
}


@pytest.mark.parametrize("case", sorted(SCAN_ERRORS))
def test_scan_error_paths_hold_no_secret(tmp_path: Path, case: str) -> None:
    run = run_measured(*SCAN_ERRORS[case], "--verbose", "--format", "json", cwd=tmp_path, timeout=60)
    assert run.code in (2, 3), run
    assert not leaks(*outputs(run)), (leaks(*outputs(run)), run)
    assert not run.has_traceback() and not run.internal_error(), run


def test_config_error_paths_hold_no_secret(tmp_path: Path) -> None:
    bad = [
        "headers:\n  Authorization: [Bearer ${HOSTILE_ENV_KEY}]\n",
        "http:\n  user_agent: ${HOSTILE_ENV_KEY}\n  max_requests: ${HOSTILE_ENV_KEY}\n",
        "gate:\n  fail_on: ${HOSTILE_ENV_KEY}\n",
        "targets:\n  database: postgresql://app:${HOSTILE_ENV_KEY}@127.0.0.1:1/x\nhttp:\n  concurrency: -1\n",
    ]
    for text in bad:
        (tmp_path / "apiaudit.yaml").write_text(text)
        run = run_measured(
            "scan",
            "http://127.0.0.1:9/",
            "--format",
            "json",
            env={"HOSTILE_ENV_KEY": ENV_KEY},
            cwd=tmp_path,
            timeout=60,
        )
        assert run.code == 2, (text, run)
        assert not leaks(*outputs(run)), (text, run)


def test_db_outputs_and_errors_hold_no_secret(pg: pgcluster.Cluster, tmp_path: Path) -> None:
    # The fixture cluster trusts local connections, so any password "works": the audit runs fully.
    pg.psql("SELECT 1")
    dsn = pg.dsn("postgres", password=DB_PASS)
    out = tmp_path / "out"
    args = ["db", dsn, "--output-dir", str(out), "--verbose"]
    for fmt in FORMATS:
        args += ["--format", fmt]
    run = run_measured(*args, cwd=tmp_path, timeout=120)
    assert run.code in (0, 1), run
    assert not leaks(*outputs(run, out)), leaks(*outputs(run, out))
    closed = pgcluster.free_port()
    for bad in (
        f"postgresql://app:{DB_PASS}@127.0.0.1:{closed}/shop",
        f"host=127.0.0.1 port={closed} user=app password={DB_PASS} dbname=shop",
        f"postgresql://app:{DB_PASS}@127.0.0.1:{pg.port}/no_such_db",
        f"postgresql://app:{DB_PASS}@127.0.0.1:{closed}/shop?sslmode=bogus",
    ):
        run = run_measured("db", bad, "--verbose", "--format", "json", cwd=tmp_path, timeout=60)
        assert run.code in (2, 3), (bad, run)
        assert not leaks(*outputs(run)), (bad, run)
        assert not run.has_traceback() and not run.internal_error(), run


@pytest.fixture
def redis_with_password() -> Iterator[int]:
    with run_redis("--requirepass", REDIS_PASS) as port:
        yield port


def test_cache_outputs_and_errors_hold_no_secret(tmp_path: Path, redis_with_password: int) -> None:
    port = redis_with_password
    out = tmp_path / "out"
    args = ["cache", f"redis://:{REDIS_PASS}@127.0.0.1:{port}/0", "--output-dir", str(out), "--verbose"]
    for fmt in FORMATS:
        args += ["--format", fmt]
    run = run_measured(*args, cwd=tmp_path, timeout=120)
    assert run.code in (0, 1, 3), run
    assert not leaks(*outputs(run, out)), leaks(*outputs(run, out))
    wrong = run_measured(
        "cache",
        f"redis://default:{REDIS_PASS}x@127.0.0.1:{port}/0",
        "--verbose",
        "--format",
        "json",
        cwd=tmp_path,
        timeout=60,
    )
    assert wrong.code == 3, wrong
    assert not leaks(wrong.stdout, wrong.stderr), wrong
    assert REDIS_PASS + "x" not in wrong.stdout + wrong.stderr


def test_db_dsn_from_env_in_config_holds_no_secret(pg: pgcluster.Cluster, tmp_path: Path) -> None:
    # targets.database: ${HOSTILE_DSN}: the whole expanded value is a secret, its password above all.
    (tmp_path / "apiaudit.yaml").write_text("targets:\n  database: ${HOSTILE_DSN}\n")
    out = tmp_path / "out"
    args = ["db", "--output-dir", str(out), "--verbose"]
    for fmt in FORMATS:
        args += ["--format", fmt]
    env = {"HOSTILE_DSN": f"host=127.0.0.1 port={pg.port} user=postgres password={DB_PASS} dbname=postgres"}
    run = run_measured(*args, env=env, cwd=tmp_path, timeout=120)
    assert run.code in (0, 1), run
    assert not leaks(*outputs(run, out)), leaks(*outputs(run, out))


def test_github_step_summary_holds_no_secret(tmp_path: Path, mirror: str) -> None:
    summary = tmp_path / "summary.md"
    run = run_measured(
        "scan",
        f"{mirror}/api/items?token={QS_TOKEN}",
        *SCAN_HEADERS,
        "--samples",
        "0",
        "--format",
        "json",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
        cwd=tmp_path,
        timeout=60,
    )
    assert run.code in (0, 1), run
    text = summary.read_text() if summary.exists() else ""
    assert not leaks(text, run.stdout, run.stderr), leaks(text, run.stdout, run.stderr)

"""Issue 12 item 5: secrets in the forms a server echoes them back, in every output.

An echoing server sends the request headers back in a body that is not UTF-8 (saved base64 in the
evidence), the Basic-auth form of a URL password, query-string credentials of many names; a Redis
password with unescaped '@' and '/' must neither show nor be taken for a host."""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path

import pytest
from cache_servers import run_redis

from apiaudit.redact import clear_secrets, redact_bytes, redact_text, register_secret, register_userinfo
from hostile.measure import run_measured
from hostile.stalling import serve_http

TOKEN = "tok_SECRET_binary_1234"
PASSWORD = "Pa55word_URL_SECRET"
FORMATS = ["table", "json", "html", "sarif", "junit", "markdown"]


def _echo(req):
    body = json.dumps({"headers": dict(req.headers.items()), "path": req.path,
                       "items": [{"id": i} for i in range(3)]}).encode()
    if "binary" in req.path:
        return 200, [("Content-Type", "application/octet-stream")], b"\xff\xfe" + body
    return 200, [("Content-Type", "application/json")], body


def _forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode().rstrip("="), urllib.parse.quote(secret, safe="")]


def _everything(folder: Path, run_out: str) -> str:
    text = run_out + "".join(p.read_text(errors="replace") for p in folder.iterdir() if p.is_file())
    for p in folder.glob("*evidence*.json"):  # decoded base64 bodies too
        for ep in json.loads(p.read_text())["endpoints"]:
            for ex in ep["exchanges"]:
                if "body_b64" in ex:
                    text += base64.b64decode(ex["body_b64"]).decode("latin-1")
    return text


def _scan(tmp_path: Path, url: str, *extra: str) -> str:
    out = tmp_path / "out"
    out.mkdir()
    formats = [arg for f in FORMATS for arg in ("--format", f)]
    run = run_measured("scan", url, "--samples", "0", *extra, "--save-evidence", str(out / "evidence.json"),
                       "--output-dir", str(out), *formats,
                       cwd=tmp_path, timeout=120)
    assert run.code in (0, 1), run
    assert (out / "evidence.json").is_file()
    return _everything(out, run.stdout + run.stderr)


def test_bearer_token_echoed_in_a_binary_body_is_redacted_before_base64(tmp_path: Path) -> None:
    with serve_http(_echo) as (url, _hits):
        text = _scan(tmp_path, f"{url}/binary", "-H", f"Authorization: Bearer {TOKEN}")
    for form in _forms(TOKEN):
        assert form not in text, form


def test_basic_auth_form_of_a_url_password_is_redacted(tmp_path: Path) -> None:
    basic = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    with serve_http(_echo) as (url, hits):
        text = _scan(tmp_path, url.replace("http://", f"http://alice:{PASSWORD}@") + "/users")
    assert any(h["headers"].get("Authorization") == f"Basic {basic}" for h in hits)  # it was sent
    assert basic not in text and basic.rstrip("=") not in text and PASSWORD not in text


QUERY_NAMES = ["key", "api_key", "api-key", "apikey", "client_secret", "sig", "signature", "X-Amz-Signature",
               "X-Amz-Credential", "X-Goog-Signature", "auth", "jwt", "access_token", "access-token",
               "refresh_token", "id_token", "session", "sessionid", "secret", "API_KEY", "Sig"]


@pytest.mark.parametrize("name", QUERY_NAMES)
def test_query_string_credentials_are_redacted(name: str) -> None:
    clear_secrets()
    value = f"QS{abs(hash(name)) % 10**8}SECRETv"
    url = f"http://127.0.0.1:8000/items?page=2&{name}={value}&x=1"
    register_userinfo(url)
    assert value not in redact_text(url)
    assert "page=2" in redact_text(url) and "x=1" in redact_text(url)
    assert value.encode() not in redact_bytes(f'{{"echo": "{value}"}}'.encode())


def test_query_credentials_in_every_output_format(tmp_path: Path) -> None:
    query = "&".join(f"{n}=QSECRET{i:02d}zz" for i, n in enumerate(QUERY_NAMES[:12]))
    with serve_http(_echo) as (url, _hits):
        text = _scan(tmp_path, f"{url}/items?{query}")
    assert "QSECRET" not in text


def test_encoded_forms_of_registered_secrets() -> None:
    clear_secrets()
    register_secret("Basic " + base64.b64encode(b"bob:hunter2hunter2").decode())
    body = b"\x00\xff echo: hunter2hunter2 / " + base64.b64encode(b"bob:hunter2hunter2")
    out = redact_bytes(body)
    assert b"hunter2" not in out and base64.b64encode(b"bob:hunter2hunter2") not in out
    register_secret("s3cr3t/with+chars")
    assert "s3cr3t" not in redact_text("q=" + urllib.parse.quote("s3cr3t/with+chars", safe=""))


def test_redis_password_with_at_and_slash_connects_to_the_right_host(tmp_path: Path) -> None:
    secret = "p@ss/wd_SECRET3"
    with run_redis("--requirepass", secret) as port:
        run = run_measured("cache", f"redis://:{secret}@127.0.0.1:{port}/0", "--format", "json",
                           "--deadline", "30", cwd=tmp_path, timeout=60)
    assert run.code in (0, 1), run  # authenticated against the real server: the host was read right
    for fragment in ("wd_SECRET3", "p@ss", secret):
        assert fragment not in run.stdout + run.stderr, fragment
    report = run.report()
    assert report is not None and report["targets"] == [f"redis://127.0.0.1:{port}/0"]


def test_redis_password_with_at_is_never_shown_when_unreachable(tmp_path: Path) -> None:
    run = run_measured("cache", "redis://:p@ss/wd_SECRET3@127.0.0.1:1/0", "--format", "json", "--verbose",
                       cwd=tmp_path, timeout=60)
    assert run.code == 3, run
    assert "SECRET3" not in run.stdout + run.stderr and "ss:6379" not in run.stderr, run
    assert "127.0.0.1:1" in run.stderr, run

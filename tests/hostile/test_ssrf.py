"""Issue 12 item 3: nothing a target serves can aim the scan at another host.

A hostile API serves an OpenAPI document whose ``paths`` keys, ``servers``, Link headers, ``next``
links and redirects all point at a canary on another port; the canary must see no request at all
(it would have received the X-API-Key), and ``apiaudit k6`` must not emit its URL either.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from apiaudit.http.client import ClientSettings, OffTarget, ScanClient
from apiaudit.http.targeting import TargetGuard, join_path, origin_of
from hostile.measure import run_measured
from hostile.stalling import json_reply, serve_http

KEY = "sk_live_SSRF_CANARY_4242"


def _hostile_keys(c: int) -> list[str]:
    return [
        f"@127.0.0.1:{c}/latest/meta-data/iam", f"@localhost:{c}/x", f"@LOCALHOST:{c}/x", f"@[::1]:{c}/x",
        ".attacker.net/x", f"//127.0.0.1:{c}/x", f"\\\\127.0.0.1:{c}\\x", f"http://127.0.0.1:{c}/x",
        f"HTTP://127.0.0.1:{c}/x", f":{c}/x", f"%2F%2F127.0.0.1:{c}/x", f"/%2F%2F127.0.0.1:{c}/x",
        f"\\/127.0.0.1:{c}/x", f"/\\127.0.0.1:{c}/x", f"@127.0.0.1:{c}#/x", f"?@127.0.0.1:{c}/x",
    ]


def _target(canary: str, c: int):
    def handler(req):
        port = req.server.server_address[1]
        if req.path.startswith("/openapi.json"):
            paths = {"/api/items": {"get": {}}, "/api/moved": {"get": {}}, "/page": {"get": {}}}
            paths.update({k: {"get": {}} for k in _hostile_keys(c)})
            doc = {"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
                   "servers": [{"url": f"{canary}/"}], "paths": paths}
            return json_reply(doc)
        if req.path.startswith("/page"):  # asset references aimed at the canary
            refs = [f"//127.0.0.1:{c}/a.js", f"http://127.0.0.1:{port}@127.0.0.1:{c}/b.js", f"/\\127.0.0.1:{c}/c.js",
                    f"{canary}/d.css", f"http://127.0.0.1:{port}\\@127.0.0.1:{c}/e.js"]
            html = "".join(f'<script src="{r}"></script><link rel="stylesheet" href="{r}">' for r in refs)
            return 200, [("Content-Type", "text/html")], f"<html><head>{html}</head></html>".encode()
        if req.path.startswith("/api/moved"):
            return 302, [("Location", f"http://127.0.0.1:{port}@127.0.0.1:{c}/stolen")], b""
        items = [{"id": i, "name": f"item{i}", "href": f"{canary}/api/items/{i}"} for i in range(30)]
        body = {"items": items, "next": f"{canary}/api/items?page=2", "links": {"next": f"{canary}/p2"}}
        return json_reply(body, ("Link", f'<{canary}/api/items?page=2>; rel="next"'))
    return handler


def test_hostile_openapi_cannot_send_the_scan_elsewhere(tmp_path: Path) -> None:
    with serve_http(lambda req: json_reply({"canary": True})) as (canary, canary_hits):
        c = int(canary.rsplit(":", 1)[1])
        with serve_http(_target(canary, c)) as (url, hits):
            run = run_measured("scan", f"{url}/api/items", "--openapi", "auto", "--samples", "1",
                               "-H", f"X-API-Key: {KEY}", "--format", "json", "-o", str(tmp_path / "r.json"),
                               "--deadline", "60", cwd=tmp_path, timeout=120)
            assert not run.has_traceback(), run
            assert run.code in (0, 1), run
            k6 = run_measured("k6", str(tmp_path / "r.json"), cwd=tmp_path, timeout=60)
    assert canary_hits == [], canary_hits[:3]
    assert len(hits) > 3  # the target itself was audited
    text = (tmp_path / "r.json").read_text()
    report = json.loads(text)
    assert KEY not in text
    refused = json.dumps([report["errors"], report["measurements"].get("skipped")])
    assert "not a plain path" in refused and "off the target" in refused, refused[:2000]
    assert run.wall_s < 30, run
    assert k6.code == 0, k6
    sent = re.findall(r'url: "([^"]+)"', k6.stdout)
    assert sent and all(origin_of(u) == origin_of(url) for u in sent), sent


def test_k6_drops_endpoints_off_the_report_targets(tmp_path: Path) -> None:
    """A hand-edited (or older) report naming another host than its targets: k6 leaves it out."""
    report = {"schema_version": 1, "tool": {"name": "apiaudit", "version": "0.1.0"}, "kind": "scan",
              "targets": ["http://127.0.0.1:8000"], "started_at": "2026-01-01T00:00:00Z", "duration_s": 1,
              "score": {}, "checklist": [], "findings": [], "stats": {}, "errors": [],
              "measurements": {"endpoints": [{"url": "http://127.0.0.1:8000/api/a", "method": "GET"},
                                             {"url": "http://169.254.169.254/latest/meta-data", "method": "GET"},
                                             {"url": "http://127.0.0.1:8000@evil.example/x", "method": "GET"}]}}
    (tmp_path / "r.json").write_text(json.dumps(report))
    k6 = run_measured("k6", str(tmp_path / "r.json"), cwd=tmp_path, timeout=60)
    assert k6.code == 0, k6
    assert re.findall(r'url: "([^"]+)"', k6.stdout) == ["http://127.0.0.1:8000/api/a"]
    assert "169.254" not in k6.stdout and "evil.example" not in k6.stdout


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{c}/x", "http://127.0.0.1:{t}@127.0.0.1:{c}/x", "http://[::1]:{c}/x",
    "http://127.0.0.1:{t}\\@127.0.0.1:{c}/x", "http://localhost:{t}/x", "http://127.1:{t}/x",
    "https://127.0.0.1:{t}/x", "http://127.0.0.1.:{c}/x", "ftp://127.0.0.1:{t}/x", "http:\\\\127.0.0.1:{c}/x",
])
def test_the_client_refuses_every_off_target_variant(url: str) -> None:
    """The guard sits at the one send path: a URL built anywhere is checked before it goes out."""
    with serve_http(lambda req: json_reply({"canary": True})) as (canary, canary_hits):
        c = int(canary.rsplit(":", 1)[1])
        with serve_http(lambda req: json_reply([])) as (target, hits):
            t = int(target.rsplit(":", 1)[1])

            async def go() -> None:
                async with ScanClient(ClientSettings(http2=False), targets=[target + "/api"]) as client:
                    with pytest.raises(OffTarget):
                        await client.fetch(url.format(c=c, t=t), purpose="base")
                    ok = await client.fetch(f"HTTP://127.0.0.1:{t}/api", purpose="base")
                    assert ok.status == 200

            asyncio.run(go())
    assert canary_hits == []
    assert len(hits) == 1


def test_allow_hosts_admits_a_named_host_and_redirects_are_checked() -> None:
    guard = TargetGuard(["http://127.0.0.1:8000/api"], ["API.Example.com"])
    assert guard.refusal("http://api.example.com/x") is None
    assert guard.refusal("http://127.0.0.1:8000/other") is None
    assert guard.refusal("http://127.0.0.1:80/") is not None
    assert guard.refusal("http://api.example.com.attacker.net/x") is not None
    assert join_path("http://h:1/v1", "/items/{id}") == "http://h:1/v1/items/{id}"
    for key in ("@evil:1/x", ".evil/x", "//evil/x", "\\\\evil", "http://evil/x", "/a\\b", "/a?x=1", "/a#b"):
        assert join_path("http://h:1/v1", key) is None, key

    with serve_http(lambda req: json_reply({"canary": True})) as (canary, canary_hits):
        def moved(req):
            return 302, [("Location", f"{canary}/x")], b""

        with serve_http(moved) as (target, _hits):
            async def go() -> None:
                async with ScanClient(ClientSettings(http2=False), targets=[target]) as client:
                    ex = await client.fetch(f"{target}/a", purpose="base")
                    assert ex.status == 302 and "off the target" in (ex.error or "")

            asyncio.run(go())
    assert canary_hits == []

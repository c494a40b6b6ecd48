"""`apiaudit init` on a real FastAPI app (its own /openapi.json): the file it writes loads, lists the
app's GET operations, never holds the DSN's password, and `apiaudit ci` runs with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from apiaudit.config import load_config


def app() -> FastAPI:
    api = FastAPI()

    @api.get("/api/items")
    def items(limit: int = 10) -> list[dict[str, int]]:
        return [{"id": i} for i in range(min(limit, 100))]

    @api.get("/api/items/{item_id}")
    def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @api.post("/api/items")
    def create() -> dict[str, str]:  # never in the config: only GET operations are audited
        return {}

    return api


def test_init_writes_a_config_that_loads_and_runs(run_cli: Any, asgi_server: Any, tmp_path: Path) -> None:
    out = tmp_path / "apiaudit.yaml"
    scan_only = tmp_path / "scan-only.yaml"
    with asgi_server(app()) as base:
        res = run_cli("init", base, "--db", "postgresql://auditor:s3cr3t-pw@127.0.0.1:5432/shop", "-o", str(out))
        assert res.code == 0, res
        text = out.read_text()
        assert "s3cr3t-pw" not in text and "s3cr3t-pw" not in res.stderr
        assert text.startswith("# apiaudit.yaml") and "PGPASSWORD" in res.stderr
        doc = yaml.safe_load(text)
        assert doc["targets"]["api"] == [base]
        assert doc["endpoints"][0]["path"] == "/api/items"
        assert len(doc["endpoints"]) == 1  # GET /api/items; /api/items/{item_id} waits for an id:
        assert "#   - path: /api/items/{item_id}" in text
        cfg = load_config(str(out), explicit=True)
        assert cfg.targets["database"] == "postgresql://auditor@127.0.0.1:5432/shop"
        assert run_cli("init", base, "-o", str(out)).code == 2  # exists: never overwritten silently
        again = run_cli("init", base, "-o", str(out), "--force")
        assert again.code == 0
        assert run_cli("init", base, "-o", str(scan_only)).code == 0  # the API alone: ci runs the scan
        ran = run_cli("ci", "-c", str(scan_only), "--output-dir", str(tmp_path / "r"), "--fail-on", "none")
    assert ran.code == 0, ran
    assert (tmp_path / "r" / "report.sarif").is_file()

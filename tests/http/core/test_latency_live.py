"""P95 judged on a live scan with enough samples (latency_min_samples = 20), on both sides of the
thresholds: a ~30 ms endpoint against a 20 ms warning, a ~60 ms one against a 45 ms critical level
(thresholds lowered in the config so the test stays short; the check is the same)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI


def app() -> FastAPI:
    api = FastAPI()

    @api.get("/api/fast")
    def fast() -> dict[str, int]:
        return {"id": 1}

    @api.get("/api/slow")
    def slow() -> dict[str, int]:
        time.sleep(0.03)
        return {"id": 2}

    @api.get("/api/slower")
    def slower() -> dict[str, int]:
        time.sleep(0.06)
        return {"id": 3}

    return api


def test_p95_warn_and_critical_from_enough_samples(run_cli: Any, asgi_server: Any, tmp_path: Path) -> None:
    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_text("thresholds: {p95_warn_ms: 20, p95_critical_ms: 45}\n")
    with asgi_server(app()) as base:
        res = run_cli("scan", f"{base}/api/fast", f"{base}/api/slow", f"{base}/api/slower", "-c", str(cfg),
                      "--samples", "22", "--format", "json", "--fail-on", "none")
    assert res.code == 0, res
    found = {(f["rule"], f["location"]["url"].rsplit("/", 1)[1]) for f in json.loads(res.stdout)["findings"]
             if f["rule"].startswith("http.latency.p95")}
    assert found == {("http.latency.p95-warn", "slow"), ("http.latency.p95-critical", "slower")}

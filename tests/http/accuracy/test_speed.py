"""Issue 14 point 10: the probes of one endpoint run concurrently within the per-host limit, so a 1 s
endpoint costs a few rounds, not one second per request; and with --samples 0 an endpoint gets at
most 10 requests, counted by the server."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import serve_asgi  # type: ignore[attr-defined]
from fastapi import FastAPI, Request
from scan_accuracy import scan

from apiaudit.http.evidence import load_evidence


def test_one_second_endpoint_is_not_one_second_per_probe(tmp_path: Path) -> None:
    hits: Counter[str] = Counter()
    app = FastAPI()

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        hits[request.url.path] += 1
        return await call_next(request)

    @app.api_route("/slow", methods=["GET", "HEAD"])
    async def slow() -> Any:
        await asyncio.sleep(1.0)
        return [{"id": i, "name": f"n{i}", "email": "e", "bio": "b" * 120} for i in range(30)]

    with serve_asgi(app) as base:
        report = scan([base + "/slow"], save_evidence=str(tmp_path / "ev.json"))
    sent = hits["/slow"]
    assert sent <= 10, sent  # server-side count, --samples 0
    exchanges = load_evidence(str(tmp_path / "ev.json")).endpoints[0].exchanges
    span_s = (max(ex.started_ms + ex.elapsed_ms for ex in exchanges) - min(ex.started_ms for ex in exchanges)) / 1000
    # one after another, the 1 s requests would take `sent` seconds; concurrently a few rounds
    assert sent >= 6 and span_s < sent - 1.5, (span_s, sent)
    assert report.stats["http_requests"] >= sent

"""apiaudit scan vs REDbot on the same local endpoints, side by side in one run.

    /tmp/venv/bin/python bench/scan_vs_redbot.py [--endpoints 12] [--redbot-venv /tmp/apiaudit-bench-redbot]

Starts a FastAPI app under uvicorn on 127.0.0.1 (a mix of good and bad caching/compression
behaviour), runs `apiaudit scan URL... --samples 0` once (one process, all endpoints), then REDbot
(PyPI `redbot`, installed into its own venv on first use) once per URL, as its CLI takes one URL.
Prints wall times, the ratio and apiaudit's requests per endpoint (goal: >= 5x faster, <= 10
requests per endpoint). Not part of the test suite.
"""


import argparse
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


HITS: dict[str, int] = {}  # requests per path, counted by the server (a middleware)
SLOW_S = 1.0  # the slow-endpoint case: /slow answers after this long


def make_app(n: int) -> Any:
    # FastAPI reads the handler's annotations at runtime: keep this module free of
    # `from __future__ import annotations` so `Request` resolves.
    from fastapi import FastAPI, Request, Response
    from fastapi.middleware.gzip import GZipMiddleware

    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        HITS[request.url.path] = HITS.get(request.url.path, 0) + 1
        return await call_next(request)

    @app.get("/slow")
    async def slow() -> Any:
        import asyncio

        await asyncio.sleep(SLOW_S)
        return {"id": 1}

    body = json.dumps([{"id": i, "name": f"item {i}", "price": i * 1.5} for i in range(50)])

    def handler(i: int) -> Any:
        etag = '"' + hashlib.md5(f"{i}{body}".encode()).hexdigest() + '"'

        def endpoint(request: Request) -> Response:
            headers = {"ETag": etag} if i % 3 else {}
            if i % 2:
                headers["Cache-Control"] = f"max-age={60 * i}"
            if i % 3 and request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
            return Response(body, media_type="application/json", headers=headers)

        return endpoint

    for i in range(n):
        app.add_api_route(f"/r{i}", handler(i), methods=["GET"])
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: Any) -> tuple[str, Any]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


def redbot_bin(venv: Path) -> Path:
    exe = venv / "bin" / "redbot"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "redbot"], check=True)
    return exe


def apiaudit_bin() -> list[str]:
    exe = shutil.which("apiaudit", path=str(Path(sys.executable).parent)) or shutil.which("apiaudit")
    return [exe] if exe else [sys.executable, "-m", "apiaudit"]


def run_apiaudit(urls: list[str], out: Path) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    cmd = [*apiaudit_bin(), "scan", *urls, "--samples", "0", "--format", "json", "--output", str(out)]
    cmd.append("--quiet")
    subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    return wall, json.loads(out.read_text())


def run_redbot(exe: Path, urls: list[str]) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    outputs = [
        subprocess.run([str(exe), url], capture_output=True, text=True, check=False).stdout for url in urls
    ]
    return time.perf_counter() - t0, outputs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoints", type=int, default=12)
    ap.add_argument("--redbot-venv", type=Path, default=Path("/tmp/apiaudit-bench-redbot"))
    args = ap.parse_args()
    exe = redbot_bin(args.redbot_venv)
    base, server = serve(make_app(args.endpoints))
    urls = [f"{base}/r{i}" for i in range(args.endpoints)]
    try:
        out = Path(tempfile.mkdtemp()) / "scan.json"
        run_apiaudit(urls[:1], out)  # warm the interpreter's file cache for both tools alike
        run_redbot(exe, urls[:1])
        HITS.clear()
        a_wall, report = run_apiaudit(urls, out)
        server_counts = {u: HITS.get(u.split(base, 1)[1], 0) for u in urls}
        t0 = time.perf_counter()
        for url in urls:  # as REDbot is used: one URL per process
            run_apiaudit([url], out)
        a_each = time.perf_counter() - t0
        r_wall, outputs = run_redbot(exe, urls)
        slow_a, _ = run_apiaudit([base + "/slow"], out)
        slow_r, _ = run_redbot(exe, [base + "/slow"])
    finally:
        server.should_exit = True
    reqs = report["stats"]["http_requests"]
    core = ("http.cache", "http.validation", "http.compression", "http.lint", "http.size")
    ours = sum(1 for f in report["findings"] if f["rule"].startswith(core))
    print(f"endpoints                      {len(urls)}")
    print(
        f"apiaudit scan (1 process)      {a_wall:6.2f} s  {reqs} requests; server-side per endpoint: "
        f"{sum(server_counts.values()) / len(urls):.1f} mean, max {max(server_counts.values())}"
    )
    print(f"apiaudit (1 process per URL)   {a_each:6.2f} s")
    print(f"REDbot (1 process per URL)     {r_wall:6.2f} s")
    print(f"ratio REDbot / apiaudit        {r_wall / a_wall:6.1f}x batched, "
          f"{r_wall / a_each:4.1f}x one URL per process")
    print(f"slow endpoint ({SLOW_S:.0f} s)          apiaudit {slow_a:5.2f} s, REDbot {slow_r:5.2f} s")
    printed = sum(1 for o in outputs if o)
    print(f"apiaudit caching/compression findings: {ours}; REDbot reports printed: {printed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A real Prometheus for tests/monitor (Debian's `prometheus`) scraping a real app instrumented with prometheus-client.

The app has a fast route, a slow one (~0.6 s: above the 500 ms P95 warning) and a flaky one (one 5xx
in three); a bounded workload runs while Prometheus scrapes every second. Rule files and extra scrape
jobs (a target that is down) are given per test session.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from conftest import need

GOOD_RULES = """\
groups:
  - name: api
    rules:
      - alert: ApiLatencyP95High
        expr: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5
        for: 5m
      - alert: ApiErrorRateHigh
        expr: >-
          sum(rate(http_request_duration_seconds_count{status=~"5.."}[5m]))
          / sum(rate(http_request_duration_seconds_count[5m])) > 0.01
        for: 5m
      - alert: ApiCpuHigh
        expr: rate(process_cpu_seconds_total{job="api"}[5m]) > 0.8
      - alert: ApiMisspelt
        expr: rate(http_requst_duration_seconds_count[5m]) > 100
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def instrumented_app() -> tuple[ThreadingHTTPServer, str]:
    from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest

    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    hist = Histogram("http_request_duration_seconds", "Request duration", ["handler", "method", "status"],
                     registry=registry)
    calls = {"flaky": 0, "rare": 0}
    for route in ("/api/flaky", "/api/rare"):  # series exported from the start at 0, as real apps do after a
        hist.labels(route, "GET", "500")        # first error: rate() then sees every increment

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            start = time.monotonic()
            status = 200
            if self.path == "/metrics":
                body = generate_latest(registry)
            else:
                if self.path == "/api/slow":
                    time.sleep(0.6)
                elif self.path == "/api/flaky":
                    calls["flaky"] += 1
                    status = 500 if calls["flaky"] % 3 == 0 else 200
                elif self.path == "/api/rare":  # 1 in 50: between the 1 % warning and the 5 % critical level
                    calls["rare"] += 1
                    status = 500 if calls["rare"] % 50 == 0 else 200
                elif self.path != "/api/fast":
                    status = 404
                body = b"{}"
                hist.labels(self.path, "GET", str(status)).observe(time.monotonic() - start)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


@contextlib.contextmanager
def prometheus(scrape: dict[str, str], rules: str | None) -> Iterator[str]:
    binary = shutil.which("prometheus")
    need(binary is not None, "prometheus (Debian package)")
    assert binary is not None
    work = Path(tempfile.mkdtemp(prefix="apiaudit-prom-"))
    port = _free_port()
    jobs = "\n".join(f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]"
                     for job, target in scrape.items())
    rule_line = ""
    if rules is not None:
        (work / "rules.yml").write_text(rules)
        rule_line = f"rule_files: ['{work / 'rules.yml'}']\n"
    (work / "prometheus.yml").write_text(
        f"global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n{rule_line}scrape_configs:\n{jobs}\n")
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}",
                             f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def scraped_enough(url: str, metric: str, samples: int = 5) -> bool:
    """Every series of ``metric`` has at least ``samples`` scrapes (rate() needs several; a loaded machine
    scrapes late)."""
    expr = f"min(count_over_time({metric}[5m]))"
    with contextlib.suppress(httpx.HTTPError, KeyError, IndexError, ValueError):
        result = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()["data"]["result"]
        return bool(result) and float(result[0]["value"][1]) >= samples
    return False


def drive(app: str, seconds: float = 6.0, cache: Callable[[], None] | None = None,
          until: Callable[[], bool] | None = None, max_seconds: float = 45.0) -> None:
    """A bounded workload: a few requests per second per route (and cache lookups) while Prometheus
    scrapes; at least ``seconds``, then until ``until()`` holds, never longer than ``max_seconds``."""
    start = time.monotonic()
    with httpx.Client(base_url=f"http://{app}", timeout=5) as client:
        while True:
            elapsed = time.monotonic() - start
            if elapsed > max_seconds or (elapsed > seconds and (until is None or until())):
                break
            for route in ("/api/fast", "/api/fast", "/api/flaky", "/api/flaky", "/api/flaky", "/api/slow"):
                client.get(route)
            for _ in range(40):
                client.get("/api/rare")
            if cache is not None:
                cache()


@contextlib.contextmanager
def redis_exporter(hit_share: float) -> Iterator[tuple[str, Callable[[], None]]]:
    """redis-server + Debian's prometheus-redis-exporter; the callable does 20 GETs, ``hit_share`` of them hits."""
    import redis
    from cache_servers import run_redis

    binary = shutil.which("prometheus-redis-exporter")
    need(binary is not None, "prometheus-redis-exporter (Debian package)")
    assert binary is not None
    with run_redis() as port:
        client = redis.Redis(port=port)
        client.set("present", "1")
        hits = round(20 * hit_share)
        eport = _free_port()
        proc = subprocess.Popen([binary, f"--redis.addr=redis://127.0.0.1:{port}",
                                 f"--web.listen-address=127.0.0.1:{eport}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{eport}/metrics", timeout=1).status_code == 200:
                        break
                time.sleep(0.1)

            def lookups() -> None:
                for i in range(20):
                    client.get("present" if i < hits else f"missing:{i}")

            yield f"127.0.0.1:{eport}", lookups
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            client.close()


def slow_unlabelled_app() -> tuple[ThreadingHTTPServer, str]:
    """An app whose histogram has no route or status label, every request ~1.1 s, no process metrics."""
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    registry = CollectorRegistry()
    hist = Histogram("request_latency_seconds", "Request latency", registry=registry)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/metrics":
                with hist.time():
                    time.sleep(1.1)
            body = generate_latest(registry) if self.path == "/metrics" else b"{}"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


LATENCY_ONLY_RULES = """groups:
  - name: api
    rules:
      - alert: SlowApi
        expr: histogram_quantile(0.95, sum by (le) (rate(request_latency_seconds_bucket[5m]))) > 1
"""


@contextlib.contextmanager
def sparse() -> Iterator[str]:
    """Prometheus with one latency rule, an unlabelled slow app without process metrics, and a redis whose
    lookups all miss."""
    server, app = slow_unlabelled_app()
    try:
        with redis_exporter(0.0) as (exporter, lookups), \
                prometheus({"api": app, "redis": exporter}, LATENCY_ONLY_RULES) as url:
            start = time.monotonic()
            with httpx.Client(base_url=f"http://{app}", timeout=5) as client:
                while time.monotonic() - start < 45 and (time.monotonic() - start < 6 or not (
                        scraped_enough(url, "request_latency_seconds_count")
                        and scraped_enough(url, "redis_keyspace_misses_total"))):
                    threads = [threading.Thread(target=client.get, args=("/x",)) for _ in range(4)]
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    lookups()
            wait_for_series(url, "histogram_quantile(0.95, sum by (le) (rate(request_latency_seconds_bucket[1m])))")
            wait_for_series(url, "rate(redis_keyspace_misses_total[1m]) > 0")
            yield url
    finally:
        server.shutdown()
        server.server_close()


def wait_for_series(url: str, expr: str, timeout_s: float = 20.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        data = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
        if data["data"]["result"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"Prometheus never had {expr}")


@pytest.fixture(scope="module")
def monitored() -> Iterator[str]:
    """Prometheus with the good rules (plus one misspelt), the instrumented app and a target that is down."""
    server, app = instrumented_app()
    try:
        with redis_exporter(0.7) as (exporter, lookups), \
                prometheus({"api": app, "gone": f"127.0.0.1:{_free_port()}", "redis": exporter}, GOOD_RULES) as url:
            drive(app, cache=lookups, until=lambda: scraped_enough(url, "http_request_duration_seconds_count")
                  and scraped_enough(url, "redis_keyspace_misses_total"))
            p95 = "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))"
            wait_for_series(url, p95)
            yield url
    finally:
        server.shutdown()
        server.server_close()

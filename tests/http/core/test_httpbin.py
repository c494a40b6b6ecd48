"""Another server nobody here wrote: httpbin (PyPI) under gunicorn. Expected audit derived from
httpbin's documented endpoints and its handlers' documented behaviour:

* `/cache` "returns a 304 if an If-Modified-Since or If-None-Match header is present" and sets
  Last-Modified and ETag on the 200, but no Cache-Control; its 304 is bare, so it drops the ETag
  (RFC 9110 §15.4.5);
* `/cache/{n}` "sets a Cache-Control header for n seconds" (public, max-age=n) and no validator;
* `/etag/{etag}` answers If-None-Match with 304 and sends the path's etag verbatim, so an
  unquoted one breaks the entity-tag syntax (RFC 9110 §8.8.3; httplint BAD_SYNTAX);
* `/gzip`, `/brotli` are always coded and carry no Vary: the coding does not follow
  Accept-Encoding (httplint ENCODING_UNWANTED) and caches are not told (our no-vary);
* `/response-headers?...` echoes the query as headers, here `Vary: *`;
* `/json` is a small (< 1 KB) document without caching headers.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import _wait_port, need

from apiaudit import pgcluster
from apiaudit.config import Config
from apiaudit.http.audit import ScanOptions, run_scan
from apiaudit.model import Report
from apiaudit.rules import load_rules

PATHS = ["/cache", "/cache/120", "/etag/abc", "/gzip", "/brotli", "/response-headers?Vary=*", "/json"]


@pytest.fixture(scope="module")
def httpbin() -> Iterator[str]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    need(
        gunicorn is not None and importlib.util.find_spec("httpbin") is not None, "httpbin + gunicorn (PyPI)"
    )
    port = pgcluster.free_port()
    proc = subprocess.Popen(
        [str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", "2", "httpbin:app"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, timeout_s=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def report(httpbin: str) -> Report:
    cfg = Config(ruleset=load_rules())
    opts = ScanOptions.from_cli(cfg, urls=[httpbin + p for p in PATHS], samples=0, quiet=True)
    return run_scan(opts, cfg)


def at(report: Report, path: str) -> dict[str, list[dict[str, object]]]:
    out: dict[str, list[dict[str, object]]] = {}
    for f in report.findings:
        if f.location.get("url", "").split("://", 1)[1].split("/", 1)[1] == path.lstrip("/"):
            out.setdefault(f.rule, []).append(f.evidence)
    return out


def test_cache_endpoint(report: Report) -> None:
    found = at(report, "/cache")
    assert "http.cache.no-cache-control" in found
    assert not {
        "http.validation.etag-ignored",
        "http.validation.ims-ignored",
        "http.validation.no-validator",
    } & set(found)
    assert found["http.validation.304-missing-headers"][0]["missing"] == ["etag"]


def test_cache_n_endpoint(report: Report) -> None:
    found = at(report, "/cache/120")
    assert "http.validation.no-validator" in found and "http.cache.no-cache-control" not in found


def test_unquoted_etag_is_a_syntax_warning_but_validates(report: Report) -> None:
    found = at(report, "/etag/abc")
    assert "BAD_SYNTAX" in {e["note"] for e in found.get("http.lint.warn", [])}
    assert "http.validation.etag-ignored" not in found


@pytest.mark.parametrize("path", ["/gzip", "/brotli"])
def test_always_coded_without_vary(report: Report, path: str) -> None:
    found = at(report, path)
    assert "http.compression.no-vary" in found
    assert "ENCODING_UNWANTED" in {e["note"] for e in found.get("http.lint.warn", [])}


def test_vary_star_and_small_json(report: Report) -> None:
    assert "http.cache.vary-star" in at(report, "/response-headers?Vary=*")
    small = at(report, "/json")
    assert "http.cache.no-cache-control" in small and "http.compression.missing" not in small

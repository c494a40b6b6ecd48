"""Issue 14 point 9: a baseline written against 127.0.0.1:PORT recognises the same findings scanned via
localhost:PORT (path + rule + subject identify a finding, not scheme/host/port). Real CLI runs against
the FastAPI app of tests/scan_accuracy.py; old baselines (host-bound fingerprints) still match."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import apiaudit_cmd  # type: ignore[attr-defined]

from apiaudit.model import fingerprint_of, legacy_fingerprint_of

PATHS = ("/legacy/products", "/charts/latency")


def _scan(base: str, *extra: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*apiaudit_cmd(), "scan", *(base + p for p in PATHS), "--samples", "0",
                           "--format", "json", *extra], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_baseline_from_127_0_0_1_matches_localhost(realapp: str, tmp_path: Path) -> None:
    first = _scan(realapp, "--write-baseline", str(tmp_path / "base.json"), cwd=tmp_path)
    assert first.returncode == 1, first.stderr  # /legacy/products: unbounded collection (HIGH)
    via_localhost = realapp.replace("127.0.0.1", "localhost")
    again = _scan(via_localhost, "--baseline", str(tmp_path / "base.json"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # every finding known: the gate passes
    report = json.loads(again.stdout)
    assert report["findings"] and all(f["known"] for f in report["findings"])


def test_fingerprint_ignores_scheme_host_and_port() -> None:
    a = fingerprint_of("http.cache.no-cache-control", {"url": "http://127.0.0.1:8000/a?x=1", "method": "GET"})
    b = fingerprint_of("http.cache.no-cache-control", {"url": "https://staging.example.com/a?x=1", "method": "GET"})
    c = fingerprint_of("http.cache.no-cache-control", {"url": "http://127.0.0.1:8000/b?x=1", "method": "GET"})
    assert a == b != c
    assert fingerprint_of("http.errors.rate-warn", {"target": "http://127.0.0.1:8000"}) == \
        fingerprint_of("http.errors.rate-warn", {"target": "http://localhost:9000"})


def test_old_fingerprints_file_still_matches(realapp: str, tmp_path: Path) -> None:
    first = json.loads(_scan(realapp, cwd=tmp_path).stdout)
    old = {"fingerprints": [legacy_fingerprint_of(f["rule"], f["location"]) for f in first["findings"]]}
    (tmp_path / "old.json").write_text(json.dumps(old))
    again = _scan(realapp, "--baseline", str(tmp_path / "old.json"), cwd=tmp_path)
    assert again.returncode == 0, again.stderr

"""Issue 13: `apiaudit report` (the documented CI gate) judges saved reports again: this config's rule
severities and `off`, and this run's --baseline, never the severities or `known` flags an earlier run
saved (before: exit 0 where `scan` with the same config exited 1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apiaudit.assemble import assemble
from apiaudit.checks import CheckRun
from apiaudit.model import Finding
from apiaudit.rules import load_rules


def saved_scan(path: Path, *, known: bool = False) -> Path:
    run = CheckRun(findings=[Finding("http.ratelimit.none", {"url": "http://127.0.0.1:9/a", "method": "GET"},
                                     {"origin": "http://127.0.0.1:9", "requests": 6})],
                   covered={"scaling.rate_limiting"}, kinds={"scan"})
    rep = assemble(kind="scan", targets=["http://127.0.0.1:9"], run=run, ruleset=load_rules(),
                   started_at="2026-12-05T00:00:00Z", duration_s=0.1)
    data = rep.to_dict()
    for f in data["findings"]:
        f["known"] = known
    path.write_text(json.dumps(data))
    return path


def test_report_applies_the_config_severity_overrides(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    scan = saved_scan(tmp_path / "scan.json")  # http.ratelimit.none saved as medium
    cfg = tmp_path / "upgrade.yaml"
    cfg.write_text("rules:\n  http.ratelimit.none: critical\ngate:\n  fail_on: critical\n")
    out_file = tmp_path / "r.json"
    res = run_cli("report", str(scan), "-c", str(cfg), "-q", "--format", "json", "-o", str(out_file))
    assert res.code == 1, res
    out = json.loads(out_file.read_text())
    assert [f["severity"] for f in out["findings"]] == ["critical"]
    assert next(c for c in out["checklist"] if c["id"] == "scaling.rate_limiting")["status"] == "fail"
    both = run_cli("report", str(scan), str(scan), "-c", str(cfg), "-q", "--format", "json")
    assert both.code == 1, both
    off = tmp_path / "off.yaml"
    off.write_text("rules:\n  http.ratelimit.none: 'off'\ngate:\n  fail_on: low\n")
    quiet = run_cli("report", str(scan), "-c", str(off), "-q", "--format", "json", "-o", str(out_file))
    assert quiet.code == 0 and json.loads(out_file.read_text())["findings"] == [], quiet


def test_report_ignores_known_flags_saved_by_an_earlier_baseline(run_cli: Callable[..., Any],
                                                                 tmp_path: Path) -> None:
    scan = saved_scan(tmp_path / "k2.json", known=True)
    out_file = tmp_path / "r.json"
    res = run_cli("report", str(scan), "--fail-on", "low", "-q", "--format", "json", "-o", str(out_file))
    assert res.code == 1, res
    assert [f["known"] for f in json.loads(out_file.read_text())["findings"]] == [False]
    base = tmp_path / "base.json"
    assert run_cli("baseline", str(scan), "-o", str(base)).code == 0
    again = run_cli("report", str(scan), "--fail-on", "low", "--baseline", str(base), "-q", "--format", "json")
    assert again.code == 0, again  # this run's --baseline still counts

"""The real console script end to end: exit codes, one-line errors, gate decisions, baselines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import apiaudit_cmd

from apiaudit.assemble import assemble
from apiaudit.checks import CheckRun
from apiaudit.model import Finding, Report
from apiaudit.rules import Rule, RuleSet, load_rules


def _a_report(tmp_path: Path, name: str, *, severity: str = "high", url: str = "http://127.0.0.1:1/a") -> Path:
    """A saved JSON report with one finding, built through the real assembly path."""
    from apiaudit.model import Severity

    base = load_rules()
    rule = Rule(id="http.test.sample", title="Sample", checklist="api.pagination", severity=Severity.parse(severity),
                summary="s", message="{url} is bad", why="w", fix="f")
    rs = RuleSet(rules={rule.id: rule}, checklist=base.checklist, thresholds=base.thresholds)
    run = CheckRun(findings=[Finding(rule.id, {"url": url, "method": "GET"})], covered={"api.pagination"},
                   kinds={"scan"})
    report = assemble(kind="scan", targets=[url], run=run, ruleset=rs, started_at="2026-11-29T00:00:00Z",
                      duration_s=0.5)
    path = tmp_path / name
    path.write_text(json.dumps(report.to_dict()))
    return path


def test_help_version_rules_checklist(run_cli) -> None:
    assert run_cli("--help").code == 0
    out = run_cli("--version")
    assert out.code == 0 and out.stdout.strip() == "apiaudit 0.1.0"
    checklist = run_cli("checklist", "--format", "json")
    assert checklist.code == 0
    assert len(json.loads(checklist.stdout)) == 21
    rules = run_cli("rules", "--format", "json")
    assert rules.code == 0 and isinstance(json.loads(rules.stdout), list)
    for cmd in ("scan", "db", "cache", "report", "rules", "checklist", "demo"):
        res = run_cli(cmd, "--help")
        assert res.code == 0 and "Usage" in res.stdout, cmd


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("frobnicate",), "No such command"),
        (("scan", "--bogus-flag", "http://127.0.0.1:1"), "No such option"),
        (("scan", "--format", "bogus", "http://127.0.0.1:1"), "unknown format 'bogus'"),
        (("scan", "--min-score", "150", "http://127.0.0.1:1"), "--min-score must be between 0 and 100"),
        (("scan", "--fail-on", "sometimes", "http://127.0.0.1:1"), "unknown severity 'sometimes'"),
        (("scan", "--config", "/nonexistent/apiaudit.yaml", "http://127.0.0.1:1"), "config file not found"),
        (("rules", "no.such.rule"), "unknown rule id 'no.such.rule'"),
        (("report", "/nonexistent/report.json"), "cannot read report"),
    ],
)
def test_usage_errors_are_one_line_exit_2(run_cli, args: tuple[str, ...], needle: str) -> None:
    res = run_cli(*args)
    assert res.code == 2, res
    assert needle in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_bad_yaml_config_exits_2_naming_file_and_line(run_cli, tmp_path: Path) -> None:
    (tmp_path / "apiaudit.yaml").write_text("http:\n  concurrency: [1\n")
    report = _a_report(tmp_path, "r.json")
    res = run_cli("report", str(report))  # ./apiaudit.yaml is picked up by default
    assert res.code == 2
    assert "apiaudit.yaml:3: invalid YAML" in res.stderr
    (tmp_path / "apiaudit.yaml").write_text("http:\n  concurrency: many\n")
    res = run_cli("report", str(report))
    assert res.code == 2 and "apiaudit.yaml:2: 'http.concurrency' must be a whole number" in res.stderr


def test_unknown_rule_in_config_exits_2(run_cli, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("rules:\n  no.such.rule: off\n")
    res = run_cli("report", str(_a_report(tmp_path, "r.json")), "--config", str(cfg))
    assert res.code == 2 and "c.yaml:2: unknown rule id 'no.such.rule'" in res.stderr


def test_gate_exit_codes_through_report_command(run_cli, tmp_path: Path) -> None:
    high = _a_report(tmp_path, "high.json", severity="high")
    res = run_cli("report", str(high), "--format", "json")
    assert res.code == 1, res
    data = json.loads(res.stdout)
    assert data["schema_version"] == 1 and data["stats"]["gate"]["passed"] is False
    assert run_cli("report", str(high), "--fail-on", "critical", "--format", "json").code == 0
    assert run_cli("report", str(high), "--fail-on", "none", "--min-score", "1", "--format", "json").code == 1
    assert run_cli("report", str(high), "--fail-on", "none", "--min-score", "0", "--format", "json").code == 0


def test_baseline_only_fails_on_new_fingerprints(run_cli, tmp_path: Path) -> None:
    old = _a_report(tmp_path, "old.json", url="http://127.0.0.1:1/a")
    baseline = tmp_path / "baseline.json"
    assert run_cli("report", str(old), "--write-baseline", str(baseline), "--format", "json").code == 1
    assert json.loads(baseline.read_text())["fingerprints"]
    same = run_cli("report", str(old), "--baseline", str(baseline), "--format", "json")
    assert same.code == 0, same
    assert json.loads(same.stdout)["findings"][0]["known"] is True
    new = _a_report(tmp_path, "new.json", url="http://127.0.0.1:1/b")
    assert run_cli("report", str(new), "--baseline", str(baseline), "--format", "json").code == 1
    # a full report works as a baseline too
    assert run_cli("report", str(old), "--baseline", str(old), "--format", "json").code == 0


def test_merge_two_reports_into_a_combined_one(run_cli, tmp_path: Path) -> None:
    a = _a_report(tmp_path, "a.json", url="http://127.0.0.1:1/a")
    b = _a_report(tmp_path, "b.json", url="http://127.0.0.1:1/b")
    out = tmp_path / "out"
    res = run_cli("report", str(a), str(b), "--format", "json", "--format", "table", "--output-dir", str(out))
    assert res.code == 1
    merged = Report.from_dict(json.loads((out / "report.json").read_text()))
    assert merged.kind == "combined" and len(merged.findings) == 2
    assert "Checklist" in (out / "report.txt").read_text()


def test_table_output_and_quiet(run_cli, tmp_path: Path) -> None:
    a = _a_report(tmp_path, "a.json")
    res = run_cli("report", str(a), "--format", "table")
    assert "api.pagination" in res.stdout and "FAIL" in res.stdout and "fix:" in res.stdout
    quiet = run_cli("report", str(a), "--quiet")
    # -q: no report, but a failed gate still says why in one line (a CI log must show it)
    assert quiet.code == 1 and quiet.stdout == ""
    assert quiet.stderr.splitlines() == [line for line in quiet.stderr.splitlines() if "gate FAILED" in line]
    assert len(quiet.stderr.splitlines()) == 1


def test_not_a_report_file_is_a_usage_error(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    res = run_cli("report", str(bad))
    assert res.code == 2 and "not an apiaudit JSON report" in res.stderr


def test_ctrl_c_exits_130_with_a_short_message(tmp_path: Path) -> None:
    """SIGINT while the CLI is busy (reading a report from a FIFO that never gets data)."""
    fifo = tmp_path / "never.json"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*apiaudit_cmd(), "report", str(fifo)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err


def test_help_does_not_import_heavy_modules() -> None:
    """Startup stays fast: typer only; httpx, psycopg, sqlglot, jinja2 load when a command needs them."""
    code = (
        "import sys; from apiaudit.cli import run; run(['--help']);"
        "heavy = [m for m in ('httpx', 'psycopg', 'sqlglot', 'jinja2', 'httplint', 'redis') if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-500:]

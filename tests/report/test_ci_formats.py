"""The gate's verdict reaches every CI-facing format, and the formats CI systems read are right.

Derived from the formats' own documentation: GitHub workflow commands (actions/toolkit command
escaping), GitLab Code Quality (required keys), JUnit (a passed gate shows no failing test).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from apiaudit.gate import decide, record
from apiaudit.model import Report, Severity
from apiaudit.report import RenderOptions, render
from apiaudit.rules import RuleSet


def gated(report: Report, fail_on: Severity | None) -> Report:
    record(report, decide(report, fail_on=fail_on, min_score=None))
    return report


def junit_failures(report: Report, ruleset: RuleSet) -> int:
    root = ET.fromstring(render("junit", report, RenderOptions(extra={"ruleset": ruleset})))
    return int(root.get("failures", "0"))


def test_junit_mirrors_the_gate(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    assert any(c.status == "fail" for c in report.checklist)
    assert junit_failures(gated(report, None), ruleset) == 0  # --fail-on none: the gate passed
    assert junit_failures(gated(report, Severity.CRITICAL), ruleset) == len(
        {f.checklist for f in report.findings if f.severity >= Severity.CRITICAL}
    )
    for f in report.findings:  # everything known from the baseline: nothing new fails
        f.known = True
    assert junit_failures(gated(report, Severity.INFO), ruleset) == 0


def test_github_workflow_commands_escape_and_mirror_the_gate(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = gated(reports["hostile"], Severity.HIGH)
    report.findings[0].message = "50% done\r\n::error::forged"
    out = render("github", report, RenderOptions(extra={"ruleset": ruleset}))
    lines = out.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    assert "50%25 done%0D%0A::error::forged" in out  # CR/LF cannot start a second command
    failing = set(report.stats["gate"]["failing"])
    for f, line in zip(report.findings, lines, strict=False):
        assert line.startswith("::error ") == (f.id in failing)
        assert f"title={f.rule} (" in line


def test_gitlab_code_quality_has_the_required_keys(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    issues = json.loads(render("gitlab", report, RenderOptions(extra={"ruleset": ruleset})))
    assert len(issues) == len(report.findings)
    for issue, f in zip(issues, report.findings, strict=True):
        assert issue["check_name"] == f.rule and issue["fingerprint"] == f.fingerprint
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"] and issue["location"]["lines"]["begin"] >= 1
        assert issue["description"]


def test_compact_is_one_line_per_finding(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = gated(reports["hostile"], Severity.HIGH)
    lines = render("compact", report, RenderOptions(extra={"ruleset": ruleset})).splitlines()
    assert len(lines) == len(report.findings) + len(report.errors) + 1
    assert lines[-1].startswith(f"{len(report.findings)} finding(s)") and "gate FAILED" in lines[-1]


def test_output_extension_chooses_the_format(run_cli: Any, tmp_path: Path, write_json: Any,
                                             reports: dict[str, Report]) -> None:
    src = write_json(reports["combined"], "in.json")
    for name, check in (
        ("out.sarif", lambda t: json.loads(t)["version"] == "2.1.0"),
        ("out.html", lambda t: t.lstrip().lower().startswith("<!doctype html")),
        ("out.xml", lambda t: t.startswith("<?xml") and "<testsuites" in t),
        ("out.md", lambda t: t.startswith("## apiaudit")),
        ("gl-code-quality-report.json", lambda t: isinstance(json.loads(t), list)),
        ("out.json", lambda t: json.loads(t)["schema_version"] == 1),
    ):
        res = run_cli("report", str(src), "-o", str(tmp_path / name), "--fail-on", "none")
        assert res.code == 0, res
        assert check((tmp_path / name).read_text()), name


def test_exit_zero_and_quiet_still_print_the_failed_gate(run_cli: Any, write_json: Any,
                                                         reports: dict[str, Report]) -> None:
    src = write_json(reports["combined"], "in.json")
    res = run_cli("report", str(src), "-q", "--format", "json")
    assert res.code == 1 and res.stdout == "" and "gate FAILED" in res.stderr
    res = run_cli("report", str(src), "--exit-zero", "--format", "json")
    assert res.code == 0 and "gate FAILED" in res.stderr and "--exit-zero" in res.stderr
    assert json.loads(res.stdout)["stats"]["gate"]["exit_zero"] is True
    assert run_cli("report", str(src), "--color", "sometimes").code == 2


def test_compare_shows_score_delta_and_new_and_fixed(run_cli: Any, tmp_path: Path, write_json: Any,
                                                     reports: dict[str, Report]) -> None:
    now = reports["combined"]
    base_doc = json.loads(write_json(now, "now.json").read_text())
    gone = {**base_doc["findings"][0], "fingerprint": "gone0000000000000000", "rule": "db.fk.unindexed"}
    base_doc["findings"] = [*base_doc["findings"][2:], gone]
    base_doc["score"]["overall"] = 10
    base = tmp_path / "base.json"
    base.write_text(json.dumps(base_doc))
    res = run_cli("report", str(tmp_path / "now.json"), "--compare", str(base), "--format", "markdown",
                  "--fail-on", "none")
    assert res.code == 0, res
    # `apiaudit report` re-resolves the rules, so the score is the one this run printed
    overall = int(re.search(r"report: (\d+)/100", res.stdout).group(1))  # type: ignore[union-attr]
    assert f"2 new, 1 fixed · score 10 → {overall} ({overall - 10:+d})" in res.stdout
    assert res.stdout.count("- 🆕 ") == 2 and res.stdout.count("- ✅ fixed") == 1


def test_markdown_mentions_and_links_from_the_target_are_inert(reports: dict[str, Report],
                                                                ruleset: RuleSet) -> None:
    from apiaudit.report.markdown import md

    text = md("ping @octocat and @org/team, see #123 and https://evil.example/x or www.evil.example")
    assert "@octocat" not in text and "@org" not in text and "#123" not in text
    assert "https://" not in text and "www." not in text
    assert text.replace("\u2060", "").startswith("ping @octocat")
    report = reports["hostile"]
    report.findings[0].message = "hello @admin https://attacker.example"
    out = render("markdown", report, RenderOptions(extra={"ruleset": ruleset}))
    assert "@admin" not in out and "https://attacker.example" not in out


def test_checklist_ids_are_never_truncated(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "60"}
    out = subprocess.run([sys.executable, "-m", "apiaudit", "checklist"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert "database.connection_pooling" in out and "monitoring.resource_usage" in out
    assert "\x1b[" not in out  # piped: no colour
    out = subprocess.run([sys.executable, "-m", "apiaudit", "rules"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert "http.validation.no-validator" in out and "caching.application_cache" in out


def test_terminal_shows_the_whole_fix_and_evidence_only_when_verbose(reports: dict[str, Report],
                                                                      ruleset: RuleSet) -> None:
    report = reports["combined"]
    f = report.findings[0]
    f.fix = "Add the index:\n\n```sql\nCREATE INDEX CONCURRENTLY ON orders (customer_id);\nANALYZE orders;\n```"
    f.evidence = {"rows": 123456}
    short = render("table", report, RenderOptions(color=False, width=100, extra={"ruleset": ruleset}))
    long = render("table", report, RenderOptions(color=False, width=100, verbose=True, extra={"ruleset": ruleset}))
    for text in (short, long):  # the code of the fix, every line of it, not just "Add the index:"
        assert "CREATE INDEX CONCURRENTLY ON orders (customer_id);" in text and "ANALYZE orders;" in text
    assert "123456" not in short and "123456" in long
    assert short.index("Fix these first") < short.index("Checklist")
    assert "\x1b[" not in short


def test_sarif_stays_within_code_scanning_limits(reports: dict[str, Report], ruleset: RuleSet) -> None:
    import copy

    report = copy.deepcopy(reports["scan"])
    base = next(f for f in report.findings if f.severity.label != "info")
    report.findings = []
    for i in range(6000):  # GitHub keeps 25,000 results per run and shows 5,000
        f = copy.deepcopy(base)
        f.id, f.fingerprint = f"f{i + 1}", f"{i:020d}"
        report.findings.append(f)
    run = json.loads(render("sarif", report, RenderOptions(extra={"ruleset": ruleset})))["runs"][0]
    assert len(run["results"]) == 5000


def test_chart_labels_stay_distinct() -> None:
    from apiaudit.report.charts import distinct_labels

    sql = ["SELECT id, name, email, city FROM customers WHERE id = $1",
           "SELECT id, name, email, city FROM customers WHERE email = $1",
           "SELECT id, name, email, city FROM customers WHERE city = $1"]
    short = distinct_labels(sql)
    assert len(set(short)) == 3 and all(len(s) <= 44 for s in short)
    assert distinct_labels(["GET /a", "GET /b"]) == ["GET /a", "GET /b"]


def test_skipped_work_is_printed_in_every_human_format(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["scan"]
    report.skipped = [{"where": "http://127.0.0.1:8000/api/users", "what": "pagination probe",
                       "reason": "request budget (--max-requests) spent"}]
    opts = RenderOptions(color=False, extra={"ruleset": ruleset})
    for fmt in ("table", "markdown", "html"):
        out = render(fmt, report, opts)
        assert "pagination probe" in out and "request budget" in out, fmt
    assert json.loads(render("json", report, opts))["skipped"] == report.skipped

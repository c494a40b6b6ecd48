"""Golden-structure tests: parse each format and assert what it must say (not byte snapshots)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import pytest
from conftest import need

from apiaudit.model import Report
from apiaudit.report import FORMATS, RenderOptions, render
from apiaudit.rules import RuleSet

DATA = Path(__file__).resolve().parent / "data"
SCHEMA = Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "schema.json"


def opts(ruleset: RuleSet) -> RenderOptions:
    return RenderOptions(color=False, extra={"ruleset": ruleset})


class Page(HTMLParser):
    """Collects tags (with attributes), ids and visible text of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def joined(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse_html(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def test_registry_lists_every_format() -> None:
    assert {"table", "json", "html", "sarif", "junit", "markdown"} <= set(FORMATS)


@pytest.mark.parametrize("name", ["scan", "db", "combined", "hostile"])
def test_json_report_matches_published_schema(
    reports: dict[str, Report], ruleset: RuleSet, name: str
) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(render("json", reports[name], opts(ruleset)))
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_schema_rejects_a_broken_report(reports: dict[str, Report], ruleset: RuleSet) -> None:
    doc = json.loads(render("json", reports["scan"], opts(ruleset)))
    doc["findings"][0]["severity"] = "severe"
    doc["checklist"][0]["status"] = "maybe"
    errors = list(jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).iter_errors(doc))
    assert len(errors) == 2


def test_html_has_score_checklist_findings_and_charts(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    report.findings[0].known = True
    page = parse_html(render("html", report, opts(ruleset)))
    text = page.joined()
    assert f"score {report.score['overall']}" in text or str(report.score["overall"]) in text
    assert f"grade {report.score['grade']}" in text
    ids = page.ids()
    # every one of the 21 checklist items, with its status, and not_assessed reasons shown
    assert {f"check-{c.id}" for c in report.checklist} <= ids
    assert len(report.checklist) == 21
    for c in report.checklist:
        if c.status == "not_assessed":
            assert c.reason and c.reason in text
    # findings grouped by item, each with its id, rule docs pointer and fingerprint
    for f in report.findings:
        assert f.id in ids and f"apiaudit rules {f.rule}" in text and f.fingerprint in text
    # items with findings to act on get a section; info-only items are in the collapsed info list
    assert {f"item-{f.checklist}" for f in report.findings if f.severity.label != "info"} <= ids
    assert "known" in text
    # fix blocks: the SQL of the FK rule is a code block
    codes = [t for t, _ in page.tags if t == "pre"]
    assert codes and "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);" in text
    # the four charts
    assert {"chart-latency", "chart-sizes", "chart-top-queries", "chart-nplusone"} <= ids
    assert "warn 500 ms" in text and "crit 1000 ms" in text


def test_html_is_self_contained(reports: dict[str, Report], ruleset: RuleSet) -> None:
    html = render("html", reports["combined"], opts(ruleset))
    page = parse_html(html)
    tags = {t for t, _ in page.tags}
    assert "script" not in tags and "link" not in tags and "iframe" not in tags
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            assert not name.startswith("on")
            assert name != "style", f"inline style attribute on <{tag}> would be blocked by the CSP"
            if name in ("src", "href") and value and not value.startswith("#"):
                assert tag == "a" and value.startswith("http"), (tag, name, value)
    csp = [
        a["content"] for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0] or "") and "style-src 'sha256-" in (csp[0] or "")


def test_html_tolerates_empty_report(ruleset: RuleSet) -> None:
    empty = Report(kind="scan", targets=[], started_at="", duration_s=0, score={}, checklist=[], findings=[])
    text = parse_html(render("html", empty, opts(ruleset))).joined()
    assert "No findings." in text and "n/a" in text


def test_sarif_valid_and_complete(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    log = json.loads(render("sarif", report, opts(ruleset)))
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(ruleset.rules)
    fk = next(r for r in rules if r["id"] == "db.fk.unindexed")
    assert fk["defaultConfiguration"]["level"] == "error"
    assert fk["shortDescription"]["text"] == "Foreign key without an index"
    assert "Why:" in fk["help"]["text"] and "CREATE INDEX CONCURRENTLY" in fk["help"]["text"]
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
    actionable = [f for f in report.findings if f.severity.label != "info"]
    assert len(actionable) < len(report.findings)  # the fixture has info findings: they are left out
    assert len(run["results"]) == len(actionable)
    for res, f in zip(run["results"], actionable, strict=True):
        assert res["ruleId"] == f.rule and rules[res["ruleIndex"]]["id"] == f.rule
        assert res["level"] == levels[f.severity.label]
        assert res["partialFingerprints"] == {"apiauditFingerprint/v1": f.fingerprint}
        loc = res["locations"][0]
        artifact = loc["physicalLocation"]["artifactLocation"]
        # code scanning needs a relative artifact URI; its uriBaseId resolves it to the real place
        assert "://" not in artifact["uri"] and artifact["uri"]
        base = run["originalUriBaseIds"][artifact["uriBaseId"]]["uri"]
        if "url" in f.location:
            assert urljoin(base, artifact["uri"]) == f.location.get("url", "")
        else:
            assert loc["logicalLocations"][0]["fullyQualifiedName"]
            assert base.startswith("postgresql://app@127.0.0.1:5432/shop")


def test_sarif_locations_of_hostile_urls_are_plain_uri_references(
    reports: dict[str, Report], ruleset: RuleSet
) -> None:
    run = json.loads(render("sarif", reports["hostile"], opts(ruleset)))["runs"][0]
    for res in run["results"]:
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not set(uri) & set('<>"{}|^` ' + chr(92))


def test_sarif_baseline_state_when_known(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["scan"]
    report.findings[0].known = True
    results = json.loads(render("sarif", report, opts(ruleset)))["runs"][0]["results"]
    assert [r["baselineState"] for r in results] == ["unchanged"] + ["new"] * (len(results) - 1)


def junit_tree(report: Report, ruleset: RuleSet) -> ET.Element:
    try:
        import xmlschema
    except ImportError:
        need(False, "xmlschema (test dependency)")
    text = render("junit", report, opts(ruleset))
    xmlschema.XMLSchema(str(DATA / "junit-10.xsd")).validate(text)
    return ET.fromstring(text)


@pytest.mark.parametrize("name", ["combined", "hostile"])
def test_junit_valid_and_structured(reports: dict[str, Report], ruleset: RuleSet, name: str) -> None:
    report = reports[name]
    root = junit_tree(report, ruleset)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert {
        "apiaudit.database",
        "apiaudit.caching",
        "apiaudit.api_design",
        "apiaudit.scaling",
        "apiaudit.monitoring",
    } <= set(suites)
    cases = {c.get("name", "").split(":")[0]: c for c in root.iter("testcase")}
    for item in report.checklist:
        case = cases[item.id]
        if item.status == "fail":
            failure = case.find("failure")
            assert failure is not None
            for fid in item.findings:
                f = next(x for x in report.findings if x.id == fid)
                assert f.rule in (failure.text or "") and f.fingerprint in (failure.text or "")
        elif item.status == "not_assessed":
            skipped = case.find("skipped")
            assert skipped is not None and skipped.get("message") == item.reason
        else:
            assert case.find("failure") is None
    fails = sum(1 for c in report.checklist if c.status == "fail")
    assert int(root.get("failures", "0")) == fails
    assert int(root.get("errors", "0")) == len(report.errors)


def test_markdown_summary(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    report.stats["gate"] = {"passed": False, "reasons": ["3 finding(s) at or above high (worst: critical)"]}
    md = render("markdown", report, opts(ruleset))
    lines = md.splitlines()
    first = lines[0]
    assert first.startswith("## apiaudit combined report") and f"{report.score['overall']}/100" in first
    assert "**CI gate: failed**" in md
    assert len(lines) <= 60
    # "fix these first": the five worst findings, worst first, before everything collapsed
    top = md.index("### Fix these first")
    assert top < md.index("<details>")
    table = [line for line in lines if line.startswith("| ") and "`" in line and "Severity" not in line]
    worst = sorted(report.findings, key=lambda f: -f.severity)[0]
    assert table and f"`{worst.rule}`" in table[0] and all(line.count(" | ") == 3 for line in table)
    assert len(table) == min(5, sum(1 for f in report.findings if f.severity.label != "info"))
    assert md.count("<details>") == md.count("</details>") >= 2
    # the collapsed list holds every finding, or as many as the 60 lines allow and says how many more
    listed = md.split("<summary>All findings", 1)[1].split("</details>", 1)[0]
    rows = [line for line in listed.splitlines() if line.startswith("- ") and not line.startswith("- … ")]
    more = re.search(r"- … (\d+) more", listed)
    assert len(rows) + (int(more.group(1)) if more else 0) == len(report.findings)
    assert rows[0].count(f"`{report.findings[0].rule}`") == 1
    assert len(md) < 65_536


def test_markdown_truncates_huge_reports(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["scan"]
    report.findings[0].evidence = {"body": "x" * 5000}
    report.findings[0].message = "y" * 80_000
    md = render("markdown", report, opts(ruleset))
    assert len(md) < 65_536


def test_every_format_renders_every_fixture(reports: dict[str, Report], ruleset: RuleSet) -> None:
    for report in reports.values():
        for fmt in FORMATS:
            out: Any = render(fmt, report, opts(ruleset))
            assert isinstance(out, str) and out.strip()


def test_templates_and_schema_ship_inside_the_package() -> None:
    """PackageLoader reads templates from the package, so a wheel must carry them (hatch includes
    every file under apiaudit/); checked through importlib.resources like an installed wheel."""
    from importlib.resources import files

    base = files("apiaudit.report")
    for name in ("templates/report.html.j2", "templates/report.css", "schema.json", "measurements.md"):
        assert base.joinpath(name).is_file(), name


def test_markdown_escaping_helpers() -> None:
    from apiaudit.report.markdown import cell, code_span, fence, md

    assert md("customer_id in *bold* [x](y) <b>") == r"customer_id in \*bold\* \[x\](y) &lt;b&gt;"
    assert md("# not a heading") == r"\# not a heading" and md("1. not a list") == r"1\. not a list"
    assert cell(md("a | b")) == r"a \| b"  # one escape: the table keeps its columns
    assert code_span("a `b` c") == "`` a `b` c ``"
    assert fence("x\n```\ny").startswith("````\n")


def test_baseline_counts_in_html_and_markdown(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    report.findings[0].known = True
    report.stats["baseline"] = {"file": "base.json", "fixed": 2}
    n = len(report.findings)
    text = parse_html(render("html", report, opts(ruleset))).joined()
    assert f"1 known · {n - 1} new · 2 fixed" in text
    md = render("markdown", report, opts(ruleset))
    assert f"Against the baseline: {n - 1} new, 1 known, 2 fixed" in md
    report.stats.pop("baseline")
    report.findings[0].known = False
    assert "Against the baseline" not in render("markdown", report, opts(ruleset))

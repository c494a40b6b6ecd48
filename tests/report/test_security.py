"""Hostile target content is only ever escaped; secrets handed to the pipeline never reach any format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from conftest import need

from apiaudit.model import Report
from apiaudit.report import FORMATS, RenderOptions, render
from apiaudit.rules import RuleSet

XSS_SCRIPT = "<script>alert('xss')</script>"
XSS_IMG = '"><img src=x onerror=alert(1)>'
DSN_PASSWORD = "pw-Sup3rS3cret-41"
AUTH_TOKEN = "tok-4f9a8b7c6d5e4f3a2b1c"
COOKIE_VALUE = "sessval-93f0e1d2c3b4a5"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_everything_from_the_target(reports: dict[str, Report], ruleset: RuleSet) -> None:
    html = render("html", reports["hostile"], RenderOptions(extra={"ruleset": ruleset}))
    assert XSS_SCRIPT not in html and "<img" not in html and "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(" in html  # present, but only escaped
    parser = Tags()
    parser.feed(html)
    names = {t for t, _ in parser.tags}
    assert "script" not in names and "img" not in names
    assert not any(a.startswith("on") for _, attrs in parser.tags for a in attrs)
    # the browser-visible text shows the hostile strings literally (escaped, not dropped)
    text = "".join(parser.text)
    assert XSS_SCRIPT in text and XSS_IMG in text


def test_svg_charts_escape_labels(reports: dict[str, Report]) -> None:
    from apiaudit.report.charts import all_charts

    charts = all_charts(reports["hostile"].measurements)
    assert len(charts) == 4
    for chart in charts:
        assert "<script" not in chart.svg and "<img" not in chart.svg
        ET.fromstring(chart.svg)  # well-formed XML: nothing broke out of a text node or attribute


def test_markdown_neutralises_html(reports: dict[str, Report], ruleset: RuleSet) -> None:
    md = render("markdown", reports["hostile"], RenderOptions(extra={"ruleset": ruleset}))
    outside_code = _strip_code(md)
    assert "<script" not in outside_code and "<img" not in outside_code
    assert "&lt;script&gt;" in outside_code


def _strip_code(md: str) -> str:
    """Markdown minus fenced blocks and code spans (GitHub shows those literally)."""
    import re

    out, fence = [], None
    for line in md.splitlines():
        m = re.match(r"^(`{3,})", line)
        if m and (fence is None or m.group(1) == fence):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            out.append(re.sub(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", line))
    return "\n".join(out)


def test_xml_and_json_formats_stay_parseable(reports: dict[str, Report], ruleset: RuleSet) -> None:
    opts = RenderOptions(extra={"ruleset": ruleset})
    junit = render("junit", reports["hostile"], opts)
    root = ET.fromstring(junit)  # NUL and ESC from the body were replaced, "]]>" is harmless text
    assert any(XSS_SCRIPT in (e.text or "") for e in root.iter("failure"))
    json.loads(render("sarif", reports["hostile"], opts))
    json.loads(render("json", reports["hostile"], opts))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_secrets_never_appear(secrets_report: Report, ruleset: RuleSet, fmt: str) -> None:
    out = render(fmt, secrets_report, RenderOptions(color=False, verbose=True, extra={"ruleset": ruleset}))
    for secret in (DSN_PASSWORD, AUTH_TOKEN, COOKIE_VALUE):
        assert secret not in out, f"{fmt} leaks a secret"
    need(bool(out.strip()), f"{fmt} output")


def test_secrets_fixture_really_carried_them(secrets_report: Report) -> None:
    """Guard against a vacuous pass: the inputs had the secrets; the report kept the evidence shape."""
    f = next(f for f in secrets_report.findings if "request_headers" in f.evidence)
    assert f.evidence["request_headers"]["Authorization"] == "***"
    assert "session=***" in f.evidence["request_headers"]["Cookie"]
    assert any("app:***@" in t for t in secrets_report.targets)

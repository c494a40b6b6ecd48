"""The HTML report in a real browser: headless Chromium renders it (screenshot) and parses it (DOM)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import need
from report_browser import chromium_run

from apiaudit.model import Report
from apiaudit.report import RenderOptions, render
from apiaudit.rules import RuleSet

WARN_AMBER = (0x93, 0x5D, 0x0A)  # --warn in report.css; used by no SVG, so only painted if the CSS applied


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return chromium_run(tmp_path, *args)


def write_page(tmp_path: Path, report: Report, ruleset: RuleSet, name: str) -> Path:
    page = tmp_path / name
    page.write_text(render("html", report, RenderOptions(extra={"ruleset": ruleset})), encoding="utf-8")
    return page


def test_screenshot_is_rendered_with_styles(
    tmp_path: Path, reports: dict[str, Report], ruleset: RuleSet
) -> None:
    try:
        from PIL import Image
    except ImportError:
        need(False, "Pillow (test dependency)")
    page = write_page(tmp_path, reports["combined"], ruleset, "report.html")
    png = tmp_path / "shot.png"
    proc = run_chromium(tmp_path, f"--screenshot={png}", "--window-size=1280,2400", page.as_uri())
    assert png.is_file(), proc.stderr[-2000:]
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2400)
    colors = image.getcolors(maxcolors=1 << 24) or []
    total = image.size[0] * image.size[1]
    non_white = sum(n for n, rgb in colors if sum(rgb) < 720)
    assert non_white / total > 0.05, "page looks blank"
    assert len(colors) > 50, "page has almost no distinct colours"
    # The CSS (allowed by its hash in the page's own CSP) really applied: amber WARN badges are painted.
    amber = sum(n for n, rgb in colors if all(abs(a - b) <= 6 for a, b in zip(rgb, WARN_AMBER, strict=True)))
    assert amber > 300, "status badges are not styled: the inline stylesheet was blocked or not applied"


def test_dom_has_key_text_and_no_injected_elements(
    tmp_path: Path, reports: dict[str, Report], ruleset: RuleSet
) -> None:
    page = write_page(tmp_path, reports["hostile"], ruleset, "hostile.html")
    proc = run_chromium(tmp_path, "--dump-dom", page.as_uri())
    dom = proc.stdout
    assert "<h1>apiaudit scan report</h1>" in dom, proc.stderr[-2000:]
    assert "Checklist" in dom and "Pagination on all collections" in dom and "Findings" in dom
    # the browser built no element from target content
    assert "<script" not in dom and "<img" not in dom
    assert "&lt;script&gt;alert('xss')&lt;/script&gt;" in dom


@pytest.mark.parametrize("name", ["scan", "db"])
def test_single_side_reports_render(
    tmp_path: Path, reports: dict[str, Report], ruleset: RuleSet, name: str
) -> None:
    page = write_page(tmp_path, reports[name], ruleset, f"{name}.html")
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert f"apiaudit {name} report" in dom
    assert ("chart-latency" in dom) == (name == "scan")
    assert ("chart-top-queries" in dom) == (name == "db")

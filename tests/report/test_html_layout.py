"""The HTML report as people read it: phone width, print, dark mode, contrast, "fix these first".

Measured in headless Chromium: the report is loaded into a 390 px iframe of a harness page
(``--allow-file-access-from-files`` makes it same-origin) and the harness reads the document's
scroll width; print goes through Chromium's own PDF printer; WCAG 2.x contrast is computed from
the stylesheet's own colours.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from report_browser import chromium_run

from apiaudit.model import Report, Severity
from apiaudit.report import RenderOptions, render
from apiaudit.rules import RuleSet

CSS = Path(__file__).resolve().parents[2] / "apiaudit" / "report" / "templates" / "report.css"
HARNESS = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" width="{width}" height="900" style="border:0"></iframe>
<script>document.getElementById("f").onload = function () {{
  var d = this.contentDocument;
  document.body.setAttribute("data-scroll-width", d.documentElement.scrollWidth);
}};</script></body></html>"""


def big_report(report: Report, n: int = 60) -> Report:
    """A report the size users get (the demo's 60 findings), from the fixture's findings."""
    out = copy.deepcopy(report)
    base = list(out.findings)
    while len(out.findings) < n:
        f = copy.deepcopy(base[len(out.findings) % len(base)])
        f.id, f.fingerprint = f"f{len(out.findings) + 1}", f"{len(out.findings):020d}"
        out.findings.append(f)
    return out


def page(tmp_path: Path, report: Report, ruleset: RuleSet) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render("html", report, RenderOptions(extra={"ruleset": ruleset})), encoding="utf-8")
    return path


def scroll_width(tmp_path: Path, width: int) -> int:
    harness = tmp_path / "harness.html"
    harness.write_text(HARNESS.format(width=width))
    proc = chromium_run(tmp_path, "--allow-file-access-from-files", "--virtual-time-budget=3000",
                        "--window-size=800,900", "--dump-dom", harness.as_uri())
    m = re.search(r'data-scroll-width="(\d+)"', proc.stdout)
    assert m, proc.stderr[-2000:]
    return int(m.group(1))


def test_phone_width_has_no_horizontal_page_scroll(tmp_path: Path, reports: dict[str, Report],
                                                   ruleset: RuleSet) -> None:
    report = big_report(reports["hostile"])
    report.findings[0].message = "x" * 400  # one unbreakable word from the target
    page(tmp_path, report, ruleset)
    assert scroll_width(tmp_path, 390) <= 390
    assert scroll_width(tmp_path, 1440) <= 1440


def test_print_is_compact_and_keeps_badge_colours(tmp_path: Path, reports: dict[str, Report],
                                                  ruleset: RuleSet) -> None:
    path = page(tmp_path, big_report(reports["combined"]), ruleset)
    pdf = tmp_path / "report.pdf"
    chromium_run(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", path.as_uri())
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 1 <= pages <= 16, pages  # 60 findings; 41 pages before the print stylesheet
    css = CSS.read_text()
    assert re.search(r"@media print\s*{[^@]*print-color-adjust:\s*exact", css)


def test_dark_mode_paints_a_dark_page(tmp_path: Path, reports: dict[str, Report], ruleset: RuleSet) -> None:
    from PIL import Image

    path = page(tmp_path, reports["combined"], ruleset)
    shots = {}
    for mode, flags in (("light", ()), ("dark", ("--force-dark-mode",))):
        png = tmp_path / f"{mode}.png"
        chromium_run(tmp_path, *flags, f"--screenshot={png}", "--window-size=1440,900", path.as_uri())
        shots[mode] = Image.open(png).convert("RGB").getpixel((4, 4))
    assert sum(shots["light"]) > 700 and sum(shots["dark"]) < 150, shots


def _hex(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def contrast(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio of two sRGB colours."""
    def lum(c: str) -> float:
        lin = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in _hex(c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def without_media(css: str) -> str:
    """The stylesheet minus its @media blocks (braces matched)."""
    out, i = [], 0
    while (start := css.find("@media", i)) != -1:
        out.append(css[i:start])
        depth, j = 0, css.index("{", start)
        while True:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    return "".join(out) + css[i:]


def test_every_badge_meets_wcag_aa_in_light_and_dark() -> None:
    css = CSS.read_text()
    plain = without_media(css)
    light = dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", plain))
    dark_block = re.search(r"prefers-color-scheme:\s*dark\)\s*{\s*:root\s*{([^}]*)}", css)
    assert dark_block
    dark = {**light, **dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{3,6})", dark_block.group(1)))}
    rules = re.findall(r"\.(status|sev|gate|badge-known)([.\w-]*)\s*{([^}]*)}", plain)
    checked = 0
    for palette in (light, dark):
        def value(expr: str, palette: dict[str, str] = palette) -> str:
            m = re.match(r"var\((--[\w-]+)\)", expr.strip())
            return palette[m.group(1)] if m else expr.strip()

        base_fg = {kind: re.search(r"(?<!-)color:\s*([^;]+);", body) for kind, sub, body in rules if not sub}
        for kind, sub, body in rules:
            bg = re.search(r"background:\s*([^;]+);", body)
            if not bg:
                continue
            fg = re.search(r"(?<!-)color:\s*([^;]+);", body) or base_fg.get(kind)
            assert fg, f".{kind}{sub} has no text colour"
            ratio = contrast(value(bg.group(1)), value(fg.group(1)))
            assert ratio >= 4.5, f".{kind}{sub}: {ratio:.2f}:1"
            checked += 1
    assert checked >= 2 * 12  # status x4, sev x5, gate x2, known, in both palettes


def test_fix_first_opens_the_findings_and_info_is_collapsed(reports: dict[str, Report], ruleset: RuleSet) -> None:
    report = reports["combined"]
    html = render("html", report, RenderOptions(extra={"ruleset": ruleset}))
    top = html.index('id="fix-first"')
    assert top < html.index('id="checklist"') < html.index('id="findings"')
    worst = max(report.findings, key=lambda f: f.severity)
    assert f'href="#{worst.id}"' in html[top:html.index('id="checklist"')]
    infos = [f for f in report.findings if f.severity == Severity.INFO]
    assert infos, "the fixture has info findings"
    cards = html.count("<article ")
    assert cards == len(report.findings) - len(infos)
    assert '<details class="info">' in html

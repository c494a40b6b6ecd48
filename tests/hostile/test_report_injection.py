"""A target that plants markup in what it returns must not be able to inject into the reports:
HTML is escaped (DESIGN.md "Safety": HTML autoescape), JUnit stays well-formed XML, SARIF stays JSON,
and the terminal table carries no control characters the target chose.
"""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostile.measure import run_measured
from hostile.rawserver import RawServer, Request, respond

SCRIPT = "<script>alert('pwned')</script>"
PLANTED = [
    ("Cache-Control", f"max-age=60, {SCRIPT}"),
    ("ETag", f'"{SCRIPT}"'),
    ("Server", "]]></failure><script>alert(1)</script>"),
    ("Vary", "Accept-Encoding, <img src=x onerror=alert(2)>"),
    ("Link", '</api/evil?page=2&x=<svg/onload=alert(3)>>; rel="next"'),
    ("Content-Type", "application/json"),
    ("Set-Cookie", f"sid={SCRIPT}; Path=/"),
]


async def _evil(req: Request, w: asyncio.StreamWriter, srv: RawServer) -> bool:
    body = json.dumps({"items": [{"id": i, "name": SCRIPT + "\x1b[31m\x07"} for i in range(3)]}).encode()
    return await respond(w, srv, 200, PLANTED, body, head_only=req.method == "HEAD")


@pytest.fixture
def evil() -> Iterator[str]:
    server = RawServer(_evil)
    with server.running() as url:
        yield url


def test_planted_markup_is_escaped_in_every_format(tmp_path: Path, evil: str) -> None:
    out = tmp_path / "out"
    args = [
        "scan",
        f"{evil}/api/items",
        f"{evil}/api/<script>x</script>",
        "--samples",
        "1",
        "--output-dir",
        str(out),
    ]
    for fmt in ("json", "html", "sarif", "junit", "markdown", "table"):
        args += ["--format", fmt]
    run = run_measured(*args, cwd=tmp_path, timeout=90)
    assert run.code in (0, 1), run
    files = {p.name: p.read_text(errors="replace") for p in out.iterdir()}
    html = files["report.html"]
    for needle in ("<script>alert(", "<img src=x", "<svg/onload", "</failure><script>"):
        assert needle not in html, f"unescaped target markup {needle!r} in the HTML report"
    json.loads(files["report.json"])
    if "report.sarif" in files:
        json.loads(files["report.sarif"])
    if "report.junit.xml" in files:
        ET.fromstring(files["report.junit.xml"])  # raises on broken XML
    if "report.md" in files:
        # Markdown renderers pass raw HTML through; target text is safe only inside code spans/fences.
        prose = re.sub(r"```.*?```", "", files["report.md"], flags=re.S)
        prose = re.sub(r"`[^`\n]*`", "", prose)
        for needle in ("<script", "<img", "<svg"):
            assert needle not in prose, f"raw target markup {needle!r} outside code in the Markdown report"
    for name in ("report.txt", "report.md"):
        if name in files:
            assert "\x1b" not in files[name] and "\x07" not in files[name], f"control characters in {name}"
    assert "\x1b[31m" not in run.stdout and "\x07" not in run.stdout


def test_tampered_saved_report_cannot_inject(tmp_path: Path, evil: str) -> None:
    """`apiaudit report` re-renders a saved JSON report: text planted in it (a tampered CI artifact)
    is escaped like live target text."""
    saved = tmp_path / "scan.json"
    run = run_measured(
        "scan", f"{evil}/api/items", "--samples", "0", "--format", "json", "-o", str(saved), cwd=tmp_path, timeout=60
    )
    assert run.code in (0, 1), run
    data = json.loads(saved.read_text())
    for f in data["findings"]:
        f["message"] = f"{SCRIPT} \x1b[2J\x1b[31mfake all clear\x07"
        f["title"] = "<img src=x onerror=alert(7)>"
    data["errors"].append({"where": SCRIPT, "message": "\x1b]0;pwned\x07<svg/onload=alert(8)>"})
    saved.write_text(json.dumps(data))
    out = tmp_path / "out"
    args = ["report", str(saved), "--output-dir", str(out)]
    for fmt in ("html", "markdown", "table", "junit", "sarif", "json"):
        args += ["--format", fmt]
    merged = run_measured(*args, cwd=tmp_path, timeout=60)
    assert merged.code in (0, 1) and not merged.has_traceback() and not merged.internal_error(), merged
    files = {p.name: p.read_text(errors="replace") for p in out.iterdir()}
    for needle in ("<script>alert(", "<img src=x", "<svg/onload"):
        assert needle not in files["report.html"], needle
    ET.fromstring(files["report.junit.xml"])
    json.loads(files["report.sarif"])
    for name in ("report.txt", "report.md"):
        assert "\x1b" not in files[name] and "\x07" not in files[name], name
    assert "\x1b" not in merged.stdout + merged.stderr

"""k6 export: endpoints chosen, safe methods only, stages parsed, hostile URLs stay string literals."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from apiaudit.model import Report
from apiaudit.report.k6 import GUIDE_STAGES, K6Options, endpoints_of, parse_stages, script


def report_with(measurements: dict[str, object], urls: list[tuple[str, str]], targets: list[str]) -> Report:
    from apiaudit.model import ReportFinding, Severity

    findings = [
        ReportFinding(
            id=f"f{i}",
            rule="http.x.y",
            severity=Severity.LOW,
            checklist="api.pagination",
            title="t",
            message="m",
            location={"url": u, "method": m},
            evidence={},
            fix="",
            fingerprint=f"{i:020d}",
        )
        for i, (m, u) in enumerate(urls)
    ]
    return Report(
        kind="scan",
        targets=targets,
        started_at="",
        duration_s=0,
        score={},
        checklist=[],
        findings=findings,
        measurements=measurements,
    )


def test_probed_endpoints_win_over_probe_variants_in_findings() -> None:
    rep = report_with(
        {"endpoints": [{"url": "http://h/api/a"}, {"url": "http://h/api/b", "method": "head"}]},
        [("GET", "http://h/api/a?limit=1000")],
        ["http://h"],
    )
    assert endpoints_of(rep) == [("GET", "http://h/api/a"), ("HEAD", "http://h/api/b")]


def test_fallbacks_and_unsafe_methods() -> None:
    rep = report_with({}, [("GET", "http://h/x"), ("POST", "http://h/y"), ("GET", "http://h/x")], [])
    assert endpoints_of(rep) == [("GET", "http://h/x")]
    assert endpoints_of(report_with({}, [], ["http://h/", "postgresql://db/x"])) == [("GET", "http://h/")]


@pytest.mark.parametrize(
    ("text", "stages"),
    [
        ("2m:100,5m:100", (("2m", 100), ("5m", 100))),
        (" 30s:5 , 1h:0 ", (("30s", 5), ("1h", 0))),
    ],
)
def test_parse_stages(text: str, stages: tuple[tuple[str, int], ...]) -> None:
    assert parse_stages(text) == stages


@pytest.mark.parametrize("bad", ["", "2m", "2m:-1", "2x:10", "2m:10,", "m:10"])
def test_parse_stages_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_stages(bad)


def test_guide_defaults() -> None:
    js = script([("GET", "http://h/api")], K6Options())
    assert GUIDE_STAGES == (("2m", 100), ("5m", 100), ("2m", 200), ("5m", 200), ("2m", 0))
    assert 'http_req_duration: ["p(95)<500"]' in js and 'http_req_failed: ["rate<0.01"]' in js
    assert "sleep(1);" in js


def test_hostile_url_and_source_cannot_break_out(tmp_path: Path) -> None:
    url = 'http://h/api/x?q="];import("evil");//</script>\u2028'
    js = script([("GET", url)], K6Options(source="a.json\nimport('evil')"))
    statements = [line for line in js.splitlines() if line.startswith("import")]
    assert statements == ["import http from 'k6/http';", "import { check, sleep } from 'k6';"]
    assert '"http://h/api/x?q=\\"];import(\\"evil\\");//</script>\\u2028"' in js
    node = shutil.which("node")
    if node:
        path = tmp_path / "s.mjs"
        path.write_text(js)
        check = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stderr

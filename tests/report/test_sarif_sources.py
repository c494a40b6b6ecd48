"""SARIF, GitHub annotations and GitLab Code Quality point at the repository line that declares an
endpoint: its entry in apiaudit.yaml, or its path in the OpenAPI file given with --openapi FILE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from apiaudit.demo.sample_api import start_sample_api

DATA = Path(__file__).resolve().parent / "data"

CONFIG = """\
# a comment line, so the entries are not on lines 1-2
targets:
  api: {base}
endpoints:
  - path: /api/posts
  - path: /api/customers
"""

SPEC = {
    "openapi": "3.0.0",
    "info": {"title": "demo", "version": "1"},
    "paths": {"/api/posts": {"get": {"responses": {"200": {"description": "ok"}}}},
              "/api/customers": {"get": {"responses": {"200": {"description": "ok"}}}}},
}


def results_for(sarif: dict[str, Any], suffix: str) -> list[dict[str, Any]]:
    return [r for r in sarif["runs"][0]["results"]
            if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].endswith(suffix)]


def test_findings_point_at_apiaudit_yaml_and_the_openapi_file(run_cli: Any, tmp_path: Path) -> None:
    api = start_sample_api()
    try:
        (tmp_path / "apiaudit.yaml").write_text(CONFIG.format(base=api.url))
        res = run_cli("scan", "-c", "apiaudit.yaml", "--samples", "0", "-o", "out.sarif", "--fail-on", "none")
        assert res.code == 0, res
        alone = tmp_path / "spec-only"  # no apiaudit.yaml here: the OpenAPI file is the only source
        alone.mkdir()
        spec = alone / "openapi.json"
        spec.write_text(json.dumps(SPEC, indent=2))
        res2 = run_cli("scan", f"{api.url}/api/posts", "--openapi", "openapi.json", "--samples", "0",
                       "-o", "spec.sarif", "--fail-on", "none", cwd=alone)
        assert res2.code == 0, res2
        gh = run_cli("scan", "-c", "apiaudit.yaml", "--samples", "0", "--format", "github", "--fail-on", "none")
    finally:
        api.stop()
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.Draft4Validator(json.loads((DATA / "sarif-schema-2.1.0.json").read_text())).validate(sarif)
    customers = results_for(sarif, "/api/customers")
    assert customers, "the demo's /api/customers has findings"
    for r in customers:  # line 6 of apiaudit.yaml: "  - path: /api/customers"
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": "apiaudit.yaml", "uriBaseId": "%SRCROOT%"}
        assert physical["region"]["startLine"] == 6
    text = spec.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if '"/api/customers"' in t)
    from_spec = results_for(json.loads((alone / "spec.sarif").read_text()), "/api/customers")
    assert from_spec and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "openapi.json"
                             and r["locations"][0]["physicalLocation"]["region"]["startLine"] == line
                             for r in from_spec)
    assert "file=apiaudit.yaml,line=6" in gh.stdout

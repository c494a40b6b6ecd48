"""The GitHub Action and the README's CI section, run as written.

The action's two ``run`` steps are executed as written, with ``github.action_path`` = this repository:
the pip install builds apiaudit and installs its dependencies into a fresh venv (from the package
index, through pip's cache), then ``apiaudit ci`` audits the demo's sample API with the
``apiaudit.yaml`` the README shows.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from apiaudit.demo.sample_api import start_sample_api

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def ci_section() -> str:
    return README.split("## CI gate", 1)[1].split("\n## ", 1)[0]


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", ci_section(), re.S)


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def substitute(command: str, inputs: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        expr = m.group(1).strip()
        if expr == "github.action_path":
            return str(ROOT)
        name = expr.removeprefix("inputs.")
        return inputs[name]

    return re.sub(r"\$\{\{(.*?)\}\}", value, command)


def test_readme_workflow_uses_the_action_with_its_inputs() -> None:
    config, workflow = (yaml.safe_load(b) for b in yaml_blocks())
    assert "targets" in config and config["ci"]["output_dir"] == "apiaudit-report"
    steps = workflow["jobs"]["audit"]["steps"]
    ours = [s for s in steps if str(s.get("uses", "")).split("@")[0].endswith("/apiaudit")]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= set(action()["inputs"]), "the README passes an input the action lacks"
    sarif = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert sarif["with"]["sarif_file"] == f"{config['ci']['output_dir']}/report.sarif"
    assert "sample_configs/" not in ci_section()  # a user's repository has no such folder


@pytest.mark.slow
def test_action_steps_run_against_a_live_api(tmp_path: Path) -> None:
    spec = action()
    steps = spec["runs"]["steps"]
    assert spec["runs"]["using"] == "composite" and [s["shell"] for s in steps] == ["bash", "bash"]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    api = start_sample_api()
    try:
        config = yaml.safe_load(yaml_blocks()[0])
        config["targets"]["api"] = f"{api.url}/api/customers"
        work = tmp_path / "repo"
        work.mkdir()
        (work / "apiaudit.yaml").write_text(yaml.safe_dump(config))
        summary = tmp_path / "step-summary.md"
        env = {
            **os.environ,
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
            env.pop(name, None)
        inputs = {name: str(v.get("default", "")) for name, v in spec["inputs"].items()}
        codes = []
        for step in steps:
            proc = subprocess.run(["bash", "-c", substitute(step["run"], inputs)], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=600)
            codes.append(proc.returncode)
            if step is steps[0]:
                assert proc.returncode == 0, proc.stderr[-3000:]
        where = subprocess.run([str(venv / "bin" / "python"), "-c", "import apiaudit; print(apiaudit.__file__)"],
                               env=env, capture_output=True, text=True, cwd=work)
        assert str(venv) in where.stdout, "apiaudit must come from the action's own pip install"
    finally:
        api.stop()
    # the demo's /api/customers has HIGH pagination findings: the gate fails the step, with every report
    assert codes[1] == 1, proc.stderr[-3000:]
    out = work / "apiaudit-report"
    for name in ("report.json", "report.html", "report.sarif", "report.junit.xml", "report.md"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["stats"]["gate"]["passed"] is False
    assert any(f["rule"].startswith("http.pagination") for f in report["findings"])
    assert summary.read_text().startswith("## apiaudit scan report")
    assert "gate FAILED" in proc.stderr
    # the README's first command, in the same fresh install: the whole product, both halves
    demo = subprocess.run(["apiaudit", "demo", "--output-dir", str(tmp_path / "demo")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-3000:]
    shown = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert {f["rule"].split(".")[0] for f in shown["findings"]} >= {"http", "db"}

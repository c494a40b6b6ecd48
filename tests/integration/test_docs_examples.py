"""Every config example in README.md and docs/ loads, every `apiaudit ...` command they show uses
options that exist, and the ones that need no live target run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from apiaudit.config import SCHEMA, load_config

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = ("scan", "db", "cache", "report", "baseline", "k6", "demo", "rules", "checklist", "ci", "doctor", "init")
OFFLINE = ("rules", "checklist")  # need no server: run exactly as the docs show them


def code_blocks(lang: str) -> list[tuple[Path, str]]:
    return [(doc, block) for doc in DOCS for block in re.findall(rf"```{lang}\n(.*?)```", doc.read_text(), re.S)]


def config_examples() -> list[tuple[Path, str]]:
    out = []
    for doc, block in code_blocks("yaml"):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and set(data) <= set(SCHEMA) and "targets" in data:
            out.append((doc, block))
    return out


def command_lines() -> list[str]:
    text = "\n".join(block for lang in ("bash", "console", "sh", "yaml", "") for _, block in code_blocks(lang))
    text += "\n" + "\n".join(re.findall(r"`(apiaudit [^`]+)`", "\n".join(d.read_text() for d in DOCS)))
    text = re.sub(r"\\\n\s*", " ", text)
    lines = []
    for m in re.finditer(rf"(?:^|[\s$])(apiaudit (?:{'|'.join(COMMANDS)})\b[^\n#|>`]*)", text, re.M):
        lines.append(m.group(1).strip().rstrip(".,;:)"))
    return sorted(set(lines))


def test_there_are_examples_to_check() -> None:
    assert len(config_examples()) >= 2 and len(command_lines()) >= 20


@pytest.mark.parametrize(("doc", "block"), config_examples(), ids=lambda v: v.name if isinstance(v, Path) else "")
def test_config_examples_load(doc: Path, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "example-token")
    path = tmp_path / "apiaudit.yaml"
    path.write_text(block)
    cfg = load_config(str(path), explicit=True)
    assert cfg.targets, doc


def test_every_documented_option_exists(run_cli: Any) -> None:
    helps: dict[str, str] = {}
    missing = []
    for line in command_lines():
        words = shlex.split(line.replace("$", ""), posix=True) if line.count('"') % 2 == 0 else line.split()
        cmd = words[1]
        if cmd not in helps:
            res = run_cli(cmd, "--help", env={"COLUMNS": "240", "TERM": "dumb", "NO_COLOR": "1"})
            assert res.code == 0, res
            helps[cmd] = res.stdout
        for option in (w.split("=")[0] for w in words[2:] if re.match(r"--?[a-zA-Z]", w)):
            if option not in ("-h",) and not re.search(rf"(?<![\w-]){re.escape(option)}\b", helps[cmd]):
                missing.append(f"{line}: {option}")
    assert missing == []


def test_offline_examples_run_as_written(run_cli: Any) -> None:
    ran = 0
    for line in command_lines():
        words = line.split()
        placeholder = any(w.isupper() for w in words[2:])  # `apiaudit rules ID`
        if words[1] in OFFLINE and not placeholder and all(re.fullmatch(r"[\w.-]+", w) for w in words[2:]):
            res = run_cli(*words[1:])
            assert res.code == 0, (line, res)
            ran += 1
    assert ran >= 2


def test_a_command_line_url_is_not_merged_with_the_config(run_cli: Any, asgi_server: Any, tmp_path: Path) -> None:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/api/here")
    def here() -> dict[str, int]:
        return {"id": 1}

    config = tmp_path / "apiaudit.yaml"
    config.write_text("targets:\n  api: http://127.0.0.1:9/elsewhere\nendpoints:\n  - path: /api/other\n")
    with asgi_server(app) as base:
        res = run_cli("scan", f"{base}/api/here", "-c", str(config), "--format", "json", "--fail-on", "none",
                      "--samples", "0")
    assert res.code == 0, res
    import json

    report = json.loads(res.stdout)
    assert report["targets"] == [base]
    assert "not scanned" in res.stderr

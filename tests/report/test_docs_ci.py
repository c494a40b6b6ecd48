"""docs/ci.md stays true: its YAML parses and every apiaudit option it uses exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
COMMANDS = ("scan", "db", "report", "baseline", "k6")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(), re.S)


def invocations() -> dict[str, set[str]]:
    """Options used per apiaudit command across the doc's code blocks (continuations joined)."""
    spans = re.findall(r"`(apiaudit [^`]+)`", DOC.read_text())
    text = "\n".join(blocks("yaml") + blocks("sh") + spans)
    text = re.sub(r"\\\n\s*", " ", text)  # shell line continuations
    text = re.sub(r"\n\s{6,}(?=--)", " ", text)  # YAML plain-scalar continuation lines
    used: dict[str, set[str]] = {}
    for cmd, rest in re.findall(rf"\bapiaudit ({'|'.join(COMMANDS)})\b([^\n]*)", text):
        used.setdefault(cmd, set()).update(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])\b", rest))
    return used


def test_yaml_examples_parse() -> None:
    docs = [yaml.safe_load(b) for b in blocks("yaml")]
    assert len(docs) == 2
    github, gitlab = docs
    steps = github["jobs"]["audit"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    assert gitlab["apiaudit"]["artifacts"]["reports"]["junit"] == "audit/report.junit.xml"


def test_doc_uses_every_command_it_describes() -> None:
    assert set(invocations()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_options_in_the_doc_exist(run_cli: Any, command: str) -> None:
    res = run_cli(command, "--help", env={"COLUMNS": "240", "TERM": "dumb", "NO_COLOR": "1"})
    assert res.code == 0, res
    for option in sorted(invocations()[command]):
        if option in ("-h",):
            continue
        assert re.search(rf"(?<![\w-]){re.escape(option)}\b", res.stdout), f"apiaudit {command} {option}"

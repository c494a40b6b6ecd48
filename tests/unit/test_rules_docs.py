"""docs/rules.md is generated from rules/*.yaml and must not drift (sqlfluff-style generated docs)."""

from __future__ import annotations

from pathlib import Path

from apiaudit.commands.rules import reference
from apiaudit.rules import load_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_generated_rules_reference_is_up_to_date() -> None:
    expected = reference(load_rules())
    assert DOC.read_text() == expected, "regenerate: apiaudit rules --format markdown > docs/rules.md"


def test_reference_lists_every_rule_and_item() -> None:
    text = DOC.read_text()
    rules = load_rules()
    for rule_id in rules.rules:
        assert f"### {rule_id}" in text
    for item in rules.checklist:
        assert f"## {item} — " in text

"""Meta-tests on the rules themselves (as httplint lints its notes): every YAML rule is raised by a
registered check, every id a check declares exists in YAML, and every rule is complete."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from apiaudit.checks import CHECK_PACKAGES, load_checks
from apiaudit.rules import load_rules, rules_dir

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "rules" / "rules.schema.json").read_text())


def _declared() -> dict[str, str]:
    declared: dict[str, str] = {}
    for kind in CHECK_PACKAGES:
        for spec in load_checks(kind):
            for rid in spec.rules:
                declared[rid] = spec.name
    return declared


def test_every_yaml_rule_has_a_check() -> None:
    declared = _declared()
    orphans = [r.id for r in load_rules().rules.values() if r.id not in declared]
    assert orphans == [], f"rules in YAML that no check raises: {orphans}"


def test_every_declared_rule_exists_in_yaml() -> None:
    rules = load_rules().rules
    missing = {rid: where for rid, where in _declared().items() if rid not in rules}
    assert missing == {}, f"checks declare rule ids missing from rules/*.yaml: {missing}"


def test_rule_files_match_the_json_schema() -> None:
    for path in sorted(rules_dir().glob("*.yaml")):
        if path.name == "checklist.yaml":
            continue
        jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_rule_ids_live_in_a_known_family() -> None:
    for rule in load_rules().rules.values():
        assert rule.id.split(".")[0] in {"http", "db", "cache", "monitor"}, rule.id
        assert rule.why and rule.fix and rule.summary, rule.id

"""Rules loading: the shipped rules validate, and malformed rule files fail with file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from apiaudit.errors import ConfigError
from apiaudit.model import Severity
from apiaudit.rules import load_rules, rules_dir
from apiaudit.yamlfile import load_text

CHECKLIST_IDS = {
    "database.indexes", "database.n_plus_one", "database.connection_pooling", "database.query_plans",
    "database.transactions", "caching.http_headers", "caching.application_cache", "caching.invalidation",
    "caching.hit_rate", "api.pagination", "api.field_selection", "api.compression", "api.response_size",
    "scaling.stateless", "scaling.rate_limiting", "scaling.cdn", "scaling.read_replicas", "monitoring.latency",
    "monitoring.error_rates", "monitoring.resource_usage", "monitoring.alerts",
}


def test_checklist_has_the_21_guide_items_in_order() -> None:
    rules = load_rules()
    assert set(rules.checklist) == CHECKLIST_IDS
    assert next(iter(rules.checklist)) == "database.indexes"
    assert list(rules.checklist)[-1] == "monitoring.alerts"


def test_guide_thresholds_have_the_guide_defaults() -> None:
    t = load_rules().thresholds
    assert (t["max_page_size"].default, t["p95_warn_ms"].default, t["p95_critical_ms"].default) == (100, 500, 1000)
    assert (t["error_rate_warn_pct"].default, t["error_rate_critical_pct"].default) == (1, 5)
    assert (t["cache_hit_rate_warn_pct"].default, t["cache_hit_rate_critical_pct"].default) == (80, 50)
    assert t["small_table_rows"].default == 1000


def _rules_copy(tmp_path: Path, extra: str, name: str = "zz_test.yaml") -> Path:
    target = tmp_path / "rules"
    shutil.copytree(rules_dir(), target)
    (target / name).write_text(extra)
    return target


GOOD_RULE = """\
rules:
  - id: test.family.ok
    title: A rule
    checklist: api.pagination
    severity: high
    summary: s
    message: "{url} returned {items} items"
    why: w
    fix: f
"""


def test_a_valid_extra_rule_loads(tmp_path: Path) -> None:
    rules = load_rules(_rules_copy(tmp_path, GOOD_RULE))
    rule = rules.rule("test.family.ok")
    assert rule.severity is Severity.HIGH
    assert rule.render_message({"url": "http://x/a", "items": 5000}) == "http://x/a returned 5000 items"
    assert rule.render_message({"url": "http://x/a"}) == "http://x/a returned {items} items"


@pytest.mark.parametrize(
    ("mutation", "expected", "line"),
    [
        (("severity: high", "severity: urgent"), "unknown severity 'urgent'", 5),
        (("checklist: api.pagination", "checklist: api.nope"), "unknown checklist item 'api.nope'", 4),
        (("    why: w\n", "    why: w\n    colour: red\n"), "unknown key 'colour'", 9),
        (("id: test.family.ok", "id: Bad Id"), "must be dotted", 2),
        (("    fix: f\n", ""), "missing key 'fix'", 2),
        (('message: "{url} returned {items} items"', 'message: "{} items"'), "positional fields", 7),
    ],
)
def test_bad_rule_files_name_file_and_line(tmp_path: Path, mutation: tuple[str, str], expected: str, line: int) -> None:
    text = GOOD_RULE.replace(*mutation)
    assert text != GOOD_RULE
    with pytest.raises(ConfigError) as err:
        load_rules(_rules_copy(tmp_path, text))
    assert expected in str(err.value)
    assert f"zz_test.yaml:{line}" in str(err.value)


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"duplicate key|duplicate rule id"):
        load_rules(_rules_copy(tmp_path, GOOD_RULE + GOOD_RULE.split("rules:\n", 1)[1]))


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"conf.yaml:3: invalid YAML: mapping values are not allowed"):
        load_text("a: 1\nb: 2\nc: d: e\n", "conf.yaml")


def test_billion_laughs_is_refused_not_expanded() -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(ConfigError, match="alias bomb"):
        load_text("\n".join(lines), "bomb.yaml")


def test_select_by_family_and_checklist_item(tmp_path: Path) -> None:
    rules = load_rules(_rules_copy(tmp_path, GOOD_RULE))
    assert [r.id for r in rules.select("test.family")] == ["test.family.ok"]
    assert "test.family.ok" in [r.id for r in rules.select("api.pagination")]

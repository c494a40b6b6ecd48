"""Rules as data: load and validate ``rules/*.yaml`` and ``rules/checklist.yaml``.

Every rule's wording, severity and checklist item live in YAML; checks supply only variables.
A rules file holds ``rules:`` (a list) and optionally ``thresholds:`` (named numbers with a
default, a unit and the guide passage or RFC they come from). Errors name ``file:line``.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from apiaudit.errors import ConfigError
from apiaudit.model import SECTIONS, Severity
from apiaudit.yamlfile import YamlDoc, load_file

RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*){2,}$")
RULE_REQUIRED = ("id", "title", "checklist", "severity", "summary", "message", "why", "fix")
RULE_OPTIONAL = ("tags", "docs")
THRESHOLD_KEYS = ("default", "unit", "help", "min", "max")
CHECKLIST_KEYS = ("id", "section", "title", "outside")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    checklist: str
    severity: Severity
    summary: str
    message: str  # str.format template; variables come from the check
    why: str
    fix: str
    tags: tuple[str, ...] = ()
    docs: str | None = None
    enabled: bool = True
    source: str = ""  # file:line where the rule is defined

    @property
    def family(self) -> str:
        return ".".join(self.id.split(".")[:2])

    def render_message(self, variables: dict[str, Any]) -> str:
        return _format(self.message, variables)

    def render_fix(self, variables: dict[str, Any]) -> str:
        return _format(self.fix, variables)

    def template_fields(self) -> set[str]:
        return _fields(self.message) | _fields(self.fix)


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    section: str
    title: str
    # When set, the item cannot be judged by any audit from outside; the text is the reason shown.
    outside: str | None = None


@dataclass(frozen=True)
class Threshold:
    name: str
    default: float
    unit: str
    help: str
    minimum: float | None = None
    maximum: float | None = None


@dataclass
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    checklist: dict[str, ChecklistItem] = field(default_factory=dict)
    thresholds: dict[str, Threshold] = field(default_factory=dict)

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id]

    def select(self, pattern: str) -> list[Rule]:
        """Rules matching an id, a family prefix (``http.cache``) or a checklist item id."""
        return [
            r
            for r in self.rules.values()
            if r.id == pattern or r.id.startswith(pattern + ".") or r.checklist == pattern
        ]

    def with_overrides(self, overrides: dict[str, str], where: dict[str, str]) -> RuleSet:
        """Apply config ``rules:`` overrides: a severity name or ``off``; keys may be ids or families."""
        rules = dict(self.rules)
        for key, value in overrides.items():
            matched = self.select(key)
            if not matched:
                raise ConfigError(f"unknown rule id {key!r}", where=where.get(key))
            for rule in matched:
                if value == "off":
                    rules[rule.id] = replace(rule, enabled=False)
                elif value == "on":
                    rules[rule.id] = replace(rule, enabled=True)
                else:
                    try:
                        rules[rule.id] = replace(rule, severity=Severity.parse(value), enabled=True)
                    except ValueError as exc:
                        raise ConfigError(f"rules.{key}: {exc}", where=where.get(key)) from None
        return RuleSet(rules=rules, checklist=self.checklist, thresholds=self.thresholds)


def rules_dir() -> Path:
    """``apiaudit/rules`` inside an installed wheel, else ``rules/`` at the top of the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if (candidate / "checklist.yaml").is_file():
            return candidate
    raise ConfigError(f"rules directory not found (looked in {here / 'rules'} and {here.parent / 'rules'})")


@lru_cache(maxsize=4)
def load_rules(directory: Path | None = None) -> RuleSet:
    base = directory or rules_dir()
    ruleset = RuleSet()
    _load_checklist(load_file(base / "checklist.yaml"), ruleset)
    for path in sorted(base.glob("*.yaml")):
        if path.name != "checklist.yaml":
            _load_rules_file(load_file(path), ruleset)
    return ruleset


def _load_checklist(doc: YamlDoc, ruleset: RuleSet) -> None:
    items = _expect_list(doc, ("items",), doc.data.get("items") if isinstance(doc.data, dict) else None)
    for i, raw in enumerate(items):
        _expect_keys(doc, ("items", i), raw, required=("id", "section", "title"), allowed=CHECKLIST_KEYS)
        if raw["section"] not in SECTIONS:
            raise ConfigError(f"unknown section {raw['section']!r}", where=doc.where("items", i, "section"))
        if raw["id"] in ruleset.checklist:
            raise ConfigError(f"duplicate checklist item {raw['id']!r}", where=doc.where("items", i, "id"))
        ruleset.checklist[raw["id"]] = ChecklistItem(
            id=str(raw["id"]), section=str(raw["section"]), title=str(raw["title"]), outside=raw.get("outside")
        )


def _load_rules_file(doc: YamlDoc, ruleset: RuleSet) -> None:
    if not isinstance(doc.data, dict):
        raise ConfigError("a rules file must be a mapping with 'rules:'", where=doc.where())
    unknown = set(doc.data) - {"rules", "thresholds", "family"}
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise ConfigError(f"unknown key {key!r}", where=doc.where(key))
    for name, raw in (doc.data.get("thresholds") or {}).items():
        _expect_keys(doc, ("thresholds", name), raw, required=("default", "unit", "help"), allowed=THRESHOLD_KEYS)
        have = ruleset.thresholds.get(name)
        if have is not None and (have.default != raw["default"] or have.unit != str(raw["unit"])):
            raise ConfigError(f"threshold {name!r} is defined twice with different values",
                              where=doc.where("thresholds", name))
        if not isinstance(raw["default"], (int, float)) or isinstance(raw["default"], bool):
            raise ConfigError(f"threshold {name!r}: default must be a number", where=doc.where("thresholds", name))
        ruleset.thresholds[name] = Threshold(
            name=name, default=raw["default"], unit=str(raw["unit"]), help=str(raw["help"]),
            minimum=raw.get("min"), maximum=raw.get("max"),
        )
    for i, raw in enumerate(_expect_list(doc, ("rules",), doc.data.get("rules"))):
        ruleset_rule = _parse_rule(doc, i, raw, ruleset)
        if ruleset_rule.id in ruleset.rules:
            raise ConfigError(f"duplicate rule id {ruleset_rule.id!r}", where=doc.where("rules", i, "id"))
        ruleset.rules[ruleset_rule.id] = ruleset_rule


def _parse_rule(doc: YamlDoc, i: int, raw: Any, ruleset: RuleSet) -> Rule:
    _expect_keys(doc, ("rules", i), raw, required=RULE_REQUIRED, allowed=RULE_REQUIRED + RULE_OPTIONAL)
    rid = str(raw["id"])
    if not RULE_ID.match(rid):
        raise ConfigError(f"rule id {rid!r} must be dotted, family first (e.g. http.cache.no-validator)",
                          where=doc.where("rules", i, "id"))
    if raw["checklist"] not in ruleset.checklist:
        raise ConfigError(f"rule {rid}: unknown checklist item {raw['checklist']!r}",
                          where=doc.where("rules", i, "checklist"))
    try:
        severity = Severity.parse(str(raw["severity"]))
    except ValueError as exc:
        raise ConfigError(f"rule {rid}: {exc}", where=doc.where("rules", i, "severity")) from None
    for key in ("message", "fix"):
        try:
            _fields(str(raw[key]))
        except ValueError as exc:
            raise ConfigError(f"rule {rid}: bad {key} template: {exc}", where=doc.where("rules", i, key)) from None
    tags = raw.get("tags") or []
    if not isinstance(tags, list):
        raise ConfigError(f"rule {rid}: tags must be a list", where=doc.where("rules", i, "tags"))
    return Rule(
        id=rid, title=str(raw["title"]).strip(), checklist=str(raw["checklist"]), severity=severity,
        summary=str(raw["summary"]).strip(), message=str(raw["message"]).strip(), why=str(raw["why"]).strip(),
        fix=str(raw["fix"]).strip(), tags=tuple(str(t) for t in tags), docs=raw.get("docs"),
        source=doc.where("rules", i),
    )


def _expect_list(doc: YamlDoc, path: tuple[Any, ...], value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"'{'.'.join(map(str, path))}' must be a list", where=doc.where(*path))
    return value


def _expect_keys(doc: YamlDoc, path: tuple[Any, ...], raw: Any, *, required: tuple[str, ...],
                 allowed: tuple[str, ...]) -> None:
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping", where=doc.where(*path))
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"unknown key {key!r}", where=doc.where(*path, key))
    for key in required:
        if key not in raw or raw[key] in (None, ""):
            raise ConfigError(f"missing key {key!r}", where=doc.where(*path))


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(template: str, variables: dict[str, Any]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Missing(variables))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return template


def _fields(template: str) -> set[str]:
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            if name == "" or name.isdigit():
                raise ValueError("positional fields are not allowed; name each variable")
            names.add(name.split(".")[0].split("[")[0])
    return names

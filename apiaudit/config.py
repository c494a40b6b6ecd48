"""``apiaudit.yaml`` + CLI overrides -> one validated :class:`Config`.

The accepted keys are declared as data in ``SCHEMA`` (section -> key -> type). Errors name
``file:line`` and the key. ``${VAR}`` / ``${VAR:-default}`` in string values are expanded from the
environment, and every expanded value is treated as a secret (never printed).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiaudit.errors import ConfigError
from apiaudit.model import Severity
from apiaudit.redact import SENSITIVE_HEADERS, register_secret
from apiaudit.rules import RuleSet, load_rules
from apiaudit.yamlfile import YamlDoc, load_file

DEFAULT_CONFIG = "apiaudit.yaml"
MAX_NUMBER = 2**53  # no count, size or number of seconds is larger; bigger values overflow floats/timers
RESOURCE_CLASSES = ("sensitive", "short", "medium", "long", "immutable")

# Types: "int", "number", "bool", "str", "list[str]", "dict[str]" (str->str), "severity", or a tuple
# of allowed strings. A section given as a dict of keys is a mapping with exactly those keys.
SCHEMA: dict[str, Any] = {
    "targets": {"api": "list[str]", "database": "str", "cache": "list[str]", "logs": "list[str]"},
    "headers": "dict[str]",
    "endpoints": "endpoints",
    "static": "list[str]",
    "thresholds": "thresholds",
    "rules": "rules",
    "gate": {"fail_on": "severity", "min_score": "int", "baseline": "str"},
    "http": {
        "max_requests": "int", "concurrency": "int", "timeout_s": "number", "samples": "int",
        "max_body_bytes": "int", "openapi": "str", "insecure": "bool", "http2": "bool",
        "allow_methods": "list[str]", "follow_redirects": "bool", "allow_hosts": "list[str]",
        "burst": "int", "burst_seconds": "number", "metrics_path": "str", "retry_after_cap_s": "number",
        "user_agent": "str", "deadline_s": "number",
    },
    "db": {
        "statement_timeout_ms": "int", "lock_timeout_ms": "int", "top_queries": "int", "analyze": "bool",
        "hypopg": "bool", "min_cost_drop": "number", "workload_limit": "int", "schemas": "list[str]",
        "connect_timeout_s": "number", "explain_user_functions": "bool", "trusted_extensions": "list[str]",
        "deadline_s": "number",
    },
    "logs": {
        "format": ("auto", "stderr", "csvlog", "jsonlog", "sql"), "prefix": "str", "nplusone_min_repeats": "int",
        "idle_gap_ms": "number", "reset_statements": "list[str]", "database": "str", "user": "str",
        "application": "str",
    },
    "ci": {"formats": "list[str]", "output_dir": "str"},
    "monitoring": {
        "url": "str", "job": "str", "window": "str", "bearer_token": "str", "username": "str", "password": "str",
        "timeout_s": "number", "deadline_s": "number",
    },
    "cache": {
        "sample_keys": "int", "time_cap_s": "number", "scan_count": "int", "min_lookups": "int", "timeout_s": "number",
        "deadline_s": "number",
    },
}
ENDPOINT_KEYS: dict[str, Any] = {
    "path": "str", "url": "str", "name": "str", "collection": "bool", "resource_class": RESOURCE_CLASSES,
    "headers": "dict[str]", "params": "dict[str]", "authenticated": "bool", "streamed": "bool",
}


@dataclass
class Config:
    path: str | None = None
    targets: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    rule_overrides: dict[str, str] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    db: dict[str, Any] = field(default_factory=dict)
    logs: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)
    ci: dict[str, Any] = field(default_factory=dict)
    monitoring: dict[str, Any] = field(default_factory=dict)
    endpoint_lines: list[int] = field(default_factory=list)  # line of each endpoints entry (SARIF locations)
    ruleset: RuleSet = field(default_factory=RuleSet)

    def threshold(self, name: str) -> float:
        if name in self.thresholds:
            return self.thresholds[name]
        return self.ruleset.thresholds[name].default


def load_config(path: str | None, *, explicit: bool) -> Config:
    """Load ``path`` (or ./apiaudit.yaml when present and ``path`` is None). Rules are always loaded."""
    ruleset = load_rules()
    if path is None:
        if not Path(DEFAULT_CONFIG).is_file():
            return Config(ruleset=ruleset)
        path = DEFAULT_CONFIG
    elif explicit and not Path(path).exists():
        raise ConfigError(f"config file not found: {path}")
    doc = load_file(path)
    return parse_config(doc, ruleset)


def parse_config(doc: YamlDoc, ruleset: RuleSet) -> Config:
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping of sections", where=doc.where())
    cfg = Config(path=doc.name)
    for key, value in data.items():
        if key not in SCHEMA:
            known = ", ".join(SCHEMA)
            raise ConfigError(f"unknown section {key!r} (known: {known})", where=doc.where(key))
        spec = SCHEMA[key]
        value = _expand(value, doc, (key,))
        if isinstance(spec, dict):
            setattr(cfg, key, _mapping(value, spec, doc, (key,)))
        elif spec == "endpoints":
            cfg.endpoints = _endpoints(value, doc)
            cfg.endpoint_lines = [int(doc.where("endpoints", i).rsplit(":", 1)[1]) for i in range(len(cfg.endpoints))]
        elif spec == "thresholds":
            cfg.thresholds = _thresholds(value, doc, ruleset)
        elif spec == "rules":
            cfg.rule_overrides = _rule_overrides(value, doc)
        else:
            setattr(cfg, key, _typed(value, spec, doc, (key,)))
    for name, value in cfg.headers.items():
        if name.lower() in SENSITIVE_HEADERS:
            register_secret(value)
    score = cfg.gate.get("min_score")
    if score is not None and not 0 <= score <= 100:
        raise ConfigError("'gate.min_score' must be between 0 and 100", where=doc.where("gate", "min_score"))
    where = {k: doc.where("rules", k) for k in cfg.rule_overrides}
    cfg.ruleset = ruleset.with_overrides(cfg.rule_overrides, where)
    return cfg


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value: Any, doc: YamlDoc, path: tuple[Any, ...]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            got = os.environ.get(name)
            if got is None:
                if default is None:
                    raise ConfigError(f"environment variable {name} is not set", where=doc.where(*path))
                got = default
            register_secret(got)
            return got

        return _ENV.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, doc, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, doc, (*path, i)) for i, v in enumerate(value)]
    return value


def _mapping(value: Any, spec: dict[str, Any], doc: YamlDoc, path: tuple[Any, ...]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"'{_dotted(path)}' must be a mapping", where=doc.where(*path))
    out = {}
    for key, item in value.items():
        if key not in spec:
            raise ConfigError(f"unknown key '{_dotted((*path, key))}'", where=doc.where(*path, key))
        out[key] = _typed(item, spec[key], doc, (*path, key))
    return out


def _typed(value: Any, spec: Any, doc: YamlDoc, path: tuple[Any, ...]) -> Any:
    name = _dotted(path)
    where = doc.where(*path)
    if isinstance(spec, tuple):
        if value not in spec:
            raise ConfigError(f"'{name}' must be one of {', '.join(spec)} (got {value!r})", where=where)
        return value
    if spec == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"'{name}' must be a whole number (got {value!r})", where=where)
        if value < 0:
            raise ConfigError(f"'{name}' must not be negative", where=where)
        if value > MAX_NUMBER:
            raise ConfigError(f"'{name}' is too large (at most {MAX_NUMBER})", where=where)
        return value
    if spec == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise ConfigError(f"'{name}' must be a finite number (got {value!r})", where=where)
        if value < 0:
            raise ConfigError(f"'{name}' must not be negative", where=where)
        return float(value)
    if spec == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"'{name}' must be true or false (got {value!r})", where=where)
        return value
    if spec == "str":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"'{name}' must be a string (got {type(value).__name__})", where=where)
        return str(value)
    if spec == "severity":
        try:
            return Severity.parse(str(value)) if str(value) != "none" else None
        except ValueError as exc:
            raise ConfigError(f"'{name}': {exc}", where=where) from None
    if spec == "list[str]":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise ConfigError(f"'{name}' must be a list of strings", where=where)
        return [str(v) for v in value]
    if spec == "dict[str]":
        if not isinstance(value, dict):
            raise ConfigError(f"'{name}' must be a mapping of strings", where=where)
        out = {}
        for k, v in value.items():
            if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                raise ConfigError(f"'{name}.{k}' must be a string", where=doc.where(*path, k))
            if any(c in f"{k}{v}" for c in "\r\n\0"):
                # header injection: refuse here rather than rely on the HTTP library
                raise ConfigError(f"'{name}.{k}' cannot contain line breaks or NUL", where=doc.where(*path, k))
            out[str(k)] = str(v)
        return out
    raise AssertionError(f"unknown schema type {spec!r}")


def _finite(value: float) -> bool:
    """Finite and within float range: ``math.isfinite(10**400)`` raises OverflowError."""
    return -MAX_NUMBER <= value <= MAX_NUMBER and math.isfinite(value)


def _endpoints(value: Any, doc: YamlDoc) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError("'endpoints' must be a list", where=doc.where("endpoints"))
    out = []
    for i, raw in enumerate(value):
        if isinstance(raw, str):
            raw = {"path": raw}
        ep = _mapping(raw, ENDPOINT_KEYS, doc, ("endpoints", i))
        if not (ep.get("path") or ep.get("url")):
            raise ConfigError(f"endpoints[{i}] needs 'path' or 'url'", where=doc.where("endpoints", i))
        for hname, hvalue in (ep.get("headers") or {}).items():
            if hname.lower() in SENSITIVE_HEADERS:
                register_secret(hvalue)
        out.append(ep)
    return out


def _thresholds(value: Any, doc: YamlDoc, ruleset: RuleSet) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("'thresholds' must be a mapping", where=doc.where("thresholds"))
    out = {}
    for name, number in value.items():
        where = doc.where("thresholds", name)
        spec = ruleset.thresholds.get(name)
        if spec is None:
            known = ", ".join(sorted(ruleset.thresholds)) or "none"
            raise ConfigError(f"unknown threshold {name!r} (known: {known})", where=where)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise ConfigError(f"threshold {name!r} must be a finite number (got {number!r})", where=where)
        if (spec.minimum is not None and number < spec.minimum) or (
            spec.maximum is not None and number > spec.maximum
        ):
            raise ConfigError(f"threshold {name!r} must be within [{spec.minimum}, {spec.maximum}]", where=where)
        out[name] = float(number)
    return out


def _rule_overrides(value: Any, doc: YamlDoc) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("'rules' must map rule ids to a severity or off", where=doc.where("rules"))
    out = {}
    for rid, setting in value.items():
        if setting is False:
            setting = "off"
        elif setting is True:
            setting = "on"
        if isinstance(setting, dict) and set(setting) <= {"severity", "enabled"}:
            setting = "off" if setting.get("enabled") is False else str(setting.get("severity", "on"))
        if not isinstance(setting, str):
            raise ConfigError(f"rules.{rid} must be a severity or off", where=doc.where("rules", rid))
        out[str(rid)] = setting.lower()
    return out


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")

"""apiaudit.yaml: every sample config loads; wrong input fails naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiaudit.config import load_config
from apiaudit.errors import ConfigError
from apiaudit.model import Severity
from apiaudit.redact import clear_secrets, redact_text

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "sample_configs").glob("*.yaml"))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_config_loads(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "sample-token-value")
    cfg = load_config(str(path), explicit=True)
    assert cfg.path == str(path)
    assert cfg.targets, "a sample config should name at least one target"


def test_sample_names_cover_the_documented_set() -> None:
    assert {p.name for p in SAMPLES} >= {"minimal.yaml", "ci-gate.yaml", "strict.yaml", "with-auth.yaml"}


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "apiaudit.yaml"
    path.write_text(text)
    return str(path)


def test_values_are_typed_and_overrides_apply(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, """
targets:
  api: http://127.0.0.1:9/api
thresholds:
  max_page_size: 50
rules:
  api.pagination: off
gate:
  fail_on: medium
  min_score: 80
http:
  concurrency: 2
"""), explicit=True)
    assert cfg.targets["api"] == ["http://127.0.0.1:9/api"]
    assert cfg.threshold("max_page_size") == 50.0
    assert cfg.threshold("p95_warn_ms") == 500
    assert cfg.gate == {"fail_on": Severity.MEDIUM, "min_score": 80}
    assert cfg.http == {"concurrency": 2}


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("targets:\n  api: http://x\nbogus: 1\n", "unknown section 'bogus'", 3),
        ("http:\n  concurrency: many\n", "'http.concurrency' must be a whole number", 2),
        ("http:\n  concurency: 2\n", "unknown key 'http.concurency'", 2),
        ("thresholds:\n  max_page_size: big\n", "threshold 'max_page_size' must be a finite number", 2),
        ("thresholds:\n  nope: 1\n", "unknown threshold 'nope'", 2),
        ("thresholds:\n  error_rate_warn_pct: 150\n", "must be within", 2),
        ("gate:\n  fail_on: sometimes\n", "unknown severity 'sometimes'", 2),
        ("\n\nrules:\n  no.such.rule: off\n", "unknown rule id 'no.such.rule'", 4),
        ("endpoints:\n  - collection: true\n", "endpoints[0] needs 'path' or 'url'", 2),
        ("endpoints:\n  - path: /a\n    resource_class: forever\n", "must be one of sensitive", 3),
        ("headers:\n  Authorization: ${APIAUDIT_TEST_UNSET_VAR}\n", "APIAUDIT_TEST_UNSET_VAR is not set", 2),
        ("- just\n- a list\n", "must be a mapping", 1),
        ("a: [1, 2\n", "invalid YAML", 2),
    ],
)
def test_bad_config_names_file_line_and_key(tmp_path: Path, text: str, message: str, line: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, explicit=True)
    assert message in str(err.value)
    assert f"{path}:{line}" in str(err.value)


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yaml"), explicit=True)


def test_env_expansion_registers_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_secrets()
    monkeypatch.setenv("APIAUDIT_T_TOKEN", "s3cr3t-token-xyz")
    cfg = load_config(_write(tmp_path, 'headers:\n  Authorization: "Bearer ${APIAUDIT_T_TOKEN}"\n'), explicit=True)
    assert cfg.headers["Authorization"] == "Bearer s3cr3t-token-xyz"
    assert "s3cr3t-token-xyz" not in redact_text("sent Authorization: Bearer s3cr3t-token-xyz")
    monkeypatch.setenv("APIAUDIT_T_DEFAULT", "")
    cfg = load_config(_write(tmp_path, 'targets:\n  api: "${APIAUDIT_T_NONE:-http://127.0.0.1:1}"\n'), explicit=True)
    assert cfg.targets["api"] == ["http://127.0.0.1:1"]

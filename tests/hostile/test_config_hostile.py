"""Hostile apiaudit.yaml: YAML bombs, deep nesting, Python tags, wrong types, non-finite numbers,
huge and binary files. Every one must end in a clear one-line error naming ``file:line`` and exit 2
(DESIGN.md: usage or configuration error), quickly and without a traceback. Plus property-based
fuzzing of the loader: only ``ConfigError`` may ever leave it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit.config import load_config, parse_config
from apiaudit.errors import ConfigError
from apiaudit.rules import load_rules
from apiaudit.yamlfile import load_text
from hostile.measure import Run, run_measured

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
    + ["http: {user_agent: *i}"]
)

# name -> (config text, regex the error must match, line the error must name or None)
CASES: dict[str, tuple[str, str, int | None]] = {
    "billion-laughs": (BILLION_LAUGHS, r"alias|nodes|expand", None),
    "deep-flow-nesting": ("http: " + "[" * 5000 + "]" * 5000 + "\n", r"deep|nest|recursion|invalid", 1),
    "deep-block-nesting": ("targets:\n  api: " + "- " * 3000 + "x\n", r"deep|nest|recursion|invalid", None),
    "python-object-tag": (
        'http:\n  user_agent: !!python/object/apply:os.system ["touch pwned"]\n',
        r"must be a string|python|tag|constructor|invalid",
        2,
    ),
    "python-name-tag": (
        "http:\n  user_agent: !!python/name:os.system\n",
        r"python|tag|constructor|invalid",
        2,
    ),
    "wrong-type-int": (
        "gate:\n  fail_on: high\nhttp:\n  max_requests: lots\n",
        r"max_requests.*whole number",
        4,
    ),
    "wrong-type-bool": ("http:\n  insecure: maybe\n", r"insecure.*true or false", 2),
    "wrong-type-list": ("targets:\n  api: {a: 1}\n", r"targets.api.*list", 2),
    "wrong-type-section": ("http: [1, 2]\n", r"'http' must be a mapping", 1),
    "negative": ("http:\n  concurrency: -4\n", r"concurrency.*negative", 2),
    "nan": ("http:\n  timeout_s: .nan\n", r"timeout_s.*(finite|number)", 2),
    "infinity": ("http:\n  timeout_s: .inf\n", r"timeout_s.*(finite|number)", 2),
    "unknown-section": ("\n\nhtttp:\n  max_requests: 3\n", r"unknown section 'htttp'", 3),
    "unknown-key": ("http:\n  max_request: 3\n", r"unknown key 'http.max_request'", 2),
    "duplicate-key": ("http:\n  concurrency: 1\n  concurrency: 2\n", r"duplicate key", 3),
    "merge-key": ("base: &b {concurrency: 1}\nhttp:\n  <<: *b\n", r"merge|unknown section", None),
    "tabs": ("http:\n\tconcurrency: 1\n", r"invalid YAML", 2),
    "unset-env": (
        "headers:\n  Authorization: Bearer ${APIAUDIT_HOSTILE_UNSET_VAR}\n",
        r"APIAUDIT_HOSTILE_UNSET_VAR.*not set",
        2,
    ),
    "header-crlf-injection": ('headers:\n  X-A: "a\\r\\nX-Injected: 1"\n', r"header|line break|newline|CR", 2),
    "min-score-out-of-range": ("gate:\n  min_score: 1000\n", r"min_score.*(100|range|between)", 2),
    "not-a-mapping": ("- just\n- a list\n", r"mapping", 1),
    "bad-severity": ("gate:\n  fail_on: catastrophic\n", r"fail_on", 2),
    "unknown-threshold": ("thresholds:\n  no_such_threshold: 5\n", r"unknown threshold", 2),
}


def _run(tmp_path: Path, text: str | bytes) -> Run:
    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_bytes(text if isinstance(text, bytes) else text.encode())
    # A target that needs no network: the config must be refused before anything is probed.
    run = run_measured(
        "scan", "http://127.0.0.1:9/api", "--config", str(cfg), "--format", "json", timeout=60, cwd=tmp_path
    )
    assert not run.timed_out and not run.has_traceback(), run
    assert not run.internal_error(), run
    assert run.wall_s < 20 and run.rss_mb < 300, run
    return run


# Run through the real console script (exit code, one-line message); the rest in-process (same loader).
VIA_CLI = {
    "billion-laughs",
    "deep-flow-nesting",
    "python-object-tag",
    "wrong-type-int",
    "nan",
    "header-crlf-injection",
    "unset-env",
}


@pytest.mark.parametrize("name", sorted(VIA_CLI))
def test_hostile_config_is_a_clear_usage_error(tmp_path: Path, name: str) -> None:
    text, says, line = CASES[name]
    run = _run(tmp_path, text)
    assert run.code == 2, run
    assert re.search(says, run.stderr, re.IGNORECASE), run
    assert len(run.stderr.strip().splitlines()) <= 3, run
    if line is not None:
        assert f"apiaudit.yaml:{line}" in run.stderr, run
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", sorted(set(CASES) - VIA_CLI))
def test_hostile_config_is_a_config_error(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text, says, line = CASES[name]
    monkeypatch.delenv("APIAUDIT_HOSTILE_UNSET_VAR", raising=False)
    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(str(cfg), explicit=True)
    message = str(info.value)
    assert re.search(says, message, re.IGNORECASE), message
    assert len(message.splitlines()) <= 3, message
    if line is not None:
        assert f"apiaudit.yaml:{line}" in message, message


def test_binary_config(tmp_path: Path) -> None:
    run = _run(tmp_path, b"\xff\xfe\x00\x01http: {}\n")
    assert run.code == 2 and "UTF-8" in run.stderr, run


def test_huge_config(tmp_path: Path) -> None:
    run = _run(tmp_path, "static:\n" + "  - /x\n" * 1_000_000)
    assert run.code == 2 and re.search(r"larger|too large|MiB", run.stderr), run


# --- fuzzing the loader: only ConfigError may leave it -------------------------------------------

RULES = load_rules()
FRAGMENTS = st.sampled_from(
    [
        "http:",
        "db:",
        "targets:",
        "headers:",
        "thresholds:",
        "rules:",
        "gate:",
        "endpoints:",
        "  ",
        "\n",
        "- ",
        "max_requests: ",
        "timeout_s: ",
        "api: ",
        "1",
        "-1",
        ".nan",
        ".inf",
        "true",
        "~",
        "'x'",
        '"y"',
        "[",
        "]",
        "{",
        "}",
        ",",
        ":",
        "&a ",
        "*a",
        "!!str ",
        "!!int ",
        "!!python/name:os.system",
        "<<: ",
        "? ",
        "|",
        ">",
        "#",
        "${HOME}",
        "${NOPE:-d}",
        "${",
        "\t",
        "\ufeff",
        "\x00",
        "2024-01-01",
        "0x1F",
        "1e3",
        "fail_on: ",
        "Authorization: ",
        "path: /a",
        "http://127.0.0.1/",
        "%YAML 1.1\n",
        "---\n",
        "...\n",
    ]
)


def _load(text: str) -> None:
    try:
        parse_config(load_text(text, "fuzz.yaml"), RULES)
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml"), exc


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_config_loader_fuzz_fragments(text: str) -> None:
    _load(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_config_loader_fuzz_text(text: str) -> None:
    _load(text)


@settings(max_examples=100, deadline=None)
@given(depth=st.integers(100, 20_000), opener=st.sampled_from(["[", "{a: ", "- "]))
def test_config_loader_deep_nesting(depth: int, opener: str) -> None:
    _load("http: " + opener * depth)

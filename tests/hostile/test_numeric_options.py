"""Issue 12 item 8: non-finite, negative or overflowing numbers are usage errors (exit 2, one line),
on the command line and in apiaudit.yaml, before anything is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiaudit import cli
from hostile.measure import run_measured

BAD = ["nan", "inf", "-inf", "-1", "1e309", "NaN"]
# (command and its target, option); the target is never contacted: the option is refused first.
OPTIONS = [
    (["scan", "http://127.0.0.1:9/a"], "--timeout"), (["scan", "http://127.0.0.1:9/a"], "--deadline"),
    (["scan", "http://127.0.0.1:9/a"], "--concurrency"), (["scan", "http://127.0.0.1:9/a"], "--samples"),
    (["scan", "http://127.0.0.1:9/a"], "--burst"), (["scan", "http://127.0.0.1:9/a"], "--max-requests"),
    (["scan", "http://127.0.0.1:9/a"], "--min-score"), (["db", "postgresql://u@127.0.0.1:9/x"], "--deadline"),
    (["db", "postgresql://u@127.0.0.1:9/x"], "--statement-timeout"), (["db", "postgresql://u@127.0.0.1:9/x"], "--top"),
    (["cache", "redis://127.0.0.1:9/0"], "--deadline"), (["cache", "redis://127.0.0.1:9/0"], "--sample-keys"),
]


@pytest.mark.parametrize(("argv", "option"), OPTIONS, ids=[f"{a[0]}{o}" for a, o in OPTIONS])
def test_bad_numbers_on_the_command_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str], argv: list[str],
                                                 option: str) -> None:
    """In-process through the CLI's own entry point (same error handler), to stay fast."""
    monkeypatch.chdir(tmp_path)
    for value in BAD:
        code = cli.run([*argv, f"{option}={value}", "--format", "json", "--quiet"])
        err = capsys.readouterr().err
        assert code == 2, (value, err)
        assert "Traceback" not in err and "internal error" not in err, err


def test_the_message_is_one_line_from_the_real_script(tmp_path: Path) -> None:
    run = run_measured("scan", "http://127.0.0.1:9/a", "--timeout", "nan", cwd=tmp_path, timeout=60)
    assert run.code == 2, run
    assert run.stderr.strip() == "apiaudit: error: --timeout must be a finite number (got nan)", run


@pytest.mark.parametrize("yaml", [
    "http:\n  timeout_s: .nan\n", "http:\n  timeout_s: .inf\n", "http:\n  timeout_s: -1\n",
    "http:\n  timeout_s: 1e309\n", "http:\n  deadline_s: .inf\n", "http:\n  concurrency: 1e400\n",
    "http:\n  max_requests: 100000000000000000000000000000000\n", "db:\n  deadline_s: .nan\n",
    "cache:\n  deadline_s: -5\n", "cache:\n  timeout_s: 100000000000000000000000000000000000000000000000000\n",
])
def test_bad_numbers_in_the_config_exit_2(tmp_path: Path, yaml: str) -> None:
    (tmp_path / "apiaudit.yaml").write_text(yaml)
    section = yaml.split(":", 1)[0]
    argv = {"http": ["scan", "http://127.0.0.1:9/a"], "db": ["db", "postgresql://u@127.0.0.1:9/x"],
            "cache": ["cache", "redis://127.0.0.1:9/0"]}[section]
    run = run_measured(*argv, "--format", "json", cwd=tmp_path, timeout=60)
    assert run.code == 2, run
    assert not run.has_traceback() and not run.internal_error(), run
    assert "apiaudit.yaml" in run.stderr, run


def test_deadline_zero_is_refused(tmp_path: Path) -> None:
    run = run_measured("scan", "http://127.0.0.1:9/a", "--deadline", "0", cwd=tmp_path, timeout=60)
    assert run.code == 2 and "--deadline must be above zero" in run.stderr, run

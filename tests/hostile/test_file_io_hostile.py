"""Files the auditor reads and writes, under attack (issue 12 item 8).

* Every file read is bounded: ``/dev/zero``, a FIFO with no writer, a 10 GB sparse file as config, report,
  baseline, evidence, OpenAPI document, k6 source or log → a clear error (exit 2, or 3 for a log that
  cannot be audited) at once, with bounded memory.
* Report writes never follow a planted symlink: files apiaudit names inside ``--output-dir`` are refused
  when they are links; a link the user named (``-o``, ``--write-baseline``, ``--save-evidence``) is
  followed on purpose; writes go through a temporary file and a rename.
* Nested YAML complex keys and other deep or aliased YAML: a config error (exit 2), never exit 3.
* An unwritable ``$GITHUB_STEP_SUMMARY`` warns and keeps the gate's exit code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hostile.measure import Run, run_measured


def _jrec(i: int, msg: str) -> str:
    return json.dumps({"timestamp": f"2026-12-05 01:00:00.{i:03d} UTC", "pid": 77, "session_id": "abc.1",
                       "error_severity": "LOG", "message": msg})


@pytest.fixture(scope="module")
def nplus_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A jsonlog with an N+1 (a HIGH finding: the default gate fails, exit 1)."""
    path = tmp_path_factory.mktemp("logs") / "nplus.json"
    lines = [_jrec(0, "statement: SELECT * FROM orders WHERE id = 1")]
    lines += [_jrec(i, f"statement: SELECT * FROM customers WHERE id = {i}") for i in range(1, 20)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def good_report(tmp_path_factory: pytest.TempPathFactory, nplus_log: Path) -> Path:
    path = tmp_path_factory.mktemp("reports") / "good.json"
    run = run_measured("db", "--log", str(nplus_log), "--format", "json", "-o", str(path), "-q", timeout=60)
    assert run.code == 1 and path.is_file(), run
    return path


def _ok(run: Run, codes: tuple[int, ...]) -> None:
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in codes, run
    assert run.stderr.strip(), run


# --- bounded reads ----------------------------------------------------------------------------------------

def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _sparse(tmp_path: Path) -> Path:
    path = tmp_path / "sparse.json"
    with open(path, "wb") as fh:
        fh.truncate(10 << 30)
    return path


HOSTILE_FILES: dict[str, Callable[[Path], Path]] = {
    "dev-zero": lambda _: Path("/dev/zero"),
    "fifo": _fifo,
    "sparse-10g": _sparse,
}
# what -> (arguments with {P} for the hostile file and {R} for a good report, exit codes allowed)
READERS: dict[str, tuple[list[str], tuple[int, ...]]] = {
    "config": (["report", "{R}", "-c", "{P}"], (2,)),
    "report": (["report", "{P}"], (2,)),
    "baseline": (["report", "{R}", "--baseline", "{P}"], (2,)),
    "scan-evidence": (["scan", "--from-evidence", "{P}"], (2,)),
    "db-evidence": (["db", "--from-evidence", "{P}"], (2,)),
    "openapi": (["scan", "http://127.0.0.1:9/api", "--openapi", "{P}"], (2,)),
    "k6-source": (["k6", "{P}"], (2,)),
    "log": (["db", "--log", "{P}"], (2, 3)),
}


# Every reader with /dev/zero; a FIFO and a sparse file for one reader of each kind (config, JSON, log).
BOUNDED_CASES = [(reader, "dev-zero") for reader in sorted(READERS)] + [
    (reader, kind)
    for reader in ("config", "baseline", "db-evidence", "openapi", "log")
    for kind in ("fifo", "sparse-10g")
]


@pytest.mark.parametrize(("reader", "kind"), BOUNDED_CASES)
def test_every_file_read_is_bounded(tmp_path: Path, good_report: Path, reader: str, kind: str) -> None:
    hostile = HOSTILE_FILES[kind](tmp_path)
    args, codes = READERS[reader]
    argv = [a.replace("{P}", str(hostile)).replace("{R}", str(good_report)) for a in args]
    run = run_measured(*argv, "--format", "json", "-q", timeout=30, cwd=tmp_path)
    _ok(run, codes)
    assert run.wall_s < 10 and run.rss_mb < 150, run
    assert len(run.stderr.strip().splitlines()) <= 3, run


def test_log_with_a_huge_hole_after_a_good_head(tmp_path: Path, nplus_log: Path) -> None:
    """A readable head, then 512 MiB of NULs and no newline: one over-long line, skipped with bounded memory."""
    path = tmp_path / "holey.json"
    head = nplus_log.read_bytes()
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + (512 << 20))
    run = run_measured("db", "--log", str(path), "--format", "json", timeout=60)
    _ok(run, (1,))  # the N+1 before the hole is still seen
    assert run.rss_mb < 300, run
    per_file = (run.report() or {})["stats"]["log_per_file"]
    assert per_file[0]["lines_unparsed"] == 1, per_file


# --- writes never follow a planted link ---------------------------------------------------------------------

def test_output_dir_refuses_a_planted_symlink(tmp_path: Path, good_report: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious content")
    out = tmp_path / "audit"
    out.mkdir()
    (out / "report.json").symlink_to(victim)
    (out / "report.html").symlink_to(tmp_path / "nowhere" / "dangling.html")
    run = run_measured("report", str(good_report), "--fail-on", "none", "--output-dir", str(out),
                       "--format", "json", "--format", "html", "-q", timeout=60)
    _ok(run, (2,))
    assert "symbolic link" in run.stderr, run
    assert victim.read_text() == "precious content"
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json"], "no temporary file left"
    assert all(p.is_symlink() for p in out.iterdir())


@pytest.mark.parametrize("option", ["-o", "--write-baseline", "--save-evidence"])
def test_a_link_the_user_named_is_followed(tmp_path: Path, nplus_log: Path, option: str) -> None:
    real = tmp_path / "store" / "latest.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    extra = ["-o", str(tmp_path / "r.json")] if option != "-o" else []
    run = run_measured("db", "--log", str(nplus_log), "--fail-on", "none", "--format", "json", option, str(link),
                       *extra, "-q", timeout=60)
    assert run.code == 0, run
    assert link.is_symlink() and json.loads(real.read_text()), "written through the named link"
    assert sorted(p.name for p in real.parent.iterdir()) == ["latest.json"]


def test_output_replaces_atomically_and_keeps_permissions(tmp_path: Path, good_report: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("old")
    out.chmod(0o640)
    run = run_measured("report", str(good_report), "--fail-on", "none", "-o", str(out), "--format", "json", "-q")
    assert run.code == 0, run
    assert json.loads(out.read_text())["kind"] and (out.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


# --- YAML: deep and aliased structures are config errors --------------------------------------------------------

def _complex_keys(n: int) -> str:
    s = "a"
    for _ in range(n):
        s = "{? " + s + " : 1}"
    return "rules: " + s + "\n"


def _seq_keys(n: int) -> str:
    s = "a"
    for _ in range(n):
        s = "{? [" + s + "] : 1}"
    return "rules: " + s + "\n"


YAML_BOMBS = {
    "complex-keys-900": _complex_keys(900),
    "sequence-keys-900": _seq_keys(900),
    "aliased-complex-key": "a: &a [x, y]\nrules: {? *a : 1}\n",
    "block-complex-keys": "rules:\n" + "".join("  " * i + "? " + ("\n" if i < 399 else "x\n") for i in range(400)),
    "deep-mapping": "rules: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    "alias-bomb-in-keys": "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
        + ["rules: {? *i : 1}"]
    ),
}


@pytest.mark.parametrize("name", ["complex-keys-900", "alias-bomb-in-keys"])
def test_deep_or_aliased_yaml_is_a_config_error(tmp_path: Path, good_report: Path, name: str) -> None:
    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_text(YAML_BOMBS[name])
    run = run_measured("report", str(good_report), "-c", str(cfg), "--format", "json", "-q", timeout=60)
    _ok(run, (2,))
    assert "apiaudit.yaml" in run.stderr and run.wall_s < 10 and run.rss_mb < 300, run


@pytest.mark.parametrize("name", sorted(YAML_BOMBS))
def test_deep_or_aliased_yaml_is_a_config_error_in_process(tmp_path: Path, name: str) -> None:
    """The same loader the CLI uses (ConfigError is exit 2); every variant, without a process each."""
    from apiaudit.config import load_config
    from apiaudit.errors import ConfigError

    cfg = tmp_path / "apiaudit.yaml"
    cfg.write_text(YAML_BOMBS[name])
    with pytest.raises(ConfigError, match=r"apiaudit\.yaml"):
        load_config(str(cfg), explicit=True)


# --- GITHUB_STEP_SUMMARY ----------------------------------------------------------------------------------------

def _summary_paths(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a-directory").mkdir()
    return {
        "directory": tmp_path / "a-directory",
        "read-only": Path("/proc/version"),
        "missing-dir": tmp_path / "missing" / "summary.md",
        "fifo": _fifo(tmp_path),
        "device": Path("/dev/full"),
    }


@pytest.mark.parametrize(("where", "fail_on"), [("directory", "none"), ("read-only", "high"), ("missing-dir", "none"),
                                               ("fifo", "high"), ("device", "none")])
def test_unwritable_step_summary_keeps_the_exit_code(tmp_path: Path, nplus_log: Path, where: str,
                                                      fail_on: str) -> None:
    path = _summary_paths(tmp_path)[where]
    run = run_measured("db", "--log", str(nplus_log), "--fail-on", fail_on, "--format", "json",
                       env={"GITHUB_STEP_SUMMARY": str(path)}, timeout=60)
    assert not run.has_traceback() and not run.internal_error(), run
    assert run.code == (0 if fail_on == "none" else 1), run
    assert "warning" in run.stderr and "GITHUB_STEP_SUMMARY" in run.stderr, run
    assert run.report() is not None, "the report itself is still written"


def test_step_summary_is_appended(tmp_path: Path, nplus_log: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# earlier step\n")
    run = run_measured("db", "--log", str(nplus_log), "--format", "json", env={"GITHUB_STEP_SUMMARY": str(path)})
    assert run.code == 1 and "warning" not in run.stderr, run
    text = path.read_text()
    assert text.startswith("# earlier step\n") and len(text) > 100


def test_a_named_fifo_is_written_in_place_never_replaced(tmp_path: Path, good_report: Path) -> None:
    """``-o /dev/stdout``-like destinations (a FIFO, a device) are written, never renamed over."""
    import threading

    fifo = _fifo(tmp_path)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    run = run_measured("report", str(good_report), "--fail-on", "none", "-o", str(fifo), "--format", "json", "-q")
    reader.join(timeout=10)
    assert run.code == 0, run
    assert json.loads(got[0])["kind"] and fifo.is_fifo()
    # Nobody reading: a clear error at once, not a hang.
    run = run_measured("report", str(good_report), "--fail-on", "none", "-o", str(fifo), "--format", "json", "-q",
                       timeout=30)
    _ok(run, (2,))
    assert fifo.is_fifo()

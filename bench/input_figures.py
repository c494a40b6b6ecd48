"""Measure `apiaudit` on the adversarial inputs of issue 12 (items 4, 7, 8): exit code, wall time, peak RSS.

    .venv/bin/python bench/input_figures.py            # ~1 min with the fixes; ~3 min on 0.1.0 (.sql case)

Same runner as tests/hostile (the installed console script, peak RSS from wait4 on the child, 4 GiB
address-space cap). Prints a Markdown table for bench/README-hostile.md. Not part of the test suite.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.measure import Run, run_measured  # noqa: E402


def _jrec(i: int, msg: str, pid: int = 77, sev: str = "LOG") -> str:
    return json.dumps({"timestamp": f"2026-12-05 01:00:00.{i:03d} UTC", "pid": pid, "session_id": f"s.{pid}",
                       "error_severity": sev, "message": msg})


def _nplus(d: Path) -> Path:
    path = d / "nplus.json"
    lines = [_jrec(0, "statement: SELECT * FROM orders WHERE id = 1")]
    lines += [_jrec(i, f"statement: SELECT * FROM customers WHERE id = {i}") for i in range(1, 20)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _clean(d: Path) -> Path:
    path = d / "clean.json"
    path.write_text(_jrec(0, "statement: SELECT 1", pid=5) + "\n")
    return path


def _sql(d: Path, n: int) -> Path:
    path = d / f"quad{n}.sql"
    path.write_text("SELECT 1 FROM t WHERE a IN (\n" + "'x;y',\n" * n + "'z');\n")
    return path


def _cr_stderr(d: Path) -> Path:
    """One bind parameter holding 8 forged "LOG:  statement:" entries behind bare CRs (PostgreSQL writes CRs raw)."""
    pre = "2026-12-05 01:30:00.{ms:03d} UTC [{pid}] 6569a1b2.{pid:x} 0 app@shop "
    fake = "".join(f"\r{pre.format(ms=i, pid=4242)}LOG:  statement: SELECT * FROM secret_audit_canary WHERE id = {i}"
                   for i in range(1, 9))
    path = d / "cr.log"
    path.write_bytes((pre.format(ms=0, pid=99) + "LOG:  execute <unnamed>: INSERT INTO customers(name) VALUES ($1)\n"
                      + pre.format(ms=0, pid=99) + f"DETAIL:  parameters: $1 = 'Bob{fake}\r'\n").encode())
    return path


def _deep_json(d: Path) -> Path:
    path = d / "deep.json"
    nplus = _nplus(d).read_text().splitlines()
    path.write_text("\n".join([nplus[0], '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", *nplus[1:]]) + "\n")
    return path


def _sparse(d: Path) -> Path:
    path = d / "sparse.json"
    with open(path, "wb") as fh:
        fh.truncate(10 << 30)
    return path


def _fifo(d: Path) -> Path:
    path = d / "fifo"
    os.mkfifo(path)
    return path


def _hole(d: Path) -> Path:
    path = d / "hole.json"
    head = _nplus(d).read_bytes()
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(len(head) + (512 << 20))
    return path


def _yaml(d: Path) -> Path:
    s = "a"
    for _ in range(900):
        s = "{? " + s + " : 1}"
    path = d / "ck.yaml"
    path.write_text("rules: " + s + "\n")
    return path


def _surrogates(d: Path) -> Path:
    path = d / "sur.json"
    path.write_text("\n".join(_jrec(i, f'statement: SELECT "c\\udfff" FROM "u\\ud800" WHERE id = {i}')
                              .replace("\\\\u", "\\u") for i in range(9)) + "\n")
    return path


def cases(d: Path) -> list[tuple[str, Callable[[], list[str]], int]]:
    report = d / "r.json"
    run_measured("db", "--log", str(_nplus(d)), "--format", "json", "-o", str(report), "-q")
    out = str(d / "out")
    rows: list[tuple[str, Callable[[], list[str]], int]] = [
        (".sql 35 KB, 5,000 lines of 'x;y'", lambda: ["db", "--log", str(_sql(d, 5_000))], 600),
        (".sql 140 KB, 20,000 lines of 'x;y'", lambda: ["db", "--log", str(_sql(d, 20_000))], 600),
        (".sql 1.4 MB, 200,000 lines of 'x;y'", lambda: ["db", "--log", str(_sql(d, 200_000))], 60),
        ("stderr log, 8 statements forged behind CRs", lambda: ["db", "--log", str(_cr_stderr(d))], 60),
        ("jsonlog N+1 + one 100k-deep line, + a clean file",
         lambda: ["db", "--log", str(_deep_json(d)), "--log", str(_clean(d))], 60),
        ("log: N+1 head + 512 MiB hole (no newline)", lambda: ["db", "--log", str(_hole(d))], 120),
        ("config /dev/zero", lambda: ["report", str(report), "-c", "/dev/zero"], 60),
        ("report /dev/zero", lambda: ["report", "/dev/zero"], 60),
        ("baseline: 10 GB sparse file", lambda: ["report", str(report), "--baseline", str(_sparse(d))], 60),
        ("scan evidence: FIFO, no writer", lambda: ["scan", "--from-evidence", str(_fifo(d))], 20),
        ("config: 900 nested YAML complex keys", lambda: ["report", str(report), "-c", str(_yaml(d))], 60),
    ]
    for fmt in ("table", "json", "html", "sarif", "junit", "markdown"):
        rows.append((f"log with lone surrogates → {fmt}",
                     lambda fmt=fmt: ["db", "--log", str(_surrogates(d)), "--format", fmt, "-o", f"{out}.{fmt}"], 60))
    return rows


def main() -> None:
    print("| case | exit | wall s | peak RSS MB | notes |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, argv, timeout in cases(d):
            args = argv()
            if "--format" not in args:
                args += ["--format", "json"]
            run = run_measured(*args, "--fail-on", "none", timeout=timeout)
            print(f"| {name} | {'timeout' if run.timed_out else run.code} | {run.wall_s:.1f} | {run.rss_mb:.0f} "
                  f"| {_note(run)} |", flush=True)


def _note(run: Run) -> str:
    rep = run.report()
    if rep is None:
        last = run.stderr.strip().splitlines()[-1:] or [""]
        return last[0][:90].replace("|", "/")
    stats = rep.get("stats") or {}
    forged = sum(w["calls"] for w in rep.get("workload") or [] if "secret_audit_canary" in w.get("sample", ""))
    per_file = [(f["lines_total"], f["lines_unparsed"]) for f in stats.get("log_per_file") or []]
    return (f"statements {stats.get('log_statements')}, forged {forged}, N+1 patterns "
            f"{len((rep.get('measurements') or {}).get('nplusone') or [])}, per file (lines, unparsed) {per_file}")


if __name__ == "__main__":
    main()

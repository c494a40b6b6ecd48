"""Issue 13, log input: a log apiaudit cannot read properly is an error, never a pass.

* A stderr log with a log_line_prefix the sniffer does not know (Azure's ``%t-%c-``) was read as a .sql
  script (3,666 "statements" in one session, exit 0, database.transactions PASS), even with --log-prefix.
* A log whose lines mostly fail to parse audited noise: exit 3 when it is the only input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def azure_log(path: Path, n: int = 600) -> Path:
    lines = []
    for i in range(n):
        ts = f"2026-12-05 01:{i // 60 % 60:02d}:{i % 60:02d} UTC"
        session = f"656a1b2c.{i % 7:x}"
        if i % 3 == 0:
            lines.append(f"{ts}-{session}-LOG:  connection received: host=10.0.0.{i % 9} port=5432")
        else:
            lines.append(f"{ts}-{session}-LOG:  statement: SELECT * FROM orders WHERE id = {i};")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_unknown_prefix_is_not_read_as_a_sql_script(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    log = azure_log(tmp_path / "postgresql.log")
    for extra in ([], ["--log-prefix", "%t-%c-"]):
        res = run_cli("db", "--log", str(log), *extra, "-f", "json", "--fail-on", "none", timeout=60)
        # Either the prefix is recognised (7 sessions, as written) or the log is refused with a clear
        # line naming --log-prefix (exit 3); never 400 "statements" of one .sql "session".
        if res.code == 3:
            assert not extra and "--log-prefix" in res.stderr, res
            continue
        assert res.code == 0, res
        stats = json.loads(res.stdout)["stats"]
        assert stats["log_formats"] == {"stderr": 1} and stats["log_sessions"] == 7, (extra, stats)


def test_mostly_unparsable_log_exits_3(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    log = azure_log(tmp_path / "postgresql.log")
    # A prefix that matches almost nothing: most lines fail to parse, so what was read is noise.
    good = "2026-12-05 01:00:00 UTC [42] LOG:  statement: SELECT 1;\n"
    log.write_text(good * 20 + log.read_text())
    res = run_cli("db", "--log", str(log), "--log-prefix", "%m [%p] ", "-f", "json", timeout=60)
    assert res.code == 3, res
    assert "could not be parsed" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr

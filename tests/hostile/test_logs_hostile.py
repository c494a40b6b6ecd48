"""Hostile query logs and SQL: random bytes, truncated gzip, a 100 MB line, CRLF, mixed formats,
``$$`` bodies, dollar quotes, nested comments and E'' strings, plus property-based fuzzing of the
log parsers and the fingerprinting. Nothing may escape as an exception; the CLI must say what it
could not read, stay within time and memory bounds, and exit per DESIGN.md.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiaudit.db.logs import analyze_logs
from apiaudit.errors import UsageError
from hostile.measure import Run, report_text, run_measured

PREFIX_TS = "2026-11-29 05:00:{sec:02d}.{ms:03d} UTC [{pid}] 6569a1b2.{pid:x} 0 app@shop "
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def stderr_line(i: int, msg: str, pid: int = 4242) -> str:
    return PREFIX_TS.format(sec=(i // 1000) % 60, ms=i % 1000, pid=pid) + msg


def nplusone_log(n: int = 6, newline: str = "\n") -> str:
    """One session: a parent query then ``n`` child lookups by key (an N+1 the parser must see)."""
    lines = [stderr_line(0, "LOG:  statement: SELECT id, title FROM posts ORDER BY id LIMIT 10")]
    lines += [stderr_line(i + 1, f"LOG:  statement: SELECT * FROM comments WHERE post_id = {i + 1}") for i in range(n)]
    return newline.join(lines) + newline


def db_log(*paths: str | Path, extra: tuple[str, ...] = ()) -> Run:
    args = ["db", *[a for p in paths for a in ("--log", str(p))], "--format", "json", *extra]
    run = run_measured(*args, timeout=120)
    assert not run.timed_out, run
    assert not run.has_traceback(), run
    assert not run.internal_error(), run
    assert run.rss_mb < 500, run
    return run


def workload_calls(run: Run) -> dict[str, int]:
    rep = run.report() or {}
    return {w["sample"]: w["calls"] for w in rep.get("workload") or []}


def test_random_bytes_log(tmp_path: Path) -> None:
    path = tmp_path / "random.log"
    path.write_bytes(os.urandom(1 << 20))
    run = db_log(path)
    # Nothing readable was given: could not audit (3), or a report that says the log is unreadable.
    assert run.code in (1, 0, 3), run
    assert "random.log" in report_text(run), run


def test_truncated_gzip_log(tmp_path: Path) -> None:
    # A log copied while it was being compressed: ~9 MB of it decompress fine, then the stream ends.
    full = gzip.compress((nplusone_log(50) * 4000).encode(), compresslevel=1)
    path = tmp_path / "cut.log.gz"
    path.write_bytes(full[: len(full) // 2])
    run = db_log(path)
    assert run.code in (0, 1), f"the readable part must be audited: {run!r}"
    text = report_text(run)
    assert "cut.log.gz" in text and any(w in text for w in ("eof", "truncat", "compressed", "end of")), run
    assert workload_calls(run).get("SELECT * FROM comments WHERE post_id = $1", 0) > 1000, run


def test_hundred_mb_single_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.log"
    with open(path, "wb") as fh:
        fh.write(nplusone_log().encode())
        fh.write(stderr_line(99, "LOG:  statement: SELECT '").encode())
        block = b"x" * (1 << 20)
        for _ in range(100):
            fh.write(block)
        fh.write(b"'\n")
        fh.write(nplusone_log().encode())
    run = db_log(path)
    assert run.code in (0, 1), run
    assert run.wall_s < 60, run
    calls = workload_calls(run)
    # The 12 ordinary statements around the monster are still counted.
    assert calls.get("SELECT * FROM comments WHERE post_id = $1") == 12, calls


def test_crlf_log_reads_like_lf(tmp_path: Path) -> None:
    lf, crlf = tmp_path / "lf.log", tmp_path / "crlf.log"
    lf.write_bytes(nplusone_log(7).encode())
    crlf.write_bytes(nplusone_log(7, newline="\r\n").encode())
    a, b = db_log(lf), db_log(crlf)
    assert workload_calls(a) == workload_calls(b) != {}
    rules_a = sorted(f["rule"] for f in (a.report() or {}).get("findings", []))
    rules_b = sorted(f["rule"] for f in (b.report() or {}).get("findings", []))
    assert rules_a == rules_b


CSV_LINE = (
    '2026-11-29 05:00:00.000 UTC,"app","shop",4242,"127.0.0.1:5000",6569a1b2.1092,1,"SELECT",'
    '2026-11-29 05:00:00 UTC,3/1,0,LOG,00000,"statement: SELECT 1",,,,,,,,,"psql","client backend",,0'
)
JSON_LINE = (
    '{"timestamp":"2026-11-29 05:00:00.000 UTC","pid":4242,"error_severity":"LOG","message":"statement: SELECT 2"}'
)


def test_mixed_formats_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    path.write_text(nplusone_log(3) + CSV_LINE + "\n" + JSON_LINE + "\n" + nplusone_log(3))
    run = db_log(path)
    assert run.code in (0, 1), run
    stats = (run.report() or {}).get("stats", {})
    # Read as stderr (the first lines), the foreign lines counted as unparsed, the rest still read.
    assert workload_calls(run).get("SELECT * FROM comments WHERE post_id = $1") == 6, run
    assert stats.get("log_unparsed", 0) >= 2, stats


def test_a_nul_line_does_not_discard_the_whole_log(tmp_path: Path) -> None:
    # Crashed or preallocated log files can hold NUL runs; the readable lines must still count.
    path = tmp_path / "nul.log"
    path.write_text(nplusone_log(3) + "\x00\x00\x00\n" + nplusone_log(3))
    run = db_log(path)
    assert run.code in (0, 1), run
    assert workload_calls(run).get("SELECT * FROM comments WHERE post_id = $1") == 6, run


def test_dollar_quotes_comments_and_e_strings_in_a_log(tmp_path: Path) -> None:
    odd = [
        "LOG:  statement: CREATE FUNCTION f() RETURNS text AS $$ SELECT 'it''s; -- no comment' $$ LANGUAGE sql",
        "LOG:  statement: SELECT $body$ it's $$ nested $$ $body$ AS x",
        "LOG:  statement: SELECT 1 /* outer /* inner ' */ still a comment ' */ AS y",
        "LOG:  statement: SELECT E'it\\'s \\\\ here' AS z",
        "LOG:  statement: DO $$\n\tBEGIN RAISE NOTICE 'a ; b'; END\n\t$$",
    ]
    lines = [stderr_line(i, msg) for i, msg in enumerate(odd)]
    path = tmp_path / "odd.log"
    path.write_text("\n".join(lines) + "\n" + nplusone_log(6))
    run = db_log(path)
    assert run.code in (0, 1), run
    calls = workload_calls(run)
    # The odd statements must not swallow the ordinary ones after them.
    assert calls.get("SELECT * FROM comments WHERE post_id = $1") == 6, calls


# --- log parsers --------------------------------------------------------------------------------

LOG_PIECES = st.sampled_from(
    [
        stderr_line(1, "LOG:  statement: SELECT 1"),
        stderr_line(2, "LOG:  execute <unnamed>: SELECT * FROM t WHERE id = $1"),
        "\tDETAIL:  parameters: $1 = '42'",
        stderr_line(3, "LOG:  duration: 0.123 ms  statement: SELECT 2"),
        stderr_line(4, 'ERROR:  relation "x" does not exist'),
        stderr_line(5, "STATEMENT:  SELECT * FROM x"),
        "\tcontinued line",
        stderr_line(6, "LOG:  statement: BEGIN"),
        stderr_line(7, "LOG:  statement: COMMIT"),
        CSV_LINE[: len(CSV_LINE) // 2],
        CSV_LINE,
        JSON_LINE,
        JSON_LINE[:40],
        '{"timestamp": 5, "pid": "x", "message": null}',
        "SELECT 1;",
        "$$",
        "/*",
        "'",
        "\x00",
        "\ufffd",
        "",
    ]
)


def _analyze(path: Path, fmt: str | None = None) -> None:
    try:
        ev = analyze_logs([str(path)], fmt=fmt, prefix=None, options={})
    except UsageError:
        return  # a clear usage error (exit 2) is an acceptable answer to garbage
    assert isinstance(ev.errors, list) and isinstance(ev.stats, dict)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_log_reader_survives_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.log"
    path.write_bytes(data)
    _analyze(path)


@FUZZ
@given(
    lines=st.lists(LOG_PIECES, max_size=40),
    cut=st.integers(0, 50),
    fmt=st.sampled_from([None, "stderr", "csvlog", "jsonlog", "sql"]),
    nl=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_log_parsers_survive_shuffled_real_lines(
    tmp_path: Path, lines: list[str], cut: int, fmt: str | None, nl: str
) -> None:
    text = nl.join(lines)
    path = tmp_path / "shuffled.log"
    path.write_bytes(text.encode("utf-8", "replace")[: max(0, len(text) - cut)])
    _analyze(path, fmt)


@FUZZ
@given(prefix=st.text(max_size=30))
def test_log_prefix_option_never_crashes(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "p.log"
    path.write_text(nplusone_log(2))
    with contextlib.suppress(UsageError):
        analyze_logs([str(path)], fmt="stderr", prefix=prefix, options={})


def test_log_with_a_trailing_block_of_nuls(tmp_path: Path) -> None:
    # A preallocated or crash-damaged log: real lines, then 50 MB of NUL bytes.
    path = tmp_path / "prealloc.log"
    with open(path, "wb") as fh:
        fh.write(nplusone_log(6).encode())
        fh.write(bytes(50 << 20))
    run = db_log(path)
    assert run.code in (0, 1), run
    assert run.wall_s < 60, run
    assert workload_calls(run).get("SELECT * FROM comments WHERE post_id = $1") == 6, run


def test_hostile_stdin_log(tmp_path: Path) -> None:
    for data in (os.urandom(1 << 20), nplusone_log(6).encode() + b"\x00" * (1 << 20) + b"\xff\xfe" * 1000):
        run = run_measured("db", "--log", "-", "--format", "json", stdin=data, cwd=tmp_path, timeout=60)
        assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
        assert run.code in (0, 1, 3), run
        assert run.stderr.strip(), run

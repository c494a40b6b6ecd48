"""Log parsing on hand-written messy logs (formats as PostgreSQL documents and writes them):
multi-line statements, extended-protocol execute/DETAIL pairs, durations, errors, compression,
globs, stdin, bad input. Real server logs are in test_real_logs.py."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apiaudit.db.fingerprint import fingerprint
from apiaudit.db.logs import analyze_logs
from apiaudit.db.logs.prefix import compile_prefix, detect_prefix
from apiaudit.errors import UsageError

P = "2026-11-29 05:38:32.{ms:03d} UTC [{pid}] 6b0bba58.{pid:x} 0 app@shop "


def line(ms: int, pid: int, text: str) -> str:
    return P.format(ms=ms, pid=pid) + text + "\n"


def n_plus_one_log(pid: int = 101, posts: int = 6) -> str:
    return "".join(n_plus_one_messages(pid, posts))


def n_plus_one_messages(pid: int = 101, posts: int = 6) -> list[str]:
    """One request's messages (each with its DETAIL/continuation lines): posts, then per post its
    author (extended protocol, parameters in DETAIL) and its comments (simple protocol, literals)."""
    out = [line(0, pid, "LOG:  statement: BEGIN"),
           line(1, pid, "LOG:  statement: SELECT posts.id, posts.author_id\n\tFROM posts ORDER BY posts.id")]
    ms = 2
    for i in range(1, posts + 1):
        out.append(line(ms, pid, "LOG:  execute <unnamed>: SELECT authors.id, authors.name \n\tFROM authors "
                                 "\n\tWHERE authors.id = $1::INTEGER")
                   + line(ms, pid, f"DETAIL:  parameters: $1 = '{i}'"))
        out.append(line(ms + 1, pid, f"LOG:  duration: 0.{i}00 ms"))
        out.append(line(ms + 1, pid, f"LOG:  statement: SELECT body FROM comments WHERE post_id = {i}"))
        ms += 2
    out.append(line(ms, pid, "LOG:  statement: COMMIT"))
    return out


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(path)


def test_stderr_execute_detail_multiline_and_late_durations(tmp_path: Path) -> None:
    ev = analyze_logs([write(tmp_path, "pg.log", n_plus_one_log())], fmt=None, prefix=None, options={})
    assert ev.errors == [] and ev.grouping is None
    assert ev.stats["log_formats"] == {"stderr": 1} and ev.stats["log_unparsed"] == 0
    assert ev.stats["log_statements"] == 2 + 6 * 2 + 1
    by_sample = {q.sample: q for q in ev.workload}
    authors = by_sample["SELECT authors.id, authors.name FROM authors WHERE authors.id = $1::INTEGER"]
    assert authors.calls == 6 and authors.total_ms == pytest.approx(0.1 + 0.2 + 0.3 + 0.4 + 0.5 + 0.6)
    children = {p.child_sample: p for p in ev.nplusone}
    assert set(children) == {authors.sample, "SELECT body FROM comments WHERE post_id = $1"}
    for p in children.values():
        assert p.parent_sample == "SELECT posts.id, posts.author_id FROM posts ORDER BY posts.id"
        assert (p.units, p.max_repeats, p.statements) == (1, 6, 6)


def test_same_parameters_repeated_is_not_n_plus_one(tmp_path: Path) -> None:
    log = "".join(line(i, 7, "LOG:  statement: SELECT name FROM authors WHERE id = 3") for i in range(12))
    ev = analyze_logs([write(tmp_path, "pg.log", log)], fmt=None, prefix=None, options={})
    assert ev.nplusone == []
    assert [(h.sample, h.repeats) for h in ev.hot_reads] == [("SELECT name FROM authors WHERE id = $1", 12)]


def test_batched_reads_are_never_n_plus_one(tmp_path: Path) -> None:
    log = "".join(line(i, 7, f"LOG:  statement: SELECT * FROM authors WHERE id IN ({i}, {i + 1})")
                  for i in range(10))
    log += "".join(line(20 + i, 7, f"LOG:  statement: SELECT * FROM authors WHERE id = ANY('{{{i}}}')")
                   for i in range(10))
    ev = analyze_logs([write(tmp_path, "pg.log", log)], fmt=None, prefix=None, options={})
    assert ev.nplusone == []


def test_interleaved_sessions_keep_their_own_units(tmp_path: Path) -> None:
    a, b = n_plus_one_messages(pid=201), n_plus_one_messages(pid=202)
    mixed = [msg for pair in zip(a, b, strict=True) for msg in pair]
    ev = analyze_logs([write(tmp_path, "pg.log", "".join(mixed))], fmt=None, prefix=None, options={})
    assert sorted((p.units, p.max_repeats) for p in ev.nplusone) == [(2, 6), (2, 6)]
    assert ev.sessions.sessions == 2


def test_error_statement_pairs_bind_parse_and_other_messages(tmp_path: Path) -> None:
    log = (line(0, 9, "LOG:  connection authorized: user=app database=shop")
           + line(1, 9, "LOG:  statement: SELECT * FROM nope")
           + line(1, 9, 'ERROR:  relation "nope" does not exist at character 15')
           + line(1, 9, "STATEMENT:  SELECT * FROM nope\n\t  WHERE 1 = 1")
           + line(2, 9, "LOG:  duration: 0.010 ms  parse <unnamed>: SELECT 1")
           + line(2, 9, "LOG:  duration: 0.010 ms  bind <unnamed>: SELECT 1")
           + line(3, 9, "LOG:  duration: 0.250 ms  execute <unnamed>: SELECT a FROM t WHERE id = $1")
           + line(3, 9, "DETAIL:  parameters: $1 = '5'")
           + line(4, 9, "LOG:  checkpoint starting: time")
           + line(5, 9, "LOG:  disconnection: session time: 0:00:00.005 user=app database=shop host=[local]"))
    ev = analyze_logs([write(tmp_path, "pg.log", log)], fmt=None, prefix=None, options={})
    assert ev.stats["log_server_errors"] == 1 and ev.stats["log_bind_parse"] == 2
    assert ev.stats["log_statements"] == 2 and ev.durations
    assert {q.sample: q.total_ms for q in ev.workload}["SELECT a FROM t WHERE id = $1"] == pytest.approx(0.25)
    assert ev.sessions.sessions == 1 and ev.sessions.median_lifetime_ms == pytest.approx(5.0)


def test_invalid_utf8_truncated_last_line_and_garbage_are_counted(tmp_path: Path) -> None:
    bad = line(99, 5, "LOG:  statement: SELECT 'X'").encode().replace(b"X", b"\xff\xfe")
    data = n_plus_one_log().encode() + b"this is not a log line\n" + bad + P.format(ms=1, pid=5).encode()[:20]
    ev = analyze_logs([write(tmp_path, "pg.log", data)], fmt=None, prefix=None, options={})
    assert ev.stats["log_invalid_utf8_bytes"] == 2
    assert ev.stats["log_unparsed"] == 2
    assert any("could not be parsed" in e["message"] for e in ev.errors)
    assert len(ev.nplusone) == 2


def test_non_english_server_messages_are_reported(tmp_path: Path) -> None:
    log = (line(0, 3, "LOG:  Anweisung: SELECT 1") + line(1, 3, 'FEHLER:  Relation »nope« existiert nicht')
           + line(2, 3, "ANWEISUNG:  SELECT * FROM nope"))
    ev = analyze_logs([write(tmp_path, "pg.log", log)], fmt=None, prefix=None, options={})
    assert ev.stats["log_non_english"] == ["ANWEISUNG", "FEHLER"]
    assert any("lc_messages" in e["message"] for e in ev.errors)
    french = line(0, 3, "LOG:  instruction : SELECT 1") + line(1, 3, "LOG:  instruction : SELECT 2")
    ev = analyze_logs([write(tmp_path, "fr.log", french)], fmt=None, prefix=None, options={})
    assert any("no SQL statements found" in e["message"] and "instruction : SELECT 1" in e["message"]
               for e in ev.errors)


def test_prefix_without_pid_or_session_says_what_is_missing(tmp_path: Path) -> None:
    log = "".join(f"2026-11-29 05:38:32.{i:03d} UTC LOG:  statement: SELECT a FROM t WHERE id = {i}\n"
                  for i in range(9))
    ev = analyze_logs([write(tmp_path, "pg.log", log)], fmt=None, prefix="%m ", options={})
    assert ev.grouping and "%c or %p" in ev.grouping
    assert ev.workload[0].calls == 9


def test_detect_common_prefixes() -> None:
    assert detect_prefix(["2026-11-29 05:38:32 UTC [42]: [3-1] user=app,db=shop,app=psql,client=127.0.0.1 "
                          "LOG:  statement: SELECT 1"]).text.startswith("%t [%p]: [%l-1]")  # type: ignore[union-attr]
    debian = detect_prefix(["2026-11-29 05:38:32.123 CET [42] app@shop LOG:  statement: SELECT 1"])
    assert debian is not None and debian.has_pid and not debian.has_session
    assert detect_prefix(["hello world"]) is None
    assert compile_prefix("%t:%r:%u@%d:[%p]:").regex.match(
        "2026-11-29 05:38:32 UTC:10.0.0.5(5432):app@shop:[77]:LOG:  statement: SELECT 1")
    padded = compile_prefix("%m [%-7p] %10u ").regex.match(
        "2026-11-29 05:38:32.123 UTC [4242   ]        app LOG:  statement: SELECT 1")
    assert padded is not None and padded.group("pid", "user") == ("4242", "app")
    assert compile_prefix("%m 100%% ").regex.match("2026-11-29 05:38:32.123 UTC 100% LOG:  statement: X")


def test_csvlog_and_jsonlog_records(tmp_path: Path) -> None:
    csv_rows = []
    json_rows = []
    for i in range(1, 7):
        msg = f"statement: SELECT name\n\tFROM authors WHERE id = {i}"
        csv_rows.append(f'2026-11-29 05:38:32.{i:03d} UTC,"app","shop",10,"127.0.0.1:1",6b0b.a,{i},"SELECT",'
                        f'2026-11-29 05:38:32 UTC,3/{i},0,LOG,00000,"{msg}",,,,,,,,,"","client backend",,0\n')
        json_rows.append(json.dumps({"timestamp": f"2026-11-29 05:38:32.{i:03d} UTC", "pid": 10,
                                     "session_id": "6b0b.a", "error_severity": "LOG", "message": msg}) + "\n")
    head = ('2026-11-29 05:38:32.000 UTC,"app","shop",10,"127.0.0.1:1",6b0b.a,0,"SELECT",'
            '2026-11-29 05:38:32 UTC,3/1,0,LOG,00000,"statement: SELECT id FROM posts",,,,,,,,,"",'
            '"client backend",,0\n')
    for name, text in (("pg.csv", head + "".join(csv_rows)), ("pg.json", "".join(json_rows))):
        ev = analyze_logs([write(tmp_path, name, text)], fmt=None, prefix=None, options={})
        assert ev.errors == [], name
        assert [(p.child_sample, p.statements) for p in ev.nplusone] == [
            ("SELECT name FROM authors WHERE id = $1", 6)], name
    truncated = head + "".join(csv_rows)[:-40]
    ev = analyze_logs([write(tmp_path, "cut.csv", truncated)], fmt="csvlog", prefix=None, options={})
    assert ev.stats["log_statements"] >= 5


def test_sql_files_gzip_zstd_globs_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sql = "SELECT id FROM posts;\n" + "".join(f"SELECT name FROM authors WHERE id = {i};\n" for i in range(6))
    sql += "INSERT INTO t VALUES ('a;b');\n\\echo meta\n"
    (tmp_path / "d").mkdir()
    write(tmp_path, "d/a.sql", sql)
    write(tmp_path, "d/b.log.gz", gzip.compress(n_plus_one_log().encode()))
    write(tmp_path, "d/c.log.zst", zstandard.ZstdCompressor().compress(n_plus_one_log(pid=333).encode()))
    ev = analyze_logs([str(tmp_path / "d" / "*")], fmt=None, prefix=None, options={})
    assert ev.errors == []
    assert ev.stats["log_formats"] == {"sql": 1, "stderr": 2}
    assert {p.child_sample: p.units for p in ev.nplusone}["SELECT name FROM authors WHERE id = $1"] == 1
    assert fingerprint("INSERT INTO t VALUES ('a;b')")[0] in {q.fingerprint for q in ev.workload}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(n_plus_one_log().encode()))))
    ev = analyze_logs(["-"], fmt=None, prefix=None, options={})
    assert len(ev.nplusone) == 2


def test_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        analyze_logs([str(tmp_path / "missing.log")], fmt=None, prefix=None, options={})
    with pytest.raises(UsageError, match="no file matches"):
        analyze_logs([str(tmp_path / "*.nothing")], fmt=None, prefix=None, options={})
    with pytest.raises(UsageError, match="--log-format"):
        analyze_logs([write(tmp_path, "x.log", "x")], fmt="syslog", prefix=None, options={})
    with pytest.raises(UsageError, match="directory"):
        analyze_logs([str(tmp_path)], fmt=None, prefix=None, options={})


def test_bad_content_becomes_report_errors(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.log", "")
    binary = write(tmp_path, "bin.log", bytes(range(256)) * 50)
    bad_gz = write(tmp_path, "bad.gz", b"\x1f\x8b\x08\x00garbage")
    ev = analyze_logs([empty, binary, bad_gz], fmt=None, prefix=None, options={})
    assert [e["where"] for e in ev.errors] == [f"log {empty}", f"log {binary}", f"log {bad_gz}"]
    assert "empty" in ev.errors[0]["message"] and "binary" in ev.errors[1]["message"]


def test_single_huge_statement(tmp_path: Path) -> None:
    big = line(0, 1, "LOG:  statement: INSERT INTO blobs VALUES ('" + "x" * 10_000_000 + "')")
    ev = analyze_logs([write(tmp_path, "big.log", big)], fmt=None, prefix=None, options={})
    assert ev.errors == [] and ev.workload[0].sample == "INSERT INTO blobs VALUES ($1)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), fmt=st.sampled_from([None, "stderr", "csvlog", "jsonlog", "sql"]))
def test_fuzz_random_bytes_never_raise(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    path = write(tmp_path, "fuzz.log", data)
    ev = analyze_logs([path], fmt=fmt, prefix=None, options={})
    assert isinstance(ev.stats.get("log_lines", 0), int)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=4000), noise=st.binary(max_size=40))
def test_fuzz_truncated_and_corrupted_real_shapes(tmp_path: Path, cut: int, noise: bytes) -> None:
    data = n_plus_one_log().encode()
    data = data[:cut] + noise + data[cut:cut + 200]
    for fmt in (None, "stderr"):
        analyze_logs([write(tmp_path, "t.log", data)], fmt=fmt, prefix=None, options={})


def test_truncated_compressed_files_keep_what_was_read(tmp_path: Path) -> None:
    log = "".join(n_plus_one_log(pid=400 + i) for i in range(2000)).encode()  # several MB: several blocks
    gz = write(tmp_path, "cut.log.gz", gzip.compress(log)[:-300])
    zst = write(tmp_path, "cut.log.zst", zstandard.ZstdCompressor().compress(log)[:-300])
    for path in (gz, zst):
        ev = analyze_logs([path], fmt=None, prefix=None, options={})
        # gzip reports the missing end (an error for this file); zstd's reader stops at the cut, which
        # leaves a partial last line (reported as unparsed). Either way what was read is kept.
        assert ev.errors and ev.stats["log_statements"] > 1000


@pytest.mark.parametrize("reset", ["DISCARD ALL", "RESET ALL", "SELECT pg_advisory_unlock_all()",
                                   "SELECT 'pool'"])
def test_pool_reset_statements_split_autocommit_units(tmp_path: Path, reset: str) -> None:
    """A pooled connection, autocommit, one by-key read per request, the pool's reset in between
    (pgbouncer's server_reset_query, or a custom one from logs.reset_statements)."""
    log = ""
    for i in range(8):
        log += line(2 * i, 9, f"LOG:  statement: SELECT name FROM authors WHERE id = {i}")
        log += line(2 * i + 1, 9, f"LOG:  statement: {reset}")
    path = write(tmp_path, "pool.log", log)
    ev = analyze_logs([path], fmt=None, prefix=None, options={"reset_statements": ["SELECT 'pool'"]})
    assert ev.nplusone == [] and ev.stats["log_units"] == 8


def test_message_separator_inside_the_prefix(tmp_path: Path) -> None:
    """An application_name holding ":  " must not fool the parser's header cache."""
    head = "2026-11-29 05:38:32.000 UTC [5] app=odd:  name LOG:  "
    log = "".join(f"{head}statement: SELECT a FROM t WHERE id = {i}\n" for i in range(6))
    ev = analyze_logs([write(tmp_path, "odd.log", log)], fmt=None, prefix="%m [%p] app=%a ", options={})
    assert [(q.sample, q.calls) for q in ev.workload] == [("SELECT a FROM t WHERE id = $1", 6)]
    assert len(ev.nplusone) == 1 and ev.nplusone[0].statements == 6


def test_pid_only_prefix_splits_sessions_at_connection_start(tmp_path: Path) -> None:
    """Debian's default prefix has no %c: with log_connections, a reused pid starts a new session."""
    def debian(ms: int, text: str) -> str:
        return f"2026-11-29 05:38:32.{ms:03d} CET [77] app@shop {text}\n"

    log = ""
    for conn in range(2):
        log += debian(100 * conn, "LOG:  connection authorized: user=app database=shop")
        log += "".join(debian(100 * conn + i + 1, f"LOG:  statement: SELECT name FROM authors WHERE id = {i}")
                       for i in range(3))
    ev = analyze_logs([write(tmp_path, "debian.log", log)], fmt=None, prefix=None, options={})
    assert ev.sessions.sessions == 2 and ev.sessions.connections_logged == 2
    assert ev.nplusone == []  # 3 + 3 reads in two connections, not 6 in one


def test_empty_log_line_prefix_reads_statements_but_cannot_group(tmp_path: Path) -> None:
    log = "".join(f"LOG:  statement: SELECT a FROM t WHERE id = {i}\n" for i in range(7))
    ev = analyze_logs([write(tmp_path, "bare.log", log)], fmt=None, prefix=None, options={})
    assert ev.workload[0].calls == 7
    assert ev.grouping and "lacks a timestamp" in ev.grouping


def test_nul_runs_do_not_discard_a_log_but_random_bytes_are_no_log(tmp_path: Path) -> None:
    # A crashed or preallocated log file holds NUL runs between good lines (H6).
    nul = write(tmp_path, "nul.log", n_plus_one_log(pid=1) + "\x00" * 4000 + "\n" + n_plus_one_log(pid=2))
    ev = analyze_logs([nul], fmt=None, prefix=None, options={})
    assert ev.stats["log_unparsed"] == 1 and [e["message"][:12] for e in ev.errors] == ["1 of 81 log "]
    one = analyze_logs([write(tmp_path, "one.log", n_plus_one_log())], fmt=None, prefix=None, options={})
    assert ev.stats["log_statements"] == 2 * one.stats["log_statements"] > 0
    zeros = write(tmp_path, "zeros.log", b"\x00" * 100_000)
    noise = write(tmp_path, "noise.log", bytes((i * 7919 + 13) % 251 + 1 for i in range(100_000)))  # no NUL
    ev = analyze_logs([zeros, noise], fmt=None, prefix=None, options={})
    assert [e["where"] for e in ev.errors] == [f"log {zeros}", f"log {noise}"] and not ev.read_any


@pytest.mark.parametrize("kind", ["gz", "zst"])
def test_a_cut_compressed_log_names_the_file_and_keeps_the_lines_before_the_cut(tmp_path: Path, kind: str) -> None:
    log = "".join(n_plus_one_log(pid=400 + i) for i in range(3000)).encode()
    packed = gzip.compress(log) if kind == "gz" else zstandard.ZstdCompressor().compress(log)
    path = write(tmp_path, f"cut.log.{kind}", packed[: len(packed) // 2])
    ev = analyze_logs([path], fmt=None, prefix=None, options={})
    assert ev.errors[0]["where"] == f"log {path}", ev.errors
    assert all("could not be parsed" in e["message"] for e in ev.errors[1:])  # the half line at the cut
    assert "truncated" in ev.errors[0]["message"] and "before the cut were read" in ev.errors[0]["message"]
    one = analyze_logs([write(tmp_path, "one.log", n_plus_one_log())], fmt=None, prefix=None, options={})
    per_file = one.stats["log_statements"]
    assert 1000 * per_file < ev.stats["log_statements"] < 3000 * per_file
    # Complete files, one or several zstd frames, read whole with no error.
    two = write(tmp_path, f"two.log.{kind}", packed + packed)
    ev = analyze_logs([two], fmt=None, prefix=None, options={})
    assert ev.errors == [] and ev.stats["log_statements"] == 6000 * per_file


def test_corrupt_compressed_files_are_named_and_the_others_read(tmp_path: Path) -> None:
    bad_zst = write(tmp_path, "bad.log.zst", b"\x28\xb5\x2f\xfd" + b"garbage" * 10)
    good = write(tmp_path, "good.log", n_plus_one_log())
    ev = analyze_logs([bad_zst, good], fmt=None, prefix=None, options={})
    assert [e["where"] for e in ev.errors] == [f"log {bad_zst}"]
    assert "zstd file truncated or corrupt" in ev.errors[0]["message"] and "nothing in it" in ev.errors[0]["message"]
    assert ev.read_any and ev.stats["log_statements"] > 0


def test_a_log_in_a_legacy_8bit_encoding_is_still_text(tmp_path: Path) -> None:
    # server_encoding LATIN1 / WIN1251: many bytes are invalid UTF-8, none is a control character.
    text = "".join(line(i, 5, f"LOG:  statement: SELECT id FROM users WHERE name = '{'Привет мир ' * 4}{i}'")
                   for i in range(50))
    path = write(tmp_path, "cp1251.log", text.encode("cp1251"))
    ev = analyze_logs([path], fmt=None, prefix=None, options={})
    assert ev.errors == [] and ev.stats["log_statements"] == 50 and ev.stats["log_invalid_utf8_bytes"] > 0

"""Query-log analysis: PostgreSQL stderr/csvlog/jsonlog logs and plain .sql files → :class:`LogEvidence`.

    ev = analyze_logs(["/var/log/postgresql/*.log"], fmt=None, prefix=None, options=cfg.logs)
    ev.workload      # WorkloadQuery rows (source="log"), ranked
    ev.nplusone      # N+1 patterns found inside units of work
    ev.stats, ev.errors, ev.measurements

Bad usage (unknown format, missing file) raises ``UsageError``; unreadable content becomes
``errors`` entries and the analysis goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from apiaudit.db.logs import csvlog, jsonlog, sqlfile, stderr, wrappers
from apiaudit.db.logs.collector import DEFAULT_RESETS, Collector
from apiaudit.db.logs.evidence import HotRead, LogEvidence, NPlusOnePattern, SessionStats, SingleSelectTx
from apiaudit.db.logs.filters import from_options
from apiaudit.db.logs.prefix import Prefix, compile_prefix, detect_prefix
from apiaudit.db.logs.sources import BAD_BYTES, FORMATS, Lines, expand, open_binary, sniff, split_lines
from apiaudit.db.logs.summary import report_filter, summarise
from apiaudit.errors import UsageError
from apiaudit.redact import redact_text

__all__ = [
    "FORMATS", "HotRead", "LogEvidence", "NPlusOnePattern", "SessionStats", "SingleSelectTx", "analyze_logs",
]


def analyze_logs(paths: list[str], *, fmt: str | None, prefix: str | None,
                 options: dict[str, Any] | None = None) -> LogEvidence:
    """Stream every log in ``paths`` (files, globs, ``-``) through one collector."""
    options = options or {}
    fmt = (fmt or options.get("format") or "auto").lower()
    if fmt not in FORMATS:
        raise UsageError(f"--log-format {fmt!r}: expected one of {', '.join(FORMATS)}")
    prefix = prefix or options.get("prefix")
    fixed = compile_prefix(prefix) if prefix else None
    files = expand(paths)
    min_repeats = int(options.get("nplusone_min_repeats") or 5)
    if min_repeats < 2:
        raise UsageError("logs.nplusone_min_repeats must be at least 2")
    resets = DEFAULT_RESETS + tuple(str(s) for s in options.get("reset_statements") or ())
    keep = from_options(options)
    coll = Collector(min_repeats=min_repeats, idle_gap_ms=float(options.get("idle_gap_ms") or 1000.0),
                     reset_statements=resets, keep=keep)
    ev = LogEvidence(min_repeats=min_repeats)
    counts = {"lines": 0, "parsed": 0, "unparsed": 0}
    formats: dict[str, int] = {}
    no_grouping: list[str] = []
    BAD_BYTES[0] = 0
    per_file: list[dict[str, Any]] = []
    for path in files:
        where = "log " + ("<stdin>" if path == "-" else path)
        before = dict(counts)
        try:
            seen, why, cut = _read_one(path, fmt, fixed, coll, counts)
        except UsageError:
            raise
        except Exception as exc:  # corrupt gzip/zstd, unreadable file: report it, read the other files
            ev.errors.append({"where": where, "message": redact_text(f"{type(exc).__name__}: {exc}")})
            continue
        per_file.append(_file_counts(path, seen, before, counts))
        if cut:
            ev.errors.append({"where": where, "message": redact_text(cut)})
        if seen is None:
            if not cut:
                ev.errors.append({"where": where, "message": redact_text(why or "not a PostgreSQL log")})
            continue
        formats[seen] = formats.get(seen, 0) + 1
        if why:
            no_grouping.append(why)
            ev.errors.append({"where": where, "message": why})
    coll.finish()
    summarise(coll, ev, counts, formats, files)
    if keep is not None:
        report_filter(coll, ev, keep)
    ev.stats["log_invalid_utf8_bytes"] = BAD_BYTES[0]
    ev.stats["log_per_file"] = per_file
    if no_grouping and len(no_grouping) == sum(formats.values()):
        ev.grouping = no_grouping[0]
    return ev


def _file_counts(path: str, seen: str | None, before: dict[str, int], after: dict[str, int]) -> dict[str, Any]:
    """One file's share of the counts: a mostly unparsable file must not hide behind a clean one."""
    return {"file": "<stdin>" if path == "-" else path, "format": seen,
            "lines_total": after["lines"] - before["lines"], "lines_unparsed": after["unparsed"] - before["unparsed"]}


def _read_one(path: str, fmt: str, fixed: Prefix | None, coll: Collector,
              counts: dict[str, int]) -> tuple[str | None, str | None, str | None]:
    """Parse one file into ``coll``: (format read or None, a problem worth reporting or None,
    where a compressed file was cut or None)."""
    lines_before = counts["lines"]
    with open_binary(path) as (head, stream, guard):
        seen, why = _parse(path, head, stream, fmt, fixed, coll, counts)
    if guard is None or guard.problem is None:
        return seen, why, None
    read = counts["lines"] - lines_before
    if not read:
        return seen, why, f"{guard.problem}: nothing in it could be read"
    return seen, why, f"{guard.problem}: the {read} lines before the cut were read, the rest was not"


def _parse(path: str, head: bytes, stream: IO[bytes], fmt: str, fixed: Prefix | None, coll: Collector,
           counts: dict[str, int]) -> tuple[str | None, str | None]:
    if not head.strip():
        return None, "empty file"
    seen = fmt if fmt != "auto" else sniff(head, path)
    if fixed is not None and fmt == "auto" and seen == "sql":
        seen = "stderr"  # --log-prefix only means something for a stderr log: never read it as a script
    head_lines = split_lines(head.decode("utf-8", "replace"))[:400]
    if seen is None and fixed is None and detect_prefix(head_lines):
        seen = "stderr"  # a prefix whose last character is glued to the severity (Azure's "%t-%c-")
    if seen is None:
        return None, "not a PostgreSQL log or SQL file (binary or unrecognised content); see --log-format"
    why = None
    lines = Lines(stream)  # split on "\n" only: a CR inside a logged value is data, never a new entry
    wrapper = wrappers.detect(head_lines) if seen in ("stderr", "jsonlog") else None
    if seen == "stderr" or wrapper:
        feed: Iterable[str] = lines
        if wrapper:  # syslog, Heroku logplex, Cloud SQL export: stderr lines inside another record
            head_lines, feed = list(wrappers.unwrap(head_lines, wrapper)), wrappers.unwrap(lines, wrapper)
            fixed = fixed or (compile_prefix(wrappers.LOGPLEX_PREFIX) if wrapper == "logplex" else None)
        pfx = fixed or detect_prefix(head_lines)
        if pfx is None:
            return None, ("could not recognise the log_line_prefix of this stderr log; pass it with "
                          "--log-prefix (SHOW log_line_prefix), or use csvlog/jsonlog")
        why = pfx.missing()
        if why:
            why += ": statements cannot be grouped into sessions; N+1 and transaction checks are skipped"
        got = stderr.parse(feed, pfx, coll)
        seen = f"stderr ({wrapper})" if wrapper else seen
    elif seen == "csvlog":
        got = csvlog.parse(lines, coll)
    elif seen == "jsonlog":
        got = jsonlog.parse(lines, coll)
    else:
        got = sqlfile.parse(lines, coll, session=path)
    got["lines"] += lines.overlong
    got["unparsed"] += lines.overlong
    for key in counts:
        counts[key] += got[key]
    return seen, why

"""Logs whose stderr-format lines arrive inside another record: syslog, Heroku logplex, Cloud SQL exports.

- **syslog** (``log_destination = syslog``): ``Dec  5 02:30:00 host postgres[1234]: [3-1] <line>``.
  PostgreSQL writes one message (its lines, DETAIL and STATEMENT, each DETAIL with the full prefix)
  as numbered chunks ``[seq-chunk]`` (docs "syslog_sequence_numbers", "syslog_split_messages"):
  a chunk is one line of the stderr form, or the rest of a line longer than ~900 bytes. Chunks of
  different processes interleave, so each process's message is gathered before it is passed on.
  rsyslog writes a tab as ``#011`` (and, with splitting off, a newline as ``#012``).
- **Heroku logplex** (``heroku logs``, log drains): ``<ts> app[postgres.1234]: [DATABASE] [9-1] sql_error_code
  = 00000 LOG:  …``; the same chunks, the timestamp and process id are the logplex header's.
- **Cloud SQL** (Cloud Logging JSON export, one entry a line): the stderr line in ``textPayload``.

Each unwrapper yields plain stderr-format lines for :mod:`apiaudit.db.logs.stderr`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from apiaudit.db.logs.sources import no_surrogates

_SYSLOG = re.compile(
    r"^(?:<\d+>\d* )?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\S+) \S+ [\w.\-/]+\[(\d+)\]: "
    r"(?:\[(\d+)-(\d+)\] ?)?(.*)$")
_LOGPLEX = re.compile(
    r"^(?:<\d+>\d* )?(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d) (?:\S+ )?"
    r"app\[postgres\.(\d+)\]:? \[[\w\-]+\] \[(\d+)-(\d+)\] ?(.*)$")
SPLIT_AT = 800  # bytes: a chunk this long may have been cut by syslog_split_messages (limit 900)
# The prefix under which unwrapped logplex lines arrive (ts and pid from the logplex header; the rest of
# Heroku's own prefix, "sql_error_code = %e …", is matched loosely).
LOGPLEX_PREFIX = "%m [%p] %i"
MAX_PENDING = 10_000  # processes with a message being gathered


def detect(lines: list[str]) -> str | None:
    """"syslog", "logplex", "cloudsql" or None (plain stderr), from the first lines of a file."""
    lines = [ln for ln in lines if ln.strip()][:50]
    if not lines:
        return None
    if lines[0].lstrip().startswith("{") and '"textPayload"' in lines[0]:
        return "cloudsql"
    for kind, regex in (("logplex", _LOGPLEX), ("syslog", _SYSLOG)):
        if sum(1 for ln in lines if regex.match(ln)) * 2 >= len(lines):
            return kind
    return None


def unwrap(lines: Iterable[str], kind: str) -> Iterator[str]:
    if kind == "cloudsql":
        return _cloudsql(lines)
    return _chunks(lines, _LOGPLEX if kind == "logplex" else _SYSLOG, logplex=kind == "logplex")


def _chunks(lines: Iterable[str], regex: re.Pattern[str], *, logplex: bool) -> Iterator[str]:
    pending: dict[str, tuple[str | None, list[str]]] = {}  # pid -> (sequence number, lines so far)
    for raw in lines:
        m = regex.match(raw.rstrip("\r\n"))
        if m is None:
            if raw.strip():
                yield raw if raw.endswith("\n") else raw + "\n"  # counted as unparsed by the stderr parser
            continue
        pid, seq, chunk, body, header = _fields(m, logplex)
        have = pending.get(pid)
        if have is not None and (seq != have[0] or seq is None) and not body.startswith("\t"):
            yield from _lines(pending.pop(pid)[1])
            have = None
        if have is None:
            if len(pending) >= MAX_PENDING:
                for _, done in pending.values():
                    yield from _lines(done)
                pending.clear()
            pending[pid] = (seq, [header + body + "\n"])
            continue
        done = have[1]
        if chunk != "1" and not body.startswith("\t") and len(done[-1]) >= SPLIT_AT and seq is not None:
            done[-1] = done[-1][:-1] + body + "\n"  # the rest of a line cut at ~900 bytes
        elif body.startswith("\t"):
            done.append(body + "\n")
        else:
            done.append(header + body + "\n")  # DETAIL/STATEMENT: its own prefix, a line of its own
    for _, done in pending.values():
        yield from _lines(done)


def _fields(m: re.Match[str], logplex: bool) -> tuple[str, str | None, str | None, str, str]:
    """(pid, sequence, chunk, body, header to put before the body)."""
    if logplex:
        day, clock, zone, pid, seq, chunk, body = m.groups()
        header = f"{day} {clock if '.' in clock else clock + '.000'} {zone} [{pid}] "
    else:
        pid, seq, chunk, body = m.groups()
        header = ""
    return pid, seq, chunk, body.replace("#011", "\t"), header


def _lines(chunks: list[str]) -> Iterator[str]:
    """rsyslog's ``#012`` (a newline, with syslog_split_messages off) ends a line."""
    for text in chunks:
        if "#012" in text:  # split on "\n" only (never splitlines: a CR in a logged value is data)
            *whole, last = text.replace("#012", "\n").split("\n")
            yield from (line + "\n" for line in whole)
            if last:
                yield last
        else:
            yield text

def _cloudsql(lines: Iterable[str]) -> Iterator[str]:
    for raw in lines:
        if not raw.strip():
            continue
        try:
            payload = json.loads(raw).get("textPayload")
        except (ValueError, AttributeError):
            payload = None
        if not isinstance(payload, str):
            yield "\x00unreadable Cloud Logging entry\n"  # counted as unparsed
            continue
        payload = no_surrogates(payload)
        first, *rest = payload.rstrip("\n").split("\n")
        yield first + "\n"
        for line in rest:
            yield (line if line.startswith("\t") else "\t" + line) + "\n"

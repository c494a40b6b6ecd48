"""The stderr log format: one header line per message (``log_line_prefix`` + ``SEVERITY:  text``),
continuation lines starting with a tab (multi-line statements, parameter values).

A message's DETAIL (``parameters: $1 = '42'``) and STATEMENT lines follow it at once: the server
writes one message and its parts in one piece, so the parser holds one pending message and
completes it with the lines that follow, then hands it to the collector.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.filters import Who
from apiaudit.db.logs.prefix import Prefix
from apiaudit.db.logs.timestamps import seconds

_ATTACHED = frozenset({"STATEMENT", "HINT", "CONTEXT", "QUERY", "LOCATION"})
EVICT_EVERY = 200_000  # lines
MAX_HEADS = 20_000


def parse(lines: Iterable[str], prefix: Prefix, sink: Collector) -> dict[str, int]:
    """Feed every message of ``lines`` to ``sink``; returns line counts (lines, parsed, unparsed).

    The hot loop of log analysis: one regex match per header line, one ``group`` call, locals only.
    """
    match = prefix.regex.match
    groups = prefix.regex.groupindex
    ts_group = "ts" if "ts" in groups else ("epoch" if "epoch" in groups else "sev")
    key_group = "session" if "session" in groups else ("pid" if "pid" in groups else "sev")
    grouped, timed = key_group != "sev", ts_group != "sev"
    # --log-database/--log-user/--log-application: the prefix's %d, %u, %a of each message (None: not logged)
    who_groups = tuple(g if g in groups else None for g in ("db", "user", "app")) if sink.filter else None
    who: Who | None = None
    message = sink.message
    n = unparsed = blank = 0
    # The pending message: session key, timestamp text, severity, first line, continuation lines,
    # DETAIL lines, and where the next continuation line goes (None: the message's own list).
    p_key = p_ts = p_sev = ""
    p_who: Who | None = None
    p_msg: str | None = None
    p_more: list[str] | None = None
    p_detail: list[str] | None = None
    p_tail: list[str] | None = None
    ts_text, ts_value = "", None  # consecutive messages often share a timestamp: convert it once
    # Header cache: "<prefix>SEVERITY" → its fields. With millisecond timestamps ~70 % of the headers of
    # a busy log repeat (same ms, session and xid), and a dict hit is ~4x cheaper than the regex.
    heads: dict[str, tuple[str, str, str, Who | None]] = {}
    for n, line in enumerate(lines, 1):
        if line[:1] == "\t":
            if p_msg is None:
                unparsed += 1
            elif p_tail is None:
                p_more = p_tail = [line[1:].rstrip("\r\n")]
            else:
                p_tail.append(line[1:].rstrip("\r\n"))
            continue
        cut = line.find(":  ")
        hit = heads.get(line[:cut]) if cut > 0 else None
        if hit is not None:
            sev, key, ts, who = hit
            msg = line[cut + 3:-1] if line[-1:] == "\n" else line[cut + 3:]
        else:
            m = match(line)
            if m is None:
                if line.strip():
                    unparsed += 1
                else:
                    blank += 1
                continue
            sev, msg, key, ts = m.group("sev", "msg", key_group, ts_group)
            if not grouped:
                key = "-"
            if who_groups is not None:
                who = _who(m, who_groups)
            if m.end("sev") == cut:  # the separator found is the message's own: safe to reuse
                if len(heads) >= MAX_HEADS:
                    heads.clear()
                heads[line[:cut]] = (sev, key, ts, who)
        if p_msg is not None:
            if key == p_key:
                if sev == "DETAIL":
                    p_detail = p_tail = [msg]
                    continue
                if sev in _ATTACHED:
                    p_tail = []  # STATEMENT/CONTEXT lines: not needed, dropped
                    continue
            if p_ts != ts_text:
                ts_text, ts_value = p_ts, seconds(p_ts) if timed else None
            message(p_key, ts_value, p_sev, p_msg if p_more is None else "\n".join([p_msg, *p_more]),
                    None if p_detail is None else "\n".join(p_detail), p_who)
        p_key, p_sev, p_ts, p_msg, p_who = key or "-", sev, ts, msg, who
        p_more = p_detail = p_tail = None
        if n % EVICT_EVERY == 0 and ts_value is not None:
            sink.evict_idle(ts_value)
    if p_msg is not None:
        message(p_key, seconds(p_ts) if timed else None, p_sev,
                p_msg if p_more is None else "\n".join([p_msg, *p_more]),
                None if p_detail is None else "\n".join(p_detail), p_who)
    return {"lines": n, "parsed": n - unparsed - blank, "unparsed": unparsed}


def _who(m: re.Match[str], names: tuple[str | None, ...]) -> Who:
    """(database, user, application) from the prefix; None where the prefix has no such escape."""
    db, user, app = (m.group(g) if g else None for g in names)
    return db, user, app

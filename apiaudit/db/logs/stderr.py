"""The stderr log format: one header line per message (``log_line_prefix`` + ``SEVERITY:  text``),
continuation lines starting with a tab (multi-line statements, parameter values).

A message's DETAIL (``parameters: $1 = '42'``) and STATEMENT lines follow it at once: the server
writes one message and its parts in one piece, so the parser holds one pending message and
completes it with the lines that follow, then hands it to the collector.
"""

from __future__ import annotations

from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.prefix import Prefix
from apiaudit.db.logs.timestamps import seconds

_ATTACHED = frozenset({"STATEMENT", "HINT", "CONTEXT", "QUERY", "LOCATION"})
EVICT_EVERY = 200_000  # lines


def parse(lines: Iterable[str], prefix: Prefix, sink: Collector) -> dict[str, int]:
    """Feed every message of ``lines`` to ``sink``; returns line counts (lines, parsed, unparsed)."""
    match = prefix.regex.match
    groups = prefix.regex.groupindex
    ts_group = "ts" if "ts" in groups else ("epoch" if "epoch" in groups else None)
    key_group = "session" if "session" in groups else ("pid" if "pid" in groups else None)
    message = sink.message
    n = parsed = unparsed = 0
    # pending message: session, timestamp text, severity, message lines, detail lines (or None)
    p_key = p_ts = p_sev = ""
    p_msg: list[str] | None = None
    p_detail: list[str] | None = None
    p_tail: list[str] = []  # where continuation lines go: the message, its DETAIL, or a discarded part
    for line in lines:
        n += 1
        if line[:1] == "\t":
            if p_msg is None:
                unparsed += 1
            else:
                p_tail.append(line[1:].rstrip("\r\n"))
                parsed += 1
            continue
        m = match(line)
        if m is None:
            if line.strip():
                unparsed += 1
            continue
        parsed += 1
        sev = m.group("sev")
        key = m.group(key_group) if key_group else "-"
        if p_msg is not None and key == p_key:
            if sev == "DETAIL":
                p_detail = p_tail = [m.group("msg")]
                continue
            if sev in _ATTACHED:
                p_tail = []
                continue
        if p_msg is not None:
            message(p_key, seconds(p_ts) if p_ts else None, p_sev,
                    p_msg[0] if len(p_msg) == 1 else "\n".join(p_msg),
                    None if p_detail is None else "\n".join(p_detail))
        p_key, p_sev = key or "-", sev
        p_ts = m.group(ts_group) if ts_group else ""
        p_msg, p_detail = [m.group("msg")], None
        p_tail = p_msg
        if n % EVICT_EVERY == 0 and p_ts:
            now = seconds(p_ts)
            if now is not None:
                sink.evict_idle(now)
    if p_msg is not None:
        message(p_key, seconds(p_ts) if p_ts else None, p_sev, "\n".join(p_msg),
                None if p_detail is None else "\n".join(p_detail))
    return {"lines": n, "parsed": parsed, "unparsed": unparsed}

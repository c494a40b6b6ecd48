"""The jsonlog format (PostgreSQL 15+, docs "19.8.5. Using JSON-Format Log Output"): one JSON object
per line with ``timestamp``, ``pid``, ``session_id``, ``error_severity``, ``message``, ``detail``.

A line that is not such an object (garbage, a truncated write, JSON nested past the parser's recursion
limit) is counted as unparsed and skipped: it never costs the rest of the file."""

from __future__ import annotations

import json
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.sources import no_surrogates
from apiaudit.db.logs.timestamps import seconds

EVICT_EVERY = 100_000  # lines


def parse(lines: Iterable[str], sink: Collector) -> dict[str, int]:
    message = sink.message
    filtering = sink.filter is not None
    loads = json.loads
    n = parsed = unparsed = 0
    for line in lines:
        n += 1
        if not line.strip():
            continue
        try:
            rec = loads(line)
            session = str(rec.get("session_id") or rec.get("pid") or "-")
            ts = seconds(rec.get("timestamp"))
            sev, msg = str(rec["error_severity"]), str(rec["message"])
            detail = rec.get("detail")
            if "\\ud" in line or "\\uD" in line:  # JSON escapes can decode to lone surrogates
                session, msg = no_surrogates(session), no_surrogates(msg)
                detail = None if detail is None else no_surrogates(str(detail))
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            unparsed += 1
            continue
        parsed += 1
        who = (rec.get("dbname"), rec.get("user"), rec.get("application_name")) if filtering else None
        message(session, ts, sev, msg, None if detail is None else str(detail), who)
        if n % EVICT_EVERY == 0 and ts is not None:
            sink.evict_idle(ts)
    return {"lines": n, "parsed": parsed, "unparsed": unparsed}

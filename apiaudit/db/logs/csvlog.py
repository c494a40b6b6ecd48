"""The csvlog format (PostgreSQL docs "19.8.4. Using CSV-Format Log Output"): one CSV record per
message, quoted fields may span lines. Columns used: 0 log_time, 3 process_id, 5 session_id,
11 error_severity, 13 message, 14 detail
(and 2 database_name, 1 user_name, 22 application_name for --log-database/user/application)."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.timestamps import seconds

# A single statement may be megabytes long; the csv module's default field limit is 128 KiB.
csv.field_size_limit(1 << 30)
EVICT_EVERY = 100_000  # records


def parse(lines: Iterable[str], sink: Collector) -> dict[str, int]:
    reader = csv.reader(lines)
    message = sink.message
    filtering = sink.filter is not None  # columns 2 database_name, 1 user_name, 22 application_name
    records = unparsed = 0
    try:
        for row in reader:
            records += 1
            if len(row) < 14:
                if any(row):
                    unparsed += 1
                continue
            ts = seconds(row[0])
            who = (row[2], row[1], row[22] if len(row) > 22 else None) if filtering else None
            message(row[5] or row[3], ts, row[11], row[13], row[14] if len(row) > 14 and row[14] else None, who)
            if records % EVICT_EVERY == 0 and ts is not None:
                sink.evict_idle(ts)
    except csv.Error:
        unparsed += 1  # an unterminated quote at the end of a truncated file
    return {"lines": reader.line_num, "parsed": records - unparsed, "unparsed": unparsed}

"""The csvlog format (PostgreSQL docs "19.8.4. Using CSV-Format Log Output"): one CSV record per
message, quoted fields may span lines. Columns used: 0 log_time, 3 process_id, 5 session_id,
11 error_severity, 13 message, 14 detail
(and 2 database_name, 1 user_name, 22 application_name for --log-database/user/application)."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector
from apiaudit.db.logs.sources import MAX_LINE
from apiaudit.db.logs.timestamps import seconds

# A single statement may be megabytes long; the csv module's default field limit is 128 KiB. The bound
# keeps an unterminated quote from gathering the rest of a huge file into one field.
csv.field_size_limit(MAX_LINE)
EVICT_EVERY = 100_000  # records


def parse(lines: Iterable[str], sink: Collector) -> dict[str, int]:
    """``lines`` split on "\n" only (sources.Lines): a CR or LF inside a quoted field stays data.

    After a bad record (a CR outside quotes, a field over the limit, an over-long line skipped by the
    reader, a truncated final quote) the quoting state is unknown: a quoted value's next line could be
    read as a record of its own, i.e. forged. The rest of the file is then counted as unparsed, not read.
    """
    reader = csv.reader(lines)
    message = sink.message
    filtering = sink.filter is not None  # columns 2 database_name, 1 user_name, 22 application_name
    records = bad = tail = 0
    skipped = getattr(lines, "overlong", 0)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            tail = 1 + sum(1 for _ in lines)
            break
        if getattr(lines, "overlong", 0) != skipped:
            tail = 1 + sum(1 for _ in lines)
            break
        records += 1
        if len(row) < 14:
            if any(row):
                bad += 1
            continue
        ts = seconds(row[0])
        who = (row[2], row[1], row[22] if len(row) > 22 else None) if filtering else None
        message(row[5] or row[3], ts, row[11], row[13], row[14] if len(row) > 14 and row[14] else None, who)
        if records % EVICT_EVERY == 0 and ts is not None:
            sink.evict_idle(ts)
    return {"lines": reader.line_num + tail, "parsed": records - bad, "unparsed": bad + tail}

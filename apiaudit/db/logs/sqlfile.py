"""Plain ``.sql`` files: statements separated by ``;`` (outside quotes, comments and dollar quotes).

One file is one session with no timestamps: units of work split at BEGIN/COMMIT only. psql
meta-commands (lines starting with a backslash) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/|\$(\w*)\$.*?\$\1\$|;", re.S)
MAX_STATEMENT = 16 << 20  # characters held while looking for the closing ``;``


def parse(lines: Iterable[str], sink: Collector, session: str) -> dict[str, int]:
    n = parsed = unparsed = 0
    buf: list[str] = []
    size = 0
    for line in lines:
        n += 1
        if not buf and line.lstrip().startswith("\\"):
            continue
        buf.append(line)
        size += len(line)
        if ";" not in line and size < MAX_STATEMENT:
            continue
        text = "".join(buf)
        start = 0
        for m in _TOKENS.finditer(text):
            if m.group(0) == ";":
                parsed += _emit(sink, session, text[start:m.start()])
                start = m.end()
        rest = text[start:]
        if len(rest) >= MAX_STATEMENT:
            unparsed += 1
            rest = ""
        buf, size = ([rest], len(rest)) if rest.strip() else ([], 0)
    if buf:
        parsed += _emit(sink, session, "".join(buf))
    return {"lines": n, "parsed": parsed, "unparsed": unparsed}


def _emit(sink: Collector, session: str, statement: str) -> int:
    statement = statement.strip()
    if not statement or all(ln.lstrip().startswith("--") for ln in statement.splitlines()):
        return 0
    sink.statement(session, None, statement, None, None)
    return 1

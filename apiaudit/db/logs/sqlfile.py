"""Plain ``.sql`` files: statements separated by ``;`` (outside quotes, comments and dollar quotes).

One file is one session with no timestamps: units of work split at BEGIN/COMMIT only. psql
meta-commands (lines starting with a backslash) are skipped.

The scanner is one pass with a state carried from line to line, so every character is looked at a
bounded number of times: the work is linear in the size of the file whatever it holds (long runs of
quotes, unterminated strings, thousands of ``;`` inside literals). It follows PostgreSQL's lexer
(docs "4.1. Lexical Structure"): ``'…'`` with ``''``, ``E'…'`` with backslash escapes, ``"…"``,
``$tag$…$tag$`` (not after an identifier character: ``a$b$`` is a name), ``--`` comments ending at
CR or LF, and nested ``/* … */`` comments. Lines come split on ``\\n`` only (sources.Lines).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apiaudit.db.logs.collector import Collector

MAX_STATEMENT = 16 << 20  # characters held while looking for the closing ``;``

_CODE = re.compile(r"['\"$;]|--|/\*")  # what changes the state outside quotes and comments
_LINE_END = re.compile(r"[\r\n]")
_BLOCK = re.compile(r"/\*|\*/")
_ESTRING = re.compile(r"[\\']")
_DOLLAR = re.compile(r"\$(?:[^\W\d]\w*)?\$")
_IDENT_CHAR = re.compile(r"[\w$]")

_NORMAL, _STRING, _ESTR, _QUOTED, _BLOCKC, _DOLLARQ = range(6)


class _Scanner:
    """Carries the lexer state and the pending statement from one line to the next."""

    def __init__(self, sink: Collector, session: str) -> None:
        self.sink, self.session = sink, session
        self.state = _NORMAL
        self.depth = 0  # nesting of /* */ comments
        self.tag = ""  # the $tag$ that closes the current dollar quote
        self.pieces: list[str] = []
        self.size = 0
        self.code = False  # the pending statement holds something besides whitespace and comments
        self.dropped = False  # the pending statement grew past MAX_STATEMENT: not kept
        self.parsed = self.unparsed = 0

    def line(self, line: str) -> None:
        if self.state == _NORMAL and not self.code and line.lstrip().startswith("\\"):
            return  # a psql meta-command (\set, \copy ...) where a statement would start
        start = pos = 0
        end = len(line)
        while pos < end:
            pos = self._step(line, pos)
            if pos < 0:  # a ";" at -pos - 1: the statement ends there
                cut = -pos - 1
                self._keep(line[start:cut])
                self._emit()
                start = pos = cut + 1
        self._keep(line[start:])

    def _step(self, line: str, pos: int) -> int:
        """Advance through ``line`` from ``pos`` in the current state; ``-(i + 1)`` for a ``;`` at ``i``."""
        state = self.state
        if state == _NORMAL:
            m = _CODE.search(line, pos)
            stop = m.start() if m else len(line)
            if not self.code and line[pos:stop].strip():
                self.code = True
            if m is None:
                return len(line)
            tok = m.group()
            if tok == ";":
                return -stop - 1
            if tok == "--":
                m2 = _LINE_END.search(line, m.end())
                return m2.end() if m2 else len(line)
            if tok == "/*":
                self.state, self.depth = _BLOCKC, 1
                return m.end()
            self.code = True
            if tok == "'":
                e_string = stop > 0 and line[stop - 1] in "eE" and (stop < 2 or not _IDENT_CHAR.match(line, stop - 2))
                self.state = _ESTR if e_string else _STRING
            elif tok == '"':
                self.state = _QUOTED
            else:  # "$": a dollar quote, unless it is part of a name (a$b) or a parameter ($1)
                d = None if stop and _IDENT_CHAR.match(line, stop - 1) else _DOLLAR.match(line, stop)
                if d is None:
                    return m.end()
                self.state, self.tag = _DOLLARQ, d.group()
                return d.end()
            return m.end()
        if state in (_STRING, _QUOTED):
            quote = "'" if state == _STRING else '"'
            i = line.find(quote, pos)
            if i < 0:
                return len(line)
            if line.startswith(quote, i + 1):  # '' or "": an escaped quote
                return i + 2
            self.state = _NORMAL
            return i + 1
        if state == _ESTR:
            m = _ESTRING.search(line, pos)
            if m is None:
                return len(line)
            if m.group() == "\\":
                return m.end() + 1
            if line.startswith("'", m.end()):
                return m.end() + 1
            self.state = _NORMAL
            return m.end()
        if state == _BLOCKC:
            m = _BLOCK.search(line, pos)
            if m is None:
                return len(line)
            self.depth += 1 if m.group() == "/*" else -1
            if not self.depth:
                self.state = _NORMAL
            return m.end()
        i = line.find(self.tag, pos)  # _DOLLARQ
        if i < 0:
            return len(line)
        self.state = _NORMAL
        return i + len(self.tag)

    def finish(self) -> None:
        """The last statement may lack its ";"; one that ends inside a quote or comment is not SQL."""
        if self.state not in (_NORMAL, _BLOCKC) and self.code:
            self.unparsed += 1
            self.dropped = True
        self._emit()

    def _keep(self, text: str) -> None:
        if not text or self.dropped:
            return
        self.size += len(text)
        if self.size > MAX_STATEMENT:
            self.dropped, self.pieces = True, []
            self.unparsed += 1
            return
        self.pieces.append(text)

    def _emit(self) -> None:
        statement = "".join(self.pieces).strip()
        if self.code and not self.dropped and statement:
            self.sink.statement(self.session, None, statement, None, None)
            self.parsed += 1
        self.pieces, self.size, self.code, self.dropped = [], 0, False, False


def parse(lines: Iterable[str], sink: Collector, session: str) -> dict[str, int]:
    scanner = _Scanner(sink, session)
    n = 0
    for n, line in enumerate(lines, 1):  # noqa: B007
        scanner.line(line)
    scanner.finish()
    return {"lines": n, "parsed": scanner.parsed, "unparsed": scanner.unparsed}

"""From log messages to statements, sessions and units of work (shared by every log format).

Parsers call :meth:`Collector.message` once per server message (severity, text and DETAIL). The
collector reads the statement out of it (``statement:``, ``execute <name>:``, ``duration: … ms
statement:``), fingerprints it (each distinct raw text once), counts it into the workload and
appends it to its session's current unit of work. Units close at COMMIT/ROLLBACK, pool reset
statements (each statement of a multi-statement reset counts: asyncpg sends ``SELECT
pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`` as one string), idle gaps (absolute,
and relative to the session's own rhythm), a repeating request signature (a persistent autocommit
connection that runs the same handler again: the unit's first two statements come back) and
disconnection. A closed unit is analysed at once and dropped, so memory depends on the number of
open sessions, never on the size of the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from apiaudit.db.fingerprint import extract_tags, fingerprint
from apiaudit.db.logs.filters import LogFilter, Who, connection_who
from apiaudit.db.logs.units import Entry, PatternBook, shape_kind, unit_repeats

OWN_TAG = "/* apiaudit */"  # first on every statement apiaudit sends (apiaudit.db.connect.TAG)
# Pool check-in statements (asyncpg's Connection.reset, PgBouncer's server_reset_query, psycopg_pool's
# and SQLAlchemy's reset callbacks). ROLLBACK closes a unit anyway.
DEFAULT_RESETS = ("DISCARD ALL", "RESET ALL", "SELECT PG_ADVISORY_UNLOCK_ALL()", "DEALLOCATE ALL", "CLOSE ALL",
                  "UNLISTEN *", "SET SESSION AUTHORIZATION DEFAULT")
RHYTHM_FACTOR = 20.0  # an idle gap 20x the session's usual gap between statements ends a unit...
RHYTHM_FLOOR_S = 0.1  # ...when it is at least 100 ms (a request's statements follow each other within ms)
RHYTHM_GAPS = 16  # "usual": the lower quartile of the session's last 16 gaps (inter-request gaps are fewer)
SAMPLED_MIN_MS = 1.0  # the fastest statement logged with its duration took >= 1 ms: log_min_duration_statement > 0
MAX_UNIT = 20_000  # statements; a longer "unit" is analysed and restarted (a batch job, not a request)
MAX_RAW_CACHE = 50_000  # distinct raw statement texts remembered (extended protocol repeats them)
MAX_READ_KEYS = 200_000  # (query, parameters) counters kept for hot reads before lossy pruning
MAX_LIFETIMES = 100_000
MAX_LITERAL_SAMPLES = 3  # per query: raw texts with their literals, and logged parameter values
MAX_LITERAL_QUERIES = 2000
MAX_LITERAL_CHARS = 20_000


@dataclass(slots=True)
class _Query:
    fp: str
    sample: str
    kind: str
    read: bool  # a SELECT from tables (by key or not)
    calls: int = 0
    total_ms: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    literals: list[tuple[str, str | None]] = field(default_factory=list)  # (raw text, DETAIL parameters)


_OWN = _Query(fp="", sample="", kind="own", read=False)


@dataclass(slots=True)
class _Session:
    first_ts: float | None
    last_ts: float | None = None
    statements: int = 0
    unit: list[Entry] = field(default_factory=list)
    in_tx: bool = False
    tx_statements: int = 0
    tx_select: str | None = None  # fingerprint of the only statement so far, when a SELECT
    last: _Query | None = None  # the last statement, for log_duration's separate "duration:" line
    gaps: list[float] = field(default_factory=list)  # the last RHYTHM_GAPS gaps between its statements (s)
    head_again: int = -1  # where the unit's first statement came back (a new request, if its second follows)
    signature: tuple[str, str] | None = None  # the first two statements of this connection's requests


class Collector:
    def __init__(self, *, min_repeats: int = 5, idle_gap_ms: float = 1000.0,
                 reset_statements: tuple[str, ...] = DEFAULT_RESETS, keep: LogFilter | None = None) -> None:
        self.filter = keep
        self._who: dict[str, Who] = {}  # session -> what its connection line said (log_connections)
        self.min_repeats = min_repeats
        self.idle_gap_s = idle_gap_ms / 1000.0
        # Compared with each query's normalised sample, so "SELECT 'pool'" also matches "SELECT 'x'".
        self.resets = frozenset(fingerprint(s)[1].upper().rstrip("; ") for s in reset_statements)
        self.raw_resets = frozenset(_plain(s) for s in reset_statements)
        self.queries: dict[str, _Query] = {}
        self.kinds: dict[str, str] = {}
        self._raw: dict[str, _Query] = {}
        self._shapes: dict[str, _Query] = {}  # text with literals masked -> its query
        self.literal_queries: set[str] = set()
        self._sessions: dict[str, _Session] = {}
        self.book = PatternBook()
        self.single_tx: dict[str, int] = {}
        self.reads: dict[int, list[Any]] = {}  # parameter key -> [executions, fingerprint]
        self.lifetimes: list[float] = []
        self.per_session: list[int] = []
        self.client_sessions = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.counts: dict[str, int] = dict.fromkeys(
            ("units", "transactions", "durations", "server_errors", "bind_parse", "connections",
             "units_split", "units_signature", "units_rhythm", "plain_reads", "duration_statements",
             "filtered_out", "filter_unknown", "own_statements"), 0)
        self.min_duration_ms: float | None = None  # fastest statement logged with its duration
        self.other_severities: dict[str, int] = {}
        self.other_log = 0  # LOG messages that are neither statements nor known events
        self.other_samples: list[str] = []

    # -- messages -------------------------------------------------------------------------------
    def message(self, session: str, ts: float | None, sev: str, msg: str, detail: str | None,
                who: Who | None = None) -> None:
        if self.filter is not None and not self._wanted(session, msg, who):
            return
        if sev != "LOG":
            if sev == "ERROR":
                self.counts["server_errors"] += 1
            elif sev not in _KNOWN:
                self.other_severities[sev] = self.other_severities.get(sev, 0) + 1
            return
        if msg.startswith("statement: "):
            if (q := self.statement(session, ts, msg[11:], None, None)) is not None and q.read:
                self.counts["plain_reads"] += 1
        elif msg.startswith("execute "):
            if not msg.startswith("execute fetch from"):
                cut = msg.find(": ", 8)
                if cut > 0 and (q := self.statement(session, ts, msg[cut + 2:], detail, None)) is not None and q.read:
                    self.counts["plain_reads"] += 1
        elif msg.startswith("duration: "):
            self._duration(session, ts, msg, detail)
        elif msg.startswith(("parse ", "bind ")):
            self.counts["bind_parse"] += 1
        elif msg.startswith("connection authorized"):
            self.counts["connections"] += 1
            self._disconnect(session, "")  # a new connection: with %p only, a reused pid is a new session
        elif msg.startswith("disconnection: "):
            self._disconnect(session, msg)
        else:
            self.other_log += 1
            if len(self.other_samples) < 3 and ": " in msg[:40]:
                self.other_samples.append(msg[:60])

    def _wanted(self, session: str, msg: str, who: Who | None) -> bool:
        """Whether the message belongs to the filtered database/user/application; a field the prefix
        lacks is taken from the session's connection line, and a message nobody can place is kept."""
        assert self.filter is not None
        if msg.startswith("connection authorized"):
            if len(self._who) >= MAX_LIFETIMES:
                self._who.clear()
            self._who[session] = connection_who(msg)
        known = self._who.get(session)
        if known is not None:
            who = known if who is None else (who[0] or known[0], who[1] or known[1], who[2] or known[2])
            if msg.startswith("disconnection: "):
                del self._who[session]
        verdict = self.filter.keep(who or (None, None, None))
        if verdict is False:
            self.counts["filtered_out"] += 1
            return False
        if verdict is None and msg.startswith(("statement: ", "execute ", "duration: ")):
            self.counts["filter_unknown"] += 1
        return True

    def _duration(self, session: str, ts: float | None, msg: str, detail: str | None) -> None:
        end = msg.find(" ms", 10)
        try:
            ms = float(msg[10:end])
        except ValueError:
            return
        self.counts["durations"] += 1
        rest = msg[end + 3:]
        if rest.startswith("  statement: "):
            self._logged_with_duration(ms)
            self.statement(session, ts, rest[13:], None, ms)
        elif rest.startswith("  execute "):
            cut = rest.find(": ", 10)
            if cut > 0 and not rest.startswith("  execute fetch from"):
                self._logged_with_duration(ms)
                self.statement(session, ts, rest[cut + 2:], detail, ms)
        elif rest.startswith(("  parse ", "  bind ")):
            self.counts["bind_parse"] += 1
        elif not rest.strip():
            self._late_duration(session, ms)

    def _logged_with_duration(self, ms: float) -> None:
        """A statement whose text came with its duration (log_min_duration_statement): if no read is ever
        logged on its own and even the fastest took >= 1 ms, the log holds only the slow statements."""
        self.counts["duration_statements"] += 1
        if self.min_duration_ms is None or ms < self.min_duration_ms:
            self.min_duration_ms = ms

    @property
    def sampled(self) -> bool:
        return (self.counts["duration_statements"] > 0 and not self.counts["plain_reads"]
                and (self.min_duration_ms or 0.0) >= SAMPLED_MIN_MS)

    def _late_duration(self, session: str, ms: float) -> None:
        """log_duration's separate "duration: X ms" line belongs to the session's last statement."""
        st = self._sessions.get(session)
        if st is None or st.last is None:
            return
        q = st.last
        if q.kind not in _CONTROL and st.unit and st.unit[-1][0] == q.fp:
            fp, pk, _ = st.unit[-1]
            st.unit[-1] = (fp, pk, ms)
        q.total_ms = (q.total_ms or 0.0) + ms

    # -- statements -----------------------------------------------------------------------------
    def statement(self, session: str, ts: float | None, text: str, params: str | None,
                  ms: float | None) -> _Query:
        if text.startswith(OWN_TAG):  # apiaudit's own catalog queries and EXPLAINs: not the workload
            self.counts["own_statements"] += 1
            return _OWN
        q = self._raw.get(text)
        if q is None:
            q = self._shape(text)
        fp = q.fp
        if (len(q.literals) < MAX_LITERAL_SAMPLES and len(text) <= MAX_LITERAL_CHARS
                and len(self.literal_queries) < MAX_LITERAL_QUERIES):
            self._keep_literals(q, text, params)
        q.calls += 1
        if ms is not None:
            q.total_ms = (q.total_ms or 0.0) + ms
        st = self._sessions.get(session)
        if st is None:
            st = self._sessions[session] = _Session(first_ts=ts)
        elif ts is not None and st.last_ts is not None and not st.in_tx:
            self._gap(st, ts - st.last_ts, ts, q.fp)
        st.last_ts = ts
        st.statements += 1
        st.last = q
        kind = q.kind
        if kind in _CONTROL:
            self._control(st, kind)
            return q
        # The raw text (and parameters) identify the query *and* its values: one int keys both.
        pkey = hash(text) if params is None else hash((text, params))
        unit = st.unit
        unit.append((fp, pkey, ms))
        if st.in_tx:
            st.tx_statements += 1
            st.tx_select = fp if q.read and st.tx_statements == 1 else None
        elif len(unit) > 2:
            self._signature(st, unit, fp)
        if q.read:
            seen = self.reads.get(pkey)
            if seen is None:
                self._new_read(fp, pkey)
            else:
                seen[0] += 1
        if len(st.unit) >= MAX_UNIT:
            self.counts["units_split"] += 1
            self._close_unit(st)
        return q

    def _gap(self, st: _Session, gap: float, ts: float, fp: str) -> None:
        """Close the unit on an idle gap: the absolute one, or one far beyond the session's own rhythm
        (only with sub-second timestamps: with whole seconds every second boundary looks like a gap) —
        unless the statement after it repeats one of the last three (a loop that stalled, not a new request)."""
        gaps = st.gaps
        if gap > self.idle_gap_s:
            self._close_unit(st)
        elif (gap > RHYTHM_FLOOR_S and len(gaps) >= 4 and ts != int(ts)
              and all(e[0] != fp for e in st.unit[-3:])):
            usual = sorted(gaps)[len(gaps) // 4]
            if gap > RHYTHM_FACTOR * usual:
                self.counts["units_rhythm"] += 1
                self._close_unit(st)
        gaps.append(gap)
        if len(gaps) > RHYTHM_GAPS:
            del gaps[0]

    def _signature(self, st: _Session, unit: list[Entry], fp: str) -> None:
        """A persistent autocommit connection (Django CONN_MAX_AGE, a worker loop) logs nothing between
        requests: when the unit's first two statements come back in order, a new request began there."""
        last = len(unit) - 1
        sig = st.signature
        if sig is not None and fp == sig[1] and unit[last - 1][0] == sig[0]:
            again = True  # a request seen before starts here (even when a gap cut the unit mid-request)
        elif st.head_again == last - 1 and fp == unit[1][0]:
            again = True
            if last - 1 >= 3:  # learnt from requests of 3+ statements: a loop body is usually shorter
                st.signature = (unit[0][0], fp)
        else:
            again = False
        if again:
            rest = unit[last - 1:]
            st.unit = unit[:last - 1]
            self.counts["units_signature"] += 1
            self._close_unit(st)
            st.unit = rest
        elif fp == unit[0][0] and fp != unit[1][0]:
            st.head_again = last

    def _control(self, st: _Session, kind: str) -> None:
        """Transaction and pool statements: they delimit units of work and are not part of them."""
        if kind == "begin":
            self._close_unit(st)
            st.in_tx, st.tx_statements, st.tx_select = True, 0, None
        elif kind in ("commit", "rollback"):
            self._end_tx(st)
        elif kind == "reset":
            self._close_unit(st)

    def _shape(self, text: str) -> _Query:
        # Simple-protocol texts (Django, psycopg2, ClientCursor) carry their literals: each is new, and a
        # full fingerprint costs ~100 µs. Texts that differ only in quoted strings and numbers have the same
        # fingerprint, so one C-level substitution keys a cache of shapes (``$`` texts: see _raw).
        key = None if "$" in text else _LITERALS.sub("?", text)
        if key is not None:
            q = self._shapes.get(key)
            if q is not None:
                return q
        q = self._fingerprinted(text)
        if key is not None:
            if len(self._shapes) >= MAX_RAW_CACHE:
                self._shapes.clear()
            self._shapes[key] = q
        return q

    def _fingerprinted(self, text: str) -> _Query:
        fp, sample = fingerprint(text)
        q = self.queries.get(fp)
        if q is None:
            kind = shape_kind(sample, self.resets)
            if kind in ("other", "select") and self._is_reset(text):
                kind = "reset"
            q = self.queries[fp] = _Query(fp=fp, sample=sample, kind=kind, read=kind in ("keyread", "select"),
                                          tags=extract_tags(text))
            self.kinds[fp] = kind
        # Remember raw texts that come back verbatim: parameterised ones (extended protocol) and short
        # ones (BEGIN, COMMIT). Simple-protocol texts carry their literals and rarely repeat.
        if "$" in text or len(text) < 24:
            if len(self._raw) >= MAX_RAW_CACHE:
                self._raw.clear()
            self._raw[text] = q
        return q

    def _keep_literals(self, q: _Query, text: str, params: str | None) -> None:
        """A few real values per query: literal-based rules and EXPLAIN with logged parameters use them."""
        sample = (text, params) if params else (text, None) if text != q.sample else None
        if sample is not None and sample not in q.literals:
            q.literals.append(sample)
            self.literal_queries.add(q.fp)

    def _is_reset(self, text: str) -> bool:
        """Every statement of the text is a pool reset (``SELECT pg_advisory_unlock_all(); CLOSE ALL; …``)."""
        parts = [p for p in (_plain(part) for part in text.split(";")) if p]
        return bool(parts) and all(p in self.raw_resets or p in self.resets for p in parts)

    def _new_read(self, fp: str, pkey: int) -> None:
        if len(self.reads) >= MAX_READ_KEYS:  # lossy counting: forget the rare ones, keep the hot ones
            self.reads = {k: v for k, v in self.reads.items() if v[0] > 2}
        self.reads[pkey] = [1, fp]

    def _end_tx(self, st: _Session) -> None:
        if st.in_tx:
            self.counts["transactions"] += 1
            if st.tx_statements == 1 and st.tx_select is not None:
                self.single_tx[st.tx_select] = self.single_tx.get(st.tx_select, 0) + 1
        st.in_tx = False
        self._close_unit(st)

    def _close_unit(self, st: _Session) -> None:
        unit = st.unit
        if not unit:
            return
        self.counts["units"] += 1
        n = self.min_repeats
        # Cheap pre-check: a query repeated n times leaves at least n - 1 duplicates in the unit.
        if len(unit) >= n and len(unit) - len({e[0] for e in unit}) >= n - 1:
            for child, parent, repeats, ms in unit_repeats(unit, self.kinds, self.min_repeats):
                self.book.add(child, parent, repeats, ms)
        st.unit = []
        st.head_again = -1

    # -- sessions -------------------------------------------------------------------------------
    def _disconnect(self, session: str, msg: str) -> None:
        st = self._sessions.pop(session, None)
        if st is not None:
            self._retire(st, _session_time_ms(msg))

    @property
    def n_statements(self) -> int:
        return sum(q.calls for q in self.queries.values())

    @property
    def n_reads(self) -> int:
        """Executions of SELECTs from tables (by key or not)."""
        return sum(q.calls for q in self.queries.values() if q.read)

    def _retire(self, st: _Session, lifetime_ms: float | None = None) -> None:
        self._close_unit(st)
        if st.first_ts is not None and (self.first_ts is None or st.first_ts < self.first_ts):
            self.first_ts = st.first_ts
        if st.last_ts is not None and (self.last_ts is None or st.last_ts > self.last_ts):
            self.last_ts = st.last_ts
        if st.statements == 0:
            return
        self.client_sessions += 1
        if len(self.per_session) < MAX_LIFETIMES:
            self.per_session.append(st.statements)
            if lifetime_ms is None and st.first_ts is not None and st.last_ts is not None:
                lifetime_ms = (st.last_ts - st.first_ts) * 1000.0
            if lifetime_ms is not None:
                self.lifetimes.append(lifetime_ms)

    def evict_idle(self, now: float, idle_s: float = 600.0) -> None:
        """Retire sessions silent for ``idle_s``: bounds memory on logs with millions of sessions."""
        stale = [k for k, st in self._sessions.items()
                 if st.last_ts is not None and now - st.last_ts > idle_s]
        for key in stale:
            self._retire(self._sessions.pop(key))

    def finish(self) -> None:
        for st in self._sessions.values():
            self._retire(st)
        self._sessions.clear()

    def session_summary(self) -> tuple[int, float, float | None, float | None]:
        med_stmts = float(median(self.per_session)) if self.per_session else 0.0
        med_life = float(median(self.lifetimes)) if self.lifetimes else None
        span = None if self.first_ts is None or self.last_ts is None else self.last_ts - self.first_ts
        return self.client_sessions, med_stmts, med_life, span


# Quoted strings ('it''s', E'…' keeps its E), and numbers that stand alone (not the 1 of title_1).
_LITERALS = re.compile(r"'(?:[^']|'')*'|(?<![\w.])\d+(?:\.\d+)?(?![\w.])")
_CONTROL = frozenset({"begin", "commit", "rollback", "reset", "savepoint"})
_KNOWN = frozenset({"DETAIL", "STATEMENT", "HINT", "CONTEXT", "WARNING", "FATAL", "PANIC", "NOTICE", "INFO",
                    "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "LOCATION", "QUERY"})


def _plain(sql: str) -> str:
    """Upper case, single spaces, no trailing semicolon: how reset statements are compared."""
    return " ".join(sql.split()).upper().rstrip("; ")


def _session_time_ms(msg: str) -> float | None:
    """``disconnection: session time: 0:00:01.234 user=…`` → ms."""
    at = msg.find("session time: ")
    if at < 0:
        return None
    try:
        h, m, s = msg[at + 14:].split(" ", 1)[0].split(":")
        return (int(h) * 3600 + int(m) * 60 + float(s)) * 1000.0
    except ValueError:
        return None

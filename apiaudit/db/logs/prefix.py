"""``log_line_prefix`` → a regex for the stderr log, and detection of the common prefixes.

The escapes are PostgreSQL's (docs: "19.8.3. What to Log", log_line_prefix). Grouping statements
into sessions needs ``%c`` (session id) or ``%p`` (process id); ordering and idle gaps need a
timestamp (``%m``, ``%t`` or ``%n``). ``%q`` ends the part that non-session processes omit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Message severities as PostgreSQL prints them with lc_messages = C.
ENGLISH_SEVERITIES = frozenset({
    "LOG", "ERROR", "DETAIL", "STATEMENT", "HINT", "CONTEXT", "WARNING", "FATAL", "PANIC", "NOTICE",
    "INFO", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "LOCATION", "QUERY",
})

_ESCAPES: dict[str, str] = {
    "m": r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+(?: [A-Za-z0-9+\-:]+)?)",
    "t": r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z0-9+\-:]+)?)",
    "n": r"(?P<epoch>\d+(?:\.\d+)?)",
    "p": r"(?P<pid>\d+)",
    "c": r"(?P<session>[0-9a-f]+\.[0-9a-f]+)",
    "x": r"(?P<xid>\d+)",
    "v": r"(?:\d+/\d+)?",
    "l": r"\d+",
    "s": r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Za-z0-9+\-:]+)?",
    "e": r"[0-9A-Z]{5}",
    "Q": r"-?\d+",
    # "[unknown]" before authentication (log_connections' "connection received" line), "[local]" for a
    # Unix-socket client: both are bracketed, so a bracket-free pattern alone would reject those lines.
    "u": r"(?P<user>\[unknown\]|[^\s@,:\[\]]*)",
    "d": r"(?P<db>\[unknown\]|[^\s@,:\[\]]*)",
    "a": r"(?P<app>\[unknown\]|[^\[\]]*?)",
    "r": r"(?:\[local\]|[^\s\[\]]*?)",
    "h": r"(?:\[local\]|[^\s\[\]]*?)",
    "i": r"[^\[\]]*?",
    "b": r"[^\[\]]*?",
    "%": "%",
}

# Prefixes seen in the wild, most specific first: this project's test clusters, Debian's default (and
# its 9.x one), pgBadger's recommendation, Cloud SQL, Amazon RDS/Aurora, Azure, bare timestamp + pid,
# and no prefix at all. Any other one: --log-prefix.
COMMON_PREFIXES: tuple[str, ...] = (
    "%m [%p] %c %x %q%u@%d ",
    "%m [%p] %q%u@%d ",
    "%t [%p-%l] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%m [%p]: [%l-1] db=%d,user=%u ",
    "%t [%p]: [%l-1] ",
    "%t:%r:%u@%d:[%p]:",
    "%m:%r:%u@%d:[%p]:",
    "%t-%c-",
    "%m-%c-",
    "%m [%p] %c ",
    "%m %c ",
    "%m [%p] ",
    "%t [%p] ",
    "%m [%p]: ",
    "%t [%p]: ",
    "",  # log_line_prefix = '': statements are readable, grouping is not
)

_PADDING = re.compile(r"%(-?\d+)?([A-Za-z%])?")
_MESSAGE = r"(?P<sev>[^\W\d_][^\W_]*):  (?P<msg>.*)"


@dataclass(frozen=True)
class Prefix:
    text: str
    regex: re.Pattern[str]
    has_time: bool
    has_session: bool  # %c
    has_pid: bool

    @property
    def can_group(self) -> bool:
        return self.has_time and (self.has_session or self.has_pid)

    def missing(self) -> str | None:
        """What grouping statements into units of work needs and this prefix lacks, in words."""
        lacks = []
        if not self.has_time:
            lacks.append("a timestamp (%m or %t)")
        if not (self.has_session or self.has_pid):
            lacks.append("a session or process id (%c or %p)")
        if not lacks:
            return None
        return f"log_line_prefix {self.text!r} lacks " + " and ".join(lacks)


def compile_prefix(text: str) -> Prefix:
    """Translate a ``log_line_prefix`` into a regex matching one log line's header and message."""
    out: list[str] = []
    optional_from: int | None = None
    seen: set[str] = set()
    i = 0
    while i < len(text):
        ch = text[i]
        pad = _PADDING.match(text, i)
        if pad and pad.group(2):
            esc, padded = pad.group(2), bool(pad.group(1))
            i = pad.end()
            if esc == "q":
                optional_from = len(out)
                continue
            pattern = _ESCAPES.get(esc, r"\S*?")
            if "(?P<" in pattern and esc in seen:  # a repeated escape: only the first one captures
                pattern = re.sub(r"\(\?P<\w+>", "(?:", pattern)
            seen.add(esc)
            # %-10u / %10u pad the value with spaces (docs: "numeric literal ... padding").
            out.append(r" *" + pattern + r" *" if padded else pattern)
            continue
        # A literal space is one space: "\s+" would cost a little on every line of a large log.
        out.append(" " if ch == " " else re.escape(ch))
        i += 1
    if optional_from is not None:
        out[optional_from:] = ["(?:" + "".join(out[optional_from:]) + ")?"]
    regex = re.compile("^" + "".join(out) + _MESSAGE)
    return Prefix(text=text, regex=regex, has_time=bool(seen & {"m", "t", "n"}), has_session="c" in seen,
                  has_pid="p" in seen)


def detect_prefix(lines: list[str]) -> Prefix | None:
    """The common prefix matching the most header lines (ties: the more specific one), or None."""
    headers = [ln for ln in lines if ln and not ln.startswith("\t")]
    if not headers:
        return None
    best: tuple[int, int, Prefix] | None = None
    for rank, text in enumerate(COMMON_PREFIXES):
        prefix = compile_prefix(text)
        hits = sum(1 for ln in headers if prefix.regex.match(ln))
        if hits and (best is None or hits > best[0]):
            best = (hits, -rank, prefix)
    if best is None or best[0] * 2 < len(headers):
        return None
    return best[2]

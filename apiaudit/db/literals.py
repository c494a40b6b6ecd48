"""Real values of a workload query, from the log: raw texts with their literals, and extended-protocol
texts with the ``DETAIL:  parameters: $1 = '42', $2 = NULL`` the server logged for them.

Normalised samples carry ``$n`` only, so rules that need a value (a leading-wildcard LIKE pattern, a
deep OFFSET) and EXPLAIN with real values (as Dexter does) read these instead.
"""

from __future__ import annotations

import re
from typing import Any

_PARAM_VALUE = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
_PLACEHOLDER = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\d+)""")


def parse_parameters(detail: str) -> dict[int, str]:
    """``$1 = '42', $2 = NULL`` → {1: "'42'", 2: "NULL"} (SQL literals, quotes kept)."""
    return {int(n): value for n, value in _PARAM_VALUE.findall(detail)}


def bind(text: str, detail: str) -> str | None:
    """The statement with its logged parameter values in place of ``$n``; None if one is missing."""
    values = parse_parameters(detail)
    missing = False

    def put(m: re.Match[str]) -> str:
        nonlocal missing
        if m.group(1) is None:
            return m.group()
        value = values.get(int(m.group(1)))
        if value is None:
            missing = True
            return m.group()
        return value

    out = _PLACEHOLDER.sub(put, text)
    return None if missing else out


def literal_texts(ev: Any, fingerprint: str) -> list[str]:
    """The query with real values, as logged (up to a few texts); [] when only ``$n`` shapes are known."""
    logs = getattr(ev, "logs", None)
    samples = getattr(logs, "literal_samples", None) or {}
    out = []
    for text, detail in samples.get(fingerprint, []):
        bound = bind(text, detail) if detail else text
        if bound is not None and not any(m.group(1) for m in _PLACEHOLDER.finditer(bound)):
            out.append(bound)
    return out

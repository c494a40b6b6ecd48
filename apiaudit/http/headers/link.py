"""Link (RFC 8288 §3): ``<target>; rel="next"; title="x", <other>; rel=prev``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin


@dataclass(frozen=True)
class Link:
    target: str
    rels: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)


def parse_links(value: str | None, *, base: str = "") -> list[Link]:
    """Parse a (combined) Link field; malformed link-values are skipped, never raised.

    Relation types are compared case-insensitively (§2.1.1); targets are resolved against ``base``
    (§3.1: relative to the request URL).
    """
    if not value:
        return []
    out: list[Link] = []
    i, n = 0, len(value)
    while i < n:
        start = value.find("<", i)
        if start < 0:
            break
        end = value.find(">", start)
        if end < 0:
            break
        target = value[start + 1:end].strip()
        params, i = _params(value, end + 1)
        rels = tuple(r.lower() for r in params.get("rel", "").split())
        resolved = join_url(base, target) if base else target
        if resolved is not None:
            out.append(Link(resolved, rels, params))
    return out


def _params(value: str, i: int) -> tuple[dict[str, str], int]:
    """Read ``; name[=value]`` pairs up to the next top-level comma; returns (params, next index)."""
    params: dict[str, str] = {}
    n = len(value)
    while i < n:
        while i < n and value[i] in " \t":
            i += 1
        if i >= n:
            break
        if value[i] == ",":
            return params, i + 1
        if value[i] != ";":
            i += 1
            continue
        i += 1
        name_start = i
        while i < n and value[i] not in "=;,":
            i += 1
        name = value[name_start:i].strip().lower().rstrip("*")
        text = ""
        if i < n and value[i] == "=":
            text, i = _param_value(value, i + 1)
        if name and name not in params:  # §3.3: only the first rel is used
            params[name] = text
    return params, i


def _param_value(value: str, i: int) -> tuple[str, int]:
    n = len(value)
    while i < n and value[i] in " \t":
        i += 1
    if i < n and value[i] == '"':
        out = []
        i += 1
        while i < n and value[i] != '"':
            if value[i] == "\\" and i + 1 < n:
                i += 1
            out.append(value[i])
            i += 1
        return "".join(out), i + 1
    start = i
    while i < n and value[i] not in ";,":
        i += 1
    return value[start:i].strip(), i


def join_url(base: str, ref: str) -> str | None:
    """``urljoin`` that returns None instead of raising on a malformed reference (``http://[::1``)."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return None


def next_link(value: str | None, *, base: str = "") -> str | None:
    """The target of the first ``rel=next`` link, resolved against ``base``."""
    for link in parse_links(value, base=base):
        if "next" in link.rels:
            return link.target
    return None

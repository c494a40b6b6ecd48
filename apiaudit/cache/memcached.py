"""Collect evidence from a Memcached server: read-only and bounded.

Commands sent: ``stats``, ``stats settings`` (pymemcache) and, to see keys and their expiry,
``lru_crawler metadump all`` read for at most ``Limits.dump_lines`` lines and ``time_cap_s`` seconds
(then the connection is closed, which stops the dump). Without metadump (disabled, or an old server)
the TTL strategy cannot be judged and a notice says so.
"""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError

from apiaudit.cache.evidence import CacheEvidence, KeySample, display_key, key_prefix
from apiaudit.cache.limits import Limits
from apiaudit.cache.redis import public_url
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text

DEFAULT_PORT = 11211


def collect_memcached(url: str, limits: Limits) -> CacheEvidence:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORT
    ev = CacheEvidence(server=public_url(url), engine="memcached")
    client = Client((host, port), connect_timeout=limits.timeout_s, timeout=limits.timeout_s)
    try:
        stats = _decode(client.stats())
        settings = _decode(client.stats("settings"))
    except (OSError, MemcacheError) as exc:
        what = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else "cannot connect"
        raise AuditError(f"{ev.server}: {what}: {redact_text(str(exc) or type(exc).__name__)}") from None
    finally:
        client.close()
    _read_stats(ev, stats, settings)
    _metadump(host, port, ev, limits, now=_int(stats, "time"))
    return ev


def _decode(raw: dict[Any, Any]) -> dict[str, Any]:
    return {(k.decode() if isinstance(k, bytes) else str(k)): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}


def _int(stats: dict[str, Any], key: str) -> int | None:
    value = stats.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _read_stats(ev: CacheEvidence, stats: dict[str, Any], settings: dict[str, Any]) -> None:
    ev.version = str(stats.get("version", ""))
    ev.uptime_s = _int(stats, "uptime")
    ev.hits, ev.misses = _int(stats, "get_hits"), _int(stats, "get_misses")
    ev.evicted_keys = _int(stats, "evictions")
    ev.expired_keys = _int(stats, "expired_unfetched")
    ev.used_memory, ev.maxmemory = _int(stats, "bytes"), _int(stats, "limit_maxbytes")
    # memcached -M turns evictions off: a full cache then answers SERVER_ERROR out of memory.
    ev.policy = "noeviction" if str(settings.get("evictions", "on")) == "off" else "lru"
    ev.connected_clients = _int(stats, "curr_connections")
    ev.maxclients = _int(settings, "maxconns") or _int(stats, "max_connections")
    ev.rejected_connections = _int(stats, "rejected_connections")
    ev.total_keys = _int(stats, "curr_items")


def _metadump(host: str, port: int, ev: CacheEvidence, limits: Limits, *, now: int | None) -> None:
    deadline = time.monotonic() + limits.time_cap_s
    try:
        lines, complete = _read_dump(host, port, limits, deadline)
    except OSError as exc:
        lines, complete = [f"ERROR {exc}"], False
    if lines and (lines[0].startswith(("ERROR", "CLIENT_ERROR", "SERVER_ERROR", "BUSY"))):
        ev.ttl_visible = False
        ev.sizes_visible = False
        ev.notices.append("lru_crawler metadump is not available on this server: the TTL strategy cannot be "
                          f"judged ({redact_text(lines[0][:120])})")
        return
    ev.sample_complete = complete
    if not complete:
        ev.notices.append(f"metadump stopped after {len(lines)} keys "
                          f"(sample cap or {limits.time_cap_s:g} s time cap)")
    for line in lines:
        sample = _parse_line(line, now)
        if sample is not None:
            ev.keys.append(sample)


def _read_dump(host: str, port: int, limits: Limits, deadline: float) -> tuple[list[str], bool]:
    """Read at most ``limits.dump_lines`` metadump lines; closing the socket early ends the dump."""
    lines: list[str] = []
    buf = b""
    with socket.create_connection((host, port), timeout=limits.timeout_s) as sock:
        sock.sendall(b"lru_crawler metadump all\r\n")
        while len(lines) < limits.dump_lines and time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")  # metadump ends item lines with \n, END with \r\n
            for raw in done:
                text = raw.rstrip(b"\r").decode("utf-8", "replace")
                if text == "END":
                    return lines, True
                lines.append(text)
                if text.startswith(("ERROR", "CLIENT_ERROR", "SERVER_ERROR", "BUSY")):
                    return lines, False
    return lines[: limits.dump_lines], False


def _parse_line(line: str, now: int | None) -> KeySample | None:
    fields = dict(part.split("=", 1) for part in line.split() if "=" in part)
    if "key" not in fields:
        return None
    name = unquote(fields["key"])
    exp = int(fields.get("exp", "-1"))
    # exp is an absolute unix time (-1 = never); the server's own clock ("stats time") gives the rest.
    ttl = None if exp < 0 else float(max(exp - (now or exp), 0))
    size = fields.get("size")
    return KeySample(key=display_key(name), prefix=key_prefix(name), type="item", ttl_s=ttl,
                     size_bytes=int(size) if size and size.isdigit() else None)

"""Collect evidence from a Memcached server: read-only and bounded.

Commands sent: ``stats``, ``stats settings`` and, to see keys and their expiry,
``lru_crawler metadump all`` read for at most ``Limits.dump_lines`` lines and ``time_cap_s`` seconds
(then the connection is closed, which stops the dump). Without metadump (disabled, or an old server)
the TTL strategy cannot be judged and a notice says so.

The ASCII protocol is spoken over a plain socket so that every reply is bounded in bytes and in time:
each read waits at most ``timeout_s`` and never past the command's deadline, a ``stats`` reply is cut
at ``MAX_REPLY_BYTES`` and a metadump line at ``MAX_LINE_BYTES`` (a peer sending STAT lines or one
line for ever cannot hold the audit or grow its memory).
"""

from __future__ import annotations

import socket
import time
from urllib.parse import unquote, urlsplit

from apiaudit.cache.evidence import CacheEvidence, KeySample, display_key, key_prefix
from apiaudit.cache.limits import Limits
from apiaudit.cache.redis import public_url
from apiaudit.deadline import DEFAULT_DEADLINE_S, Deadline
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text

DEFAULT_PORT = 11211
MAX_REPLY_BYTES = 1 << 20  # a real ``stats`` reply is a few KiB
MAX_LINE_BYTES = 64 * 1024  # a metadump line is under 1 KiB (key names are at most 250 bytes)
_FAILED = (b"ERROR", b"CLIENT_ERROR", b"SERVER_ERROR")


class ReplyError(Exception):
    """The server's reply broke a bound or the protocol."""


def collect_memcached(url: str, limits: Limits, deadline: Deadline | None = None) -> CacheEvidence:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORT
    ev = CacheEvidence(server=public_url(url), engine="memcached")
    deadline = deadline or Deadline(DEFAULT_DEADLINE_S["cache"])
    try:
        with socket.create_connection((host, port), timeout=_wait(limits, deadline)) as sock:
            stats = _stats(sock, b"stats", limits, deadline)
            settings = _stats(sock, b"stats settings", limits, deadline, optional=True)
    except (OSError, ReplyError) as exc:
        if deadline.expired():
            what = deadline.reached("while reading stats")
        else:
            what = "timed out" if isinstance(exc, TimeoutError) else "cannot connect"
        raise AuditError(f"{ev.server}: {what}: {redact_text(str(exc) or type(exc).__name__)}") from None
    _read_stats(ev, stats, settings)
    _metadump(host, port, ev, limits, deadline, now=_int(stats, "time"))
    return ev


def _wait(limits: Limits, deadline: Deadline) -> float:
    """One read's timeout: ``timeout_s``, never past the deadline."""
    if deadline.expired():
        raise TimeoutError(deadline.reached("(no time left)"))
    return max(0.01, deadline.cap(limits.timeout_s))


def _stats(sock: socket.socket, command: bytes, limits: Limits, deadline: Deadline,
           optional: bool = False) -> dict[str, str]:
    """``STAT name value`` lines up to ``END``, bounded in bytes and time."""
    sock.sendall(command + b"\r\n")
    buf = b""
    while not (buf == b"END\r\n" or buf.endswith(b"\r\nEND\r\n")):
        if buf.startswith(_FAILED) and buf.endswith(b"\r\n"):
            if optional:
                return {}
            raise ReplyError(f"'{command.decode()}' failed: {buf[:120].decode('utf-8', 'replace').strip()}")
        sock.settimeout(_wait(limits, deadline))
        chunk = sock.recv(65536)
        if not chunk:
            raise ReplyError(f"connection closed during '{command.decode()}'")
        buf += chunk
        if len(buf) > MAX_REPLY_BYTES:
            raise ReplyError(f"'{command.decode()}' reply over {MAX_REPLY_BYTES} bytes without END")
    out = {}
    for line in buf.decode("utf-8", "replace").split("\r\n"):
        kind, _, rest = line.partition(" ")
        if kind == "STAT":
            name, _, value = rest.partition(" ")
            out[name] = value
    return out


def _int(stats: dict[str, str], key: str) -> int | None:
    value = stats.get(key)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _read_stats(ev: CacheEvidence, stats: dict[str, str], settings: dict[str, str]) -> None:
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


def _metadump(host: str, port: int, ev: CacheEvidence, limits: Limits, deadline: Deadline, *,
              now: int | None) -> None:
    try:
        lines, complete = _read_dump(host, port, limits, deadline)
    except ReplyError as exc:
        ev.sample_complete = False
        ev.notices.append(f"metadump stopped: {exc}")
        return
    except OSError as exc:
        if deadline.expired():
            ev.sample_complete = False
            ev.notices.append(deadline.reached("while reading the metadump: keys not sampled"))
            return
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


def _read_dump(host: str, port: int, limits: Limits, deadline: Deadline) -> tuple[list[str], bool]:
    """Read at most ``limits.dump_lines`` metadump lines; closing the socket early ends the dump."""
    lines: list[str] = []
    buf = b""
    ends = min(time.monotonic() + limits.time_cap_s, deadline.ends)
    with socket.create_connection((host, port), timeout=_wait(limits, deadline)) as sock:
        sock.sendall(b"lru_crawler metadump all\r\n")
        while len(lines) < limits.dump_lines and time.monotonic() < ends:
            sock.settimeout(max(0.01, min(limits.timeout_s, ends - time.monotonic())))
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
            if len(buf) > MAX_LINE_BYTES and b"\n" not in buf:
                raise ReplyError(f"a metadump line over {MAX_LINE_BYTES} bytes (not memcached's format) "
                                 f"after {len(lines)} keys")
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

"""Collect evidence from a Redis server: read-only and bounded.

Commands sent: AUTH/SELECT (from the URL), INFO all, CONFIG GET (maxmemory, maxmemory-policy,
maxclients), SCAN with COUNT, and pipelined TYPE / PTTL / MEMORY USAGE / OBJECT FREQ on sampled
keys. Never KEYS, never a write. A command refused by an ACL (NOPERM) becomes a notice.

Bounds: every socket read has ``timeout_s``; the whole collection has the command's deadline, enforced
by a watchdog that shuts the sockets down (a peer trickling one byte per second never trips a per-read
timeout). Keys are inspected one SCAN batch at a time and only a bounded prefix of each name is kept
(``NAME_KEEP`` bytes): a server holding keys with multi-MiB names costs one batch of memory, not the
whole sample.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import socket
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis import exceptions as rex
from redis.backoff import NoBackoff
from redis.retry import Retry

from apiaudit.cache.evidence import CacheEvidence, KeySample, display_key, key_prefix
from apiaudit.cache.limits import Limits
from apiaudit.deadline import DEFAULT_DEADLINE_S, Deadline, Watchdog
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text, register_secret

_LFU_POLICIES = ("allkeys-lfu", "volatile-lfu")
TYPED_KEYS = 20  # TYPE is asked for the largest sampled keys only
NAME_KEEP = 200  # bytes of a key name kept for the report (the rest is "…(N bytes)")
NAME_WHOLE = 1024  # names up to this long are kept whole until TYPE; longer ones are TYPEd in their batch
BATCH_NAME_BYTES = 1 << 20  # a SCAN batch with more name bytes than this: ask for one key per SCAN from then on


def public_url(url: str) -> str:
    """The URL without user info (user names are no secret, but passwords are)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def collect_redis(url: str, limits: Limits, deadline: Deadline | None = None) -> CacheEvidence:
    parts = urlsplit(url)
    if parts.password:
        register_secret(parts.password)
    ev = CacheEvidence(server=public_url(url), engine="redis")
    deadline = deadline or Deadline(DEFAULT_DEADLINE_S["cache"])
    client = redis.Redis.from_url(url, **_client_kwargs(limits, deadline))
    try:
        with Watchdog(deadline, lambda: _cut(client)):
            try:
                info = _info(client, ev)
                _read_info(ev, info, _db_index(parts.path))
                _config(client, ev)
            except AuditError:
                if deadline.expired():
                    raise AuditError(f"{ev.server}: {deadline.reached('while reading INFO/CONFIG')}") from None
                raise
            _sample(client, ev, limits, deadline)
    finally:
        client.close()
    return ev


def _cut(client: redis.Redis) -> None:
    """Shut every socket of the client down: a read blocked on a trickling peer returns at once."""
    pool = client.connection_pool
    conns = [*getattr(pool, "_available_connections", []), *getattr(pool, "_in_use_connections", [])]
    for conn in conns:
        sock = getattr(conn, "_sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _client_kwargs(limits: Limits, deadline: Deadline) -> dict[str, Any]:
    """RESP2 (no HELLO: works on Redis < 6 too) and no CLIENT SETINFO: only the commands listed above."""
    timeout = max(0.05, deadline.cap(limits.timeout_s))
    kwargs: dict[str, Any] = {
        "socket_timeout": timeout, "socket_connect_timeout": timeout,
        "decode_responses": False, "retry_on_timeout": False, "protocol": 2,
        "retry": Retry(NoBackoff(), 0),  # one attempt: a down server is reported, not hammered
    }
    if "driver_info" in inspect.signature(redis.Redis.__init__).parameters:
        kwargs["driver_info"] = None  # redis-py >= 8: explicit None disables CLIENT SETINFO
    else:
        kwargs.update(lib_name=None, lib_version=None)
    return kwargs


def _db_index(path: str) -> int:
    text = path.strip("/")
    return int(text) if text.isdigit() else 0


def _fail(ev: CacheEvidence, exc: Exception) -> AuditError:
    if isinstance(exc, rex.AuthenticationError):
        what = "authentication failed"
    elif isinstance(exc, rex.TimeoutError):
        what = "timed out"
    else:
        what = "cannot connect"
    return AuditError(f"{ev.server}: {what}: {redact_text(str(exc))}")


def _info(client: redis.Redis, ev: CacheEvidence) -> dict[str, Any]:
    try:
        return dict(client.info("all"))
    except rex.NoPermissionError:
        ev.notices.append("INFO is not permitted for this user: hit rate, memory and connections "
                          "cannot be judged")
        return {}
    except (rex.ConnectionError, rex.TimeoutError) as exc:
        raise _fail(ev, exc) from None
    except rex.ResponseError as exc:  # e.g. NOAUTH, or a proxy that does not implement INFO
        if "auth" in str(exc).lower():
            raise AuditError(f"{ev.server}: authentication failed: {redact_text(str(exc))}") from None
        ev.notices.append(f"INFO failed: {redact_text(str(exc))}")
        return {}


def _int(info: dict[str, Any], key: str) -> int | None:
    value = info.get(key)
    return int(value) if isinstance(value, (int, float)) else None


def _read_info(ev: CacheEvidence, info: dict[str, Any], db: int) -> None:
    ev.version = str(info.get("redis_version", ""))
    ev.uptime_s = _int(info, "uptime_in_seconds")
    ev.hits, ev.misses = _int(info, "keyspace_hits"), _int(info, "keyspace_misses")
    ev.evicted_keys, ev.expired_keys = _int(info, "evicted_keys"), _int(info, "expired_keys")
    ev.used_memory, ev.maxmemory = _int(info, "used_memory"), _int(info, "maxmemory")
    ev.policy = str(info["maxmemory_policy"]) if "maxmemory_policy" in info else None
    frag = info.get("mem_fragmentation_ratio")
    ev.fragmentation_ratio = float(frag) if isinstance(frag, (int, float)) else None
    ev.fragmentation_bytes = _int(info, "mem_fragmentation_bytes")
    ev.connected_clients, ev.maxclients = _int(info, "connected_clients"), _int(info, "maxclients")
    ev.rejected_connections = _int(info, "rejected_connections")
    ev.blocked_clients = _int(info, "blocked_clients")
    space = info.get(f"db{db}")
    if info:
        space = space if isinstance(space, dict) else {}
        ev.total_keys, ev.keys_with_expiry = int(space.get("keys", 0)), int(space.get("expires", 0))


def _config(client: redis.Redis, ev: CacheEvidence) -> None:
    """CONFIG GET is the authority where permitted; INFO already gave the same figures otherwise."""
    wanted = {"maxmemory": "maxmemory", "maxmemory-policy": "policy", "maxclients": "maxclients"}
    try:
        pipe = client.pipeline(transaction=False)
        for name in wanted:
            pipe.config_get(name)
        results = pipe.execute(raise_on_error=False)
    except (rex.ConnectionError, rex.TimeoutError) as exc:
        raise _fail(ev, exc) from None
    refused = [n for n, r in zip(wanted, results, strict=True) if isinstance(r, Exception)]
    if refused:
        ev.notices.append(f"CONFIG GET is not permitted for this user ({', '.join(refused)}); "
                          "figures from INFO")
    for attr, result in zip(wanted.values(), results, strict=True):
        if isinstance(result, dict) and result:
            raw = next(iter(result.values()))
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            setattr(ev, attr, text if attr == "policy" else int(text))
    ev.lfu = (ev.policy or "") in _LFU_POLICIES


def _sample(client: redis.Redis, ev: CacheEvidence, limits: Limits, deadline: Deadline) -> None:
    """SCAN batch by batch, each batch inspected at once; only bounded names are kept across batches."""
    ends = min(time.monotonic() + limits.time_cap_s, deadline.ends)
    refused: set[str] = set()
    found: list[tuple[bytes | None, KeySample]] = []
    seen: set[bytes] = set()  # 16-byte digests, not names: SCAN may return a key twice
    cursor, dropped, count = 0, False, limits.scan_count
    try:
        while True:
            cursor, batch = client.scan(cursor=cursor, count=count)
            new: list[bytes] = []
            for key in batch:
                key = key if isinstance(key, bytes) else str(key).encode()
                digest = hashlib.blake2b(key, digest_size=16).digest()
                if digest in seen:
                    continue
                if len(seen) >= limits.sample_keys:
                    dropped = True
                    continue
                seen.add(digest)
                new.append(key)
            if sum(len(k) for k in batch) > BATCH_NAME_BYTES:
                count = 1  # huge names: smaller batches keep memory to about one name at a time
            del batch
            found.extend(_inspect(client, ev, new, refused))
            del new
            if cursor == 0 and not dropped:
                ev.sample_complete = True
                break
            if len(seen) >= limits.sample_keys:
                ev.notices.append(f"key sample capped at {limits.sample_keys} keys (--sample-keys)")
                break
            if time.monotonic() > ends:
                why = "deadline" if deadline.expired() else f"{limits.time_cap_s:g} s time cap"
                ev.notices.append(f"SCAN stopped by the {why} after {len(seen)} keys")
                break
    except rex.NoPermissionError:
        ev.ttl_visible = False
        ev.notices.append("SCAN is not permitted for this user: TTL strategy and key sizes cannot be judged")
        return
    except (rex.ConnectionError, rex.TimeoutError, AuditError) as exc:
        if not deadline.expired():
            raise exc if isinstance(exc, AuditError) else _fail(ev, exc) from None
        ev.sample_complete = False
        ev.notices.append(deadline.reached(f"while sampling keys: {len(found)} keys inspected, the rest cut"))
    if not deadline.expired():
        ev.keys.extend(_with_types(client, ev, [(k, s) for k, s in found if k is not None], refused))
    else:
        ev.keys.extend(s for k, s in found if k is not None)
    ev.keys.extend(s for k, s in found if k is None)
    ev.sizes_visible = "memory" not in refused
    ev.ttl_visible = "pttl" not in refused
    for what in sorted(refused):
        ev.notices.append(f"{what.upper()} on sampled keys is not permitted for this user; skipped")


def shown_name(key: bytes) -> str:
    """At most ``NAME_KEEP`` bytes of a key name, then its length: never the whole of a huge name."""
    if len(key) <= NAME_KEEP:
        return key.decode("utf-8", "backslashreplace")
    return key[:NAME_KEEP].decode("utf-8", "backslashreplace") + f"…({len(key)} bytes)"


def _run(pipe: Any, ev: CacheEvidence) -> list[Any]:
    try:
        return list(pipe.execute(raise_on_error=False))
    except (rex.ConnectionError, rex.TimeoutError) as exc:
        raise _fail(ev, exc) from None


def _inspect(client: redis.Redis, ev: CacheEvidence, keys: list[bytes],
             refused: set[str]) -> list[tuple[bytes | None, KeySample]]:
    """PTTL and MEMORY USAGE (and OBJECT FREQ under LFU) per key, one pipeline per batch.

    They look keys up without touching LRU/LFU data, but Redis 7 counts PTTL, OBJECT FREQ and TYPE
    as keyspace hits (MEMORY USAGE not): INFO is read before sampling, and ``ev.audit_lookups`` says
    how many lookups the audit added to the counters for the next reader.

    Returned names are whole only up to ``NAME_WHOLE`` bytes (for TYPE later); longer ones get their
    TYPE now and come back as ``None``.
    """
    if not keys:
        return []
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.pttl(key)
        pipe.memory_usage(key)
        if ev.lfu:
            pipe.object("FREQ", key)
    results = _run(pipe, ev)
    step = 3 if ev.lfu else 2
    ev.audit_lookups += len(keys) * (step - 1)
    out: list[tuple[bytes, KeySample]] = []
    for i, key in enumerate(keys):
        pttl, size, *rest = results[i * step:(i + 1) * step]
        named = (("pttl", pttl), ("memory", size), ("object", rest[0] if rest else 0))
        refused.update(name for name, value in named if isinstance(value, rex.NoPermissionError))
        if not isinstance(pttl, int) or pttl == -2:  # gone between SCAN and PTTL, or refused
            continue
        name = shown_name(key)
        out.append((key, KeySample(
            key=display_key(name), prefix=key_prefix(name), type="unknown",
            ttl_s=None if pttl == -1 else pttl / 1000.0,
            size_bytes=size if isinstance(size, int) else None,
            freq=rest[0] if rest and isinstance(rest[0], int) else None,
        )))
    long = [pair for pair in out if len(pair[0]) > NAME_WHOLE]
    typed = iter(_with_types(client, ev, long, refused)) if long else iter(())
    return [(None, next(typed)) if len(k) > NAME_WHOLE else (k, sample) for k, sample in out]


def _with_types(client: redis.Redis, ev: CacheEvidence, found: list[tuple[bytes, KeySample]],
                refused: set[str]) -> list[KeySample]:  # same order as ``found``
    """TYPE only for the largest keys (the ones a report names), to keep added lookups low."""
    largest = sorted(range(len(found)), key=lambda i: -(found[i][1].size_bytes or 0))[:TYPED_KEYS]
    if not largest:
        return [k for _, k in found]
    pipe = client.pipeline(transaction=False)
    for i in largest:
        pipe.type(found[i][0])
    results = _run(pipe, ev)
    ev.audit_lookups += len(results)
    samples = [k for _, k in found]
    for i, typ in zip(largest, results, strict=True):
        if isinstance(typ, rex.NoPermissionError):
            refused.add("type")
        elif isinstance(typ, bytes):
            samples[i] = replace(samples[i], type=typ.decode())
    return samples

"""The cache audit entry point: collect from each server (IO), run the pure checks, assemble.

Read-only and bounded (see ``redis.py`` and ``memcached.py``). One unreachable server among several
becomes an error entry and the audit goes on; when no server could be audited at all the audit
raises :class:`AuditError` (exit 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from apiaudit.assemble import assemble, utc_now
from apiaudit.cache.availability import nothing_readable
from apiaudit.cache.evidence import CacheEvidence, RelatedEvidence
from apiaudit.cache.limits import Limits
from apiaudit.cache.stats import measurements
from apiaudit.checks import CheckContext, CheckRun, run_checks
from apiaudit.deadline import DEFAULT_DEADLINE_S, Deadline
from apiaudit.errors import AuditError, UsageError
from apiaudit.model import Report
from apiaudit.redact import redact_text
from apiaudit.targets import cache_url


@dataclass(frozen=True)
class CacheOptions:
    urls: list[str]
    limits: Limits = field(default_factory=Limits)
    min_lookups: int = 1000
    verbose: bool = False
    related: RelatedEvidence = field(default_factory=RelatedEvidence)
    deadline_s: float = DEFAULT_DEADLINE_S["cache"]

    @classmethod
    def from_cli(cls, cfg: Any, *, urls: list[str], sample_keys: int | None, verbose: bool = False,
                 related: RelatedEvidence | None = None, deadline_s: float | None = None) -> CacheOptions:
        given = urls or list(cfg.targets.get("cache") or [])
        if not given:
            raise UsageError("no cache URL given (apiaudit cache redis://host:6379/0, "
                             "or targets.cache in apiaudit.yaml)")
        section = cfg.cache or {}
        keys = sample_keys if sample_keys is not None else int(section.get("sample_keys", 1000))
        if keys < 0:
            raise UsageError("--sample-keys must not be negative")
        limits = Limits(
            sample_keys=keys, scan_count=max(1, int(section.get("scan_count", 100))),
            time_cap_s=float(section.get("time_cap_s", 5.0)), timeout_s=float(section.get("timeout_s", 5.0)),
        )
        checked = [cache_url(u) for u in given]
        for url in checked:
            parts = urlsplit(url)
            if parts.scheme == "memcached" and (parts.username or parts.password):
                # pymemcache speaks the ASCII protocol without SASL: credentials would be silently unused.
                raise UsageError(f"{redact_text(url)}: memcached:// does not take a user or password")
        return cls(urls=checked, limits=limits,
                   min_lookups=int(section.get("min_lookups", 1000)), verbose=verbose,
                   related=related or RelatedEvidence(),
                   deadline_s=deadline_s or float(section.get("deadline_s") or DEFAULT_DEADLINE_S["cache"]))


def collect(url: str, limits: Limits, deadline: Deadline | None = None) -> CacheEvidence:
    scheme = urlsplit(url).scheme
    if scheme == "memcached":
        from apiaudit.cache.memcached import collect_memcached

        return collect_memcached(url, limits, deadline)
    from apiaudit.cache.redis import collect_redis

    return collect_redis(url, limits, deadline)


def _collect_all(options: CacheOptions) -> tuple[list[CacheEvidence], list[dict[str, str]]]:
    found: list[CacheEvidence] = []
    errors: list[dict[str, str]] = []
    deadline = Deadline(options.deadline_s)
    for i, url in enumerate(options.urls):
        if deadline.expired():
            left = len(options.urls) - i
            errors.append({"where": "deadline", "message": deadline.reached(
                f"after {i} of {len(options.urls)} cache servers (--deadline / cache.deadline_s): "
                f"{left} not audited")})
            break
        try:
            ev = collect(url, options.limits, deadline.share(len(options.urls) - i))
        except AuditError as exc:
            errors.append({"where": "cache", "message": redact_text(str(exc))})
            continue
        except Exception as exc:  # an unexpected server reply must not end the whole audit
            errors.append({"where": "cache", "message": redact_text(f"{type(exc).__name__}: {exc}")})
            continue
        errors.extend({"where": f"cache {ev.server}", "message": n} for n in ev.notices)
        if nothing_readable(ev):
            # INFO, CONFIG and SCAN all refused (an ACL): connected, but nothing could be judged.
            errors.append({"where": "cache", "message": f"{ev.server}: could not audit: statistics, "
                           "configuration and keys were all refused (INFO, CONFIG GET, SCAN)"})
            continue
        found.append(replace(ev, related=options.related))
    return found, errors


def run_cache_audit(options: CacheOptions, cfg: Any) -> Report:
    started, t0 = utc_now(), time.monotonic()
    evidence, errors = _collect_all(options)
    if not evidence:
        raise AuditError("could not audit any cache server: " + "; ".join(e["message"] for e in errors))
    ctx = CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds,
                       options={"min_lookups": options.min_lookups})
    run = CheckRun(kinds={"cache"})
    for ev in evidence:
        run.merge(run_checks("cache", ev, ctx))
    stats = {
        "cache_servers": len(evidence),
        "cache_keys_sampled": sum(len(ev.keys) for ev in evidence),
        "related_reports": len(options.related.sources),
    }
    return assemble(
        kind="cache", targets=[ev.server for ev in evidence], run=run, ruleset=cfg.ruleset,
        started_at=started, duration_s=time.monotonic() - t0, stats=stats, errors=errors,
        measurements={"cache": {"servers": [measurements(ev) for ev in evidence]}},
    )

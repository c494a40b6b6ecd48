"""The cache half: ``apiaudit cache URL`` audits Redis and Memcached application caches.

``redis.py`` / ``memcached.py`` collect evidence (IO, read-only, bounded) into ``evidence.py``'s
dataclasses; ``checks/`` judge it (pure); ``audit.run_cache_audit`` ties them into a Report whose
``measurements["cache"]`` (built by ``stats.measurements``) feeds the HTML charts.
"""

from apiaudit.cache.audit import CacheOptions, run_cache_audit

__all__ = ["CacheOptions", "run_cache_audit"]

"""Pure parsers for the response headers the API-level checks read. No IO; none of them raises on
bad input (except :mod:`sfv`, whose :class:`SFVError` the callers catch)."""

from apiaudit.http.headers.cache_status import (
    CacheEvidence,
    CacheStatusEntry,
    cache_evidence,
    parse_cache_status,
)
from apiaudit.http.headers.fields import HeaderInput, http_date, joined, values
from apiaudit.http.headers.link import Link, join_url, next_link, parse_links
from apiaudit.http.headers.ratelimit import Quota, parse_ratelimits
from apiaudit.http.headers.retry_after import RetryAfter, parse_retry_after
from apiaudit.http.headers.server_timing import Metric, parse_server_timing
from apiaudit.http.headers.set_cookie import Cookie, parse_set_cookie, session_cookies

__all__ = [
    "CacheEvidence", "CacheStatusEntry", "Cookie", "HeaderInput", "Link", "Metric", "Quota", "RetryAfter",
    "cache_evidence", "http_date", "join_url", "joined", "next_link", "parse_cache_status", "parse_links",
    "parse_ratelimits", "parse_retry_after", "parse_server_timing", "parse_set_cookie", "session_cookies",
    "values",
]

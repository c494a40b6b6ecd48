"""Conditional requests (RFC 9110 §13): If-None-Match with the ETag, If-Modified-Since with Last-Modified.

Exchanges: "revalidate-etag" (sent when the base 200 had an ETag, strong or weak: If-None-Match
uses weak comparison, RFC 9110 §13.1.2, so either must give 304) and "revalidate-date" (sent when
it had Last-Modified); "revalidate-mismatch" (only after a 304: an If-None-Match that matches nothing
must get the full 200, or the server answers 304 to any validator) and "head" (HEAD must work where
GET does, RFC 9110 §9.3.2). At most four requests per endpoint.
"""

from __future__ import annotations

from apiaudit.http.evidence import Endpoint
from apiaudit.http.probes import ProbeSession

NO_SUCH_ETAG = '"apiaudit-matches-nothing"'


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    base = session.base(endpoint)
    if base is None or not base.ok or base.status != 200 or base.method != "GET":
        return
    # Same Accept-Encoding as the base so the server picks the same representation.
    coding = {"Accept-Encoding": base.request_header("accept-encoding") or "identity"}
    # One at a time: the 304's time is compared with the 200's (http.validation.304-slow).
    await _etag(session, endpoint, base.header("etag"), coding)
    await _date(session, endpoint, base.header("last-modified"), coding)
    await session.fetch(endpoint.url, purpose="head", method="HEAD", headers=coding)


async def _etag(session: ProbeSession, endpoint: Endpoint, etag: str | None, coding: dict[str, str]) -> None:
    if etag:
        answer = await session.fetch(endpoint.url, purpose="revalidate-etag",
                                     headers={**coding, "If-None-Match": etag})
        if answer.status == 304:
            await session.fetch(endpoint.url, purpose="revalidate-mismatch",
                                headers={**coding, "If-None-Match": NO_SUCH_ETAG})


async def _date(session: ProbeSession, endpoint: Endpoint, last_modified: str | None,
                coding: dict[str, str]) -> None:
    if last_modified:
        await session.fetch(endpoint.url, purpose="revalidate-date",
                            headers={**coding, "If-Modified-Since": last_modified})

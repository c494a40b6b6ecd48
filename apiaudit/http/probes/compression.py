"""Content-coding negotiation (RFC 9110 §12.5.3): identity, gzip, br and zstd asked for one at a time.

The base GET offers every coding (as browsers do); its answer stands for the coding it chose, so
only the others are asked for: "coding-identity", "coding-gzip", "coding-br", "coding-zstd".
When the base came back uncompressed although every coding was offered, asking for each alone
would only repeat it, so nothing more is sent. Once per host, a "coding-error" request for a
missing path shows whether error responses are compressed (kept in ``ScanEvidence.extra``).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

from apiaudit.http.evidence import Endpoint
from apiaudit.http.probes import ProbeSession

CODINGS = ("identity", "gzip", "br", "zstd")
MISSING_PATH = "/apiaudit-probe-missing-resource"


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    base = session.base(endpoint)
    if base is None or not base.ok or base.method != "GET":
        return
    if base.content_coding != "identity":  # one request per other coding, in flight together
        await asyncio.gather(*(session.fetch(endpoint.url, purpose=f"coding-{coding}",
                                             headers={"Accept-Encoding": coding})
                               for coding in CODINGS if coding != base.content_coding))
    parts = urlsplit(endpoint.url)
    if session.once(f"coding-error:{parts.netloc}"):
        missing = urlunsplit((parts.scheme, parts.netloc, MISSING_PATH, "", ""))
        await session.fetch(missing, purpose="coding-error", headers={"Accept-Encoding": "gzip, br, zstd"},
                            extra=True)

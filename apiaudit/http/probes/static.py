"""Static assets (checks: ``apiaudit.http.checks.static``).

Assets are the configured ``static:`` URLs (paths are resolved against the endpoint's origin) and,
for endpoints that answer HTML, the same-origin scripts, stylesheets, preloads, icons and images
the page links (at most :data:`MAX_PER_PAGE`). Each is fetched twice — ``static:<url>`` then
``static-repeat:<url>`` (recorded in ``ScanEvidence.extra``) — so a CDN or cache can show a hit.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from apiaudit.http.evidence import Endpoint
from apiaudit.http.headers import join_url
from apiaudit.http.probes import ProbeSession

MAX_PER_PAGE = 8
MAX_CONFIGURED = 20
_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "apple-touch-icon"}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag in ("script", "img") and a.get("src"):
            self.found.append(a["src"])
        elif tag == "link" and a.get("href") and _LINK_RELS & set(a.get("rel", "").lower().split()):
            self.found.append(a["href"])


def linked_assets(html: str, page_url: str) -> list[str]:
    """Same-origin asset URLs linked from ``html`` (absolute, fragment-free, in page order)."""
    parser = _Assets()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a hostile page must not break the scan
        pass
    origin = urlsplit(page_url)
    out: list[str] = []
    for ref in parser.found:
        joined = join_url(page_url, ref.strip())
        if joined is None:
            continue
        url = joined.split("#", 1)[0]
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) == (origin.scheme, origin.netloc.lower()) and url not in out:
            out.append(url)
    return out


async def probe(session: ProbeSession, endpoint: Endpoint) -> None:
    urls: list[str] = []
    if session.once("static:configured"):
        configured = list(session.options.get("static") or [])[:MAX_CONFIGURED]
        urls += [u for u in (join_url(endpoint.url, str(c)) for c in configured) if u is not None]
    base = session.base(endpoint)
    if base is not None and base.ok and base.status == 200 and base.media_type == "text/html":
        urls += linked_assets(base.text, base.url)[:MAX_PER_PAGE]
    for url in urls:
        if not session.once(f"static:{url}"):
            continue
        first = await session.fetch(url, purpose=f"static:{url}", extra=True)
        if first.ok:
            await session.fetch(url, purpose=f"static-repeat:{url}", extra=True)

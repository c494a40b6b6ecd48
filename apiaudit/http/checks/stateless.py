"""Stateless design (``scaling.stateless``): session-like cookies on API responses.

Reads ``Set-Cookie`` on every exchange of JSON/API endpoints (HTML pages may legitimately use
sessions). Bearer/JWT authentication carries no server state and is fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, ScanEvidence
from apiaudit.http.headers import session_cookies
from apiaudit.model import Finding
from apiaudit.requirements import Req


def is_api(ep: Endpoint) -> bool:
    base = ep.base()
    return base is not None and base.ok and base.media_type not in ("text/html", "application/xhtml+xml")


def auth_scheme(ep: Endpoint) -> str | None:
    for name, value in ep.headers.items():
        if name.lower() == "authorization":
            return value.split(" ", 1)[0].lower()
    base = ep.base()
    sent = base.request_header("authorization") if base is not None else None
    return sent.split(" ", 1)[0].lower() if sent else None


@check("http.stateless.session-cookie", kind="scan", requires=(Req.BASE_ANSWER,))
def check_session_cookies(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    judged = False
    for ep in ev.endpoints:
        if not is_api(ep):
            continue
        judged = True
        lines = [v for ex in ep.exchanges for v in ex.headers_all("set-cookie")]
        cookies = {c.name: c for c in session_cookies(lines)}
        for cookie in cookies.values():
            # Only the name, attributes and value length: cookie values are credentials. (Not the key "cookie":
            # the report redactor masks that key as a Cookie header.)
            yield Finding("http.stateless.session-cookie", {"url": ep.url, "method": "GET"},
                          {"cookie": cookie.name, "why_session": cookie.session_like},
                          {"cookie_name": cookie.name, "attributes": list(cookie.attributes),
                           "value_length": cookie.value_len, "persistent": cookie.persistent,
                           "auth_scheme": auth_scheme(ep)})
    if not judged:
        yield NotApplicable("no API (non-HTML) response to inspect")

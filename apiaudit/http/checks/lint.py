"""httplint over every recorded response: its WARN and BAD notes become findings (note id kept).

httplint (MIT, by the author of REDbot) is handed the recorded bytes; it does no IO. Content is fed
only when we hold the complete identity-coded body; otherwise the linter is told there is none, so
it does not judge Content-Length or decoding against a body it never saw.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from typing import Any

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Exchange, ScanEvidence
from apiaudit.model import Finding
from apiaudit.redact import MASK
from apiaudit.requirements import Req

# Notes another rule of ours reports with more context (one fact, one finding):
# FRESHNESS_NO_CACHE_NO_VALIDATOR is http.validation.no-validator (which names the note in its evidence).
# STORE_PUBLIC_UNNECESSARY is left out on purpose: `public` changes nothing on an unauthenticated 200
# (RFC 9111 §5.2.2.9) and is what lets a shared cache store a response to a request with Authorization
# (§3.5), so it is never wrong; the guide's own `public, max-age=1800` must be able to pass.
COVERED_ELSEWHERE = frozenset({"VARY_ASTERISK", "FRESHNESS_HEURISTIC", "FRESHNESS_NO_CACHE_NO_VALIDATOR",
                               "STORE_PUBLIC_UNNECESSARY"})
_TAG = re.compile(r"<[^>]+>")
LEVELS = {"bad": "http.lint.bad", "warning": "http.lint.warn"}


def _notes(ex: Exchange) -> list[Any]:
    from httplint import HttpRequestLinter, HttpResponseLinter

    request = HttpRequestLinter()
    request.process_request_topline(ex.method.encode(), ex.url.encode(), b"HTTP/1.1")
    request.process_headers(
        [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in ex.request_headers if v != MASK]
    )
    request.finish_content(True)
    feed = ex.content_coding == "identity" and not ex.truncated and not ex.body_dropped
    response = HttpResponseLinter(no_content=not feed)
    response.request = request
    version = b"HTTP/2" if ex.http_version.startswith("HTTP/2") else b"HTTP/1.1"
    response.process_response_topline(version, str(ex.status).encode(), b"")
    response.process_headers(
        [
            (k.encode("latin-1", "replace"), v.encode("latin-1", "replace"))
            for k, v in ex.response_headers
            if not v.endswith(MASK)
        ]
    )
    if feed:
        response.feed_content(ex.body)
    response.finish_content(True)
    return list(_walk(response.notes))


def _walk(notes: Any) -> Iterator[Any]:
    for note in notes:
        yield note
        yield from _walk(getattr(note, "subnotes", []) or [])


def _vars(note: Any) -> dict[str, str]:
    return {k: str(v)[:200] for k, v in (note.vars or {}).items() if k != "message_type"}


# Probes that ask for an error on purpose (an oversized limit answered 400 is the right answer; a
# burst ends in 429): linting their responses would report the server's correct refusal as a problem.
PROVOKED = ("page-limit-", "page-small-", "fields-", "burst-", "sample-cachebust", "coding-error", "head")


@check(*LEVELS.values(), kind="scan", requires=(Req.BASE_ANSWER,))
def check_httplint(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    linted = 0
    seen: set[tuple[str, str]] = set()
    for ep in ev.endpoints:
        for ex in ep.exchanges:
            if not ex.ok or ex.decode_error or ex.purpose.startswith(PROVOKED):
                continue
            linted += 1
            for note in _notes(ex):
                name = type(note).__name__
                rule = LEVELS.get(getattr(note.level, "value", ""))
                if rule is None or name in COVERED_ELSEWHERE or (ep.url, name) in seen:
                    continue
                seen.add((ep.url, name))
                summary = str(note.summary)
                yield Finding(
                    rule,
                    # The endpoint's URL, not the probe's: one finding per endpoint and note.
                    {"url": ep.url, "method": ex.method, "note": name},
                    {"note": name, "summary": summary, "detail": _plain(note)},
                    {
                        "note": name,
                        "level": note.level.value,
                        "category": note.category.name,
                        "subject": note.subject,
                        "exchange": ex.purpose,
                        "request_url": ex.url,
                        "status": ex.status,
                        "vars": _vars(note),
                    },
                )
    if not linted:
        yield NotApplicable("no HTTP response was received to lint")


def _plain(note: Any) -> str:
    """The note's explanation (rendered HTML) as plain text, first paragraph, for the fix."""
    try:
        html = str(note.detail)
    except Exception:  # a broken translation in httplint must not lose the finding
        return str(note.summary)
    first = html.split("</p>")[0]
    return html_lib.unescape(_TAG.sub("", first)).replace("\n", " ").strip()[:400]

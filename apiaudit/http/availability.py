"""What a scan could measure: ``ScanEvidence.available(req)`` for the evidence contract
(apiaudit.requirements), and why an answer is not the API's own (refused, not found, login page).

Pure: derived from the evidence alone, so ``--from-evidence`` gives the same verdict.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.requirements import Availability, Req, probe_of

# What an answer with this status says about the audit (not about the API's quality).
REFUSALS: dict[int, str] = {
    401: "authentication refused", 407: "authentication refused", 403: "access forbidden",
    404: "not found", 410: "not found", 429: "rate limited (429)", 503: "service unavailable (503)",
}
LOGIN = "redirected to a login page"
_LOGIN_WORDS = re.compile(r"log-?in|sign-?in|auth|sso|saml|oauth|cas/", re.IGNORECASE)
_PASSWORD_FORM = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)
# Which exchanges each probe makes (purpose prefixes; apiaudit.http.probes).
PROBE_PURPOSES: dict[str, tuple[str, ...]] = {
    "validation": ("revalidate-",), "compression": ("coding-",), "pagination": ("page-",),
    "fields": ("fields-",), "latency": ("sample-",), "static": ("static:", "static-repeat:"),
    "monitoring": ("metrics",), "ratelimit": ("burst-",),
}


def _login_target(url: str) -> bool:
    parts = urlsplit(url)
    return bool(_LOGIN_WORDS.search(parts.path) or _LOGIN_WORDS.search(parts.hostname or ""))


def refusal(ex: Exchange | None) -> str | None:
    """Why this answer is not one of the API (None: it is): failed, refused, not found, throttled,
    a server error, or a login page (a same-host redirect to /login, an SSO redirect, a password form)."""
    if ex is None:
        return "not requested"
    if ex.status is None:
        return "request failed"
    if ex.status in REFUSALS:
        return REFUSALS[ex.status]
    if ex.status >= 500:
        return "server error (5xx)"
    if ex.status in (301, 302, 303, 307, 308):  # a redirect not followed (off-host, or a loop)
        location = ex.header("location") or ""
        return LOGIN if _login_target(location) else "redirected off the target host"
    if ex.redirects and _login_target(ex.url):
        return LOGIN
    if ex.status == 200 and ex.media_type in ("text/html", "application/xhtml+xml") and \
            _PASSWORD_FORM.search(ex.body[:65536]):
        return LOGIN
    if ex.status >= 400:  # 400/405/422...: the API answered, but not with what the checks judge
        return f"client error ({ex.status})"
    return None


def probe_refusal(ex: Exchange) -> str | None:
    """Why a probe's answer says nothing (failed, refused, throttled, 5xx). Unlike a base GET, a probe's
    400/422 is evidence (a ``?limit=1000`` rejected is a capped page size)."""
    if ex.status is None:
        return "request failed"
    if ex.status in REFUSALS:
        return REFUSALS[ex.status]
    return "server error (5xx)" if ex.status >= 500 else None


def usable(ep: Endpoint) -> bool:
    return refusal(ep.base()) is None


def refusal_summary(endpoints: list[Endpoint]) -> str:
    """One line: "authentication refused on 2/2 endpoints", or the mix ("not found on 1/2 endpoints, ...")."""
    counts = Counter(refusal(ep.base()) or "answered" for ep in endpoints)
    total = len(endpoints)
    return ", ".join(f"{why} on {n}/{total} endpoint{'s' if total != 1 else ''}"
                     for why, n in counts.most_common())


def _skipped(ev: ScanEvidence, url: str, probe: str) -> str | None:
    for s in ev.skipped:
        if s.get("url") == url and s.get("purpose") in (probe, "base"):
            return str(s.get("reason") or "skipped")
    return None


# Probes whose exchanges are scan-wide (``ScanEvidence.extra``), and the one whose refusals are its
# evidence (a burst answered 429 is a rate limiter at work).
SCAN_WIDE = ("static", "monitoring")
REFUSALS_ARE_EVIDENCE = ("ratelimit",)


def probe_available(ev: ScanEvidence, probe: str) -> Availability:
    """At least one endpoint with a usable base answer whose probe ran to its end and was not
    answered only with refusals (every exchange it made 401/403/404/429/5xx or failed)."""
    usable_eps = [ep for ep in ev.endpoints if usable(ep)]
    if not usable_eps:
        return base_available(ev)
    skips = [s for ep in usable_eps if (s := _skipped(ev, ep.url, probe))]
    if probe in SCAN_WIDE:
        return _scan_wide(ev, probe, skips if len(skips) == len(usable_eps) else [])
    why: list[str] = [f"{probe} probe skipped: {s}" for s in skips]
    for ep in usable_eps:
        if _skipped(ev, ep.url, probe):
            continue
        mine = [ex for ex in ep.exchanges if ex.purpose.startswith(PROBE_PURPOSES.get(probe, (probe,)))]
        refused = [probe_refusal(ex) for ex in mine]
        if mine and all(refused) and probe not in REFUSALS_ARE_EVIDENCE:
            why.append(f"{probe} probe answered {refused[0]}")
            continue
        return True
    counts = Counter(why)
    return "; ".join(f"{w} ({n}/{len(usable_eps)} endpoints)" for w, n in counts.most_common(2))


def _scan_wide(ev: ScanEvidence, probe: str, skips: list[str]) -> Availability:
    mine = [ex for ex in ev.extra if ex.purpose.startswith(PROBE_PURPOSES[probe])]
    refused = [(probe_refusal(ex), ex.url) for ex in mine]
    if any(why is None for why, _ in refused):
        return True
    if refused:
        return f"{probe} probe: {refused[0][0]} ({refused[0][1]})"
    return f"{probe} probe skipped: {skips[0]}" if skips else True


def base_available(ev: ScanEvidence) -> Availability:
    if any(usable(ep) for ep in ev.endpoints):
        return True
    if not ev.endpoints:
        return "no endpoint was probed"
    return "no usable answer: " + refusal_summary(ev.endpoints)


def available(ev: ScanEvidence, req: Req) -> Availability:
    if req is Req.BASE_ANSWER:
        return base_available(ev)
    probe = probe_of(req)
    if probe is None:
        return f"{req.value} is not collected by a scan"
    return probe_available(ev, probe)

"""What the scan report must say beyond findings: base GETs that failed or answered an error status,
bodies that could not be decoded, were cut at a limit or were not retained, and the AuditError raised
when nothing could be audited. Pure: derived from the evidence alone (also on --from-evidence)."""

from __future__ import annotations

from apiaudit.errors import AuditError
from apiaudit.http.evidence import RETAINED_BODY_BUDGET, Endpoint, ScanEvidence, keeps_body
from apiaudit.redact import redact_text


def base_status(ep: Endpoint) -> int:
    base = ep.base()
    return base.status or 0 if base is not None else 0


def nothing_audited(errors: list[dict[str, str]], evidence: ScanEvidence, why: str) -> AuditError:
    """Exit 3, one line: the reason first ("authentication refused on 2/2 endpoints"), then the
    first problems seen."""
    problems = errors + [{"where": k["url"], "message": k["reason"]} for k in evidence.skipped]
    detail = "; ".join(f"{e['where']}: {e['message']}" for e in problems[:3]) or "no endpoint was probed"
    return AuditError(redact_text(f"could not audit: {why} ({detail})".replace("\n", " ")))


def scan_skipped(evidence: ScanEvidence) -> list[dict[str, str]]:
    """The report's ``skipped``: probes not run (budget spent, host backed off, unfillable operations)."""
    return [{"where": str(s.get("url", "")), "what": str(s.get("purpose", "")), "reason": str(s.get("reason", ""))}
            for s in evidence.skipped]


def base_problems(evidence: ScanEvidence) -> list[dict[str, str]]:
    """A base GET that failed, or answered an error status: the checks that need a successful
    answer were skipped for that endpoint, and the report must say so."""
    out = []
    for ep in evidence.endpoints:
        base = ep.base()
        if base is None:
            continue
        if base.error:
            out.append({"where": ep.url, "message": base.error})
        elif base.status is not None and base.status >= 400:
            kind = base.media_type or "no content-type"
            out.append({"where": ep.url, "message": f"HTTP {base.status} ({kind}) on the base GET; checks "
                                                    "that need a successful answer were skipped"})
    return out


def body_problems(evidence: ScanEvidence) -> list[dict[str, str]]:
    """Bodies that could not be decoded, were cut at a read/decode limit, or (needed by a check) were
    not retained: once per URL and message."""
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    dropped = 0
    for ex in evidence.all_exchanges():
        for message in (ex.decode_error, ex.over_cap):
            if message and (ex.url, message) not in seen:
                seen.add((ex.url, message))
                out.append({"where": ex.url, "message": message})
        dropped += ex.body_dropped and keeps_body(ex.purpose)
    if dropped:
        out.append({"where": "scan", "message": (
            f"{dropped} response bodies kept as size + SHA-256 only (the scan keeps at most "
            f"{RETAINED_BODY_BUDGET // 2**20} MiB of bodies): collection, pagination and field-selection "
            "checks were not judged on them")})
    return out

"""Content-coding (RFC 9110 §8.4, §12.5.3) as probed by ``probes/compression.py``: large bodies sent
uncompressed, codings that grow the body, Vary, strong ETags shared across codings, decoded bodies
that differ, and (info) how error responses are sent."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.measure import CODINGS, coding_exchange
from apiaudit.http.semantics import http_location, is_weak, vary_fields
from apiaudit.model import Finding
from apiaudit.requirements import Req

# Media types that are already compressed: compressing them again gains nothing.
PRECOMPRESSED_PREFIXES = ("image/", "video/", "audio/", "font/woff")
PRECOMPRESSED = frozenset(
    {
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/zstd",
        "application/x-bzip2",
        "application/x-7z-compressed",
        "application/octet-stream",
        "application/pdf",
        "application/wasm",
    }
)


def compressible(ex: Exchange) -> bool:
    media = ex.media_type
    if media == "image/svg+xml":
        return True
    return media not in PRECOMPRESSED and not media.startswith(PRECOMPRESSED_PREFIXES)


def _responses(ep: Endpoint) -> list[Exchange]:
    """The 2xx responses per coding asked for (base included once)."""
    seen: dict[str, Exchange] = {}
    for coding in CODINGS:
        ex = coding_exchange(ep, coding)
        if ex is not None and ex.ok and ex.status is not None and 200 <= ex.status < 300:
            seen.setdefault(ex.id, ex)
    return list(seen.values())


def _missing(ep: Endpoint | Exchange, base: Exchange, ctx: CheckContext) -> Iterator[Finding]:
    offered = (base.request_header("accept-encoding") or "identity").lower()
    minimum = int(ctx.threshold("compression_min_bytes"))
    if base.content_coding == "identity" and "gzip" in offered and compressible(base) and base.body_size >= minimum:
        medium, high = int(ctx.threshold("compression_medium_bytes")), int(ctx.threshold("compression_high_bytes"))
        # Severity from impact: one rule id per size band (wording and severity stay in the YAML).
        band = "-large" if base.body_size >= high else "" if base.body_size >= medium else "-small"
        yield Finding(
            "http.compression.missing" + band,
            http_location(ep),
            {"size": base.body_size, "media_type": base.media_type or "unknown type", "min": minimum,
             "medium": medium, "high": high},
            {
                "bytes": base.body_size,
                "accept_encoding": offered,
                "content_type": base.header("content-type"),
            },
        )


def _coded(ep: Endpoint, responses: list[Exchange]) -> Iterator[Finding]:
    where = http_location(ep)
    for ex in responses:
        if ex.content_coding == "identity" or ex.truncated or ex.decode_error:
            continue
        if ex.body_size and ex.wire_size >= ex.body_size:
            yield Finding(
                "http.compression.larger",
                where,
                {"coding": ex.content_coding, "wire": ex.wire_size, "decoded": ex.body_size},
                {"coding": ex.content_coding, "wire_bytes": ex.wire_size, "decoded_bytes": ex.body_size},
            )
    coded = [ex for ex in responses if ex.content_coding != "identity"]
    unvaried = [x for x in coded if "accept-encoding" not in vary_fields(x)]
    if unvaried:
        bad = unvaried[0]
        yield Finding(
            "http.compression.no-vary",
            where,
            {"coding": bad.content_coding, "vary": bad.header("vary") or "none"},
            {"coding": bad.content_coding, "vary": bad.header("vary"), "exchange": bad.purpose},
        )


def _dynamic(ep: Endpoint) -> bool:
    """Two full 200s of the same URL in the same coding with different content: the resource
    changes between requests (timestamps, request ids), so bodies cannot be compared across codings."""
    seen: dict[str, set[str]] = {}
    for ex in ep.exchanges:
        if ex.ok and ex.status == 200 and ex.url == ep.url and not ex.truncated and ex.method == "GET":
            seen.setdefault(ex.content_coding, set()).add(ex.body_sha256)
    return any(len(hashes) > 1 for hashes in seen.values())


def _consistency(ep: Endpoint, responses: list[Exchange]) -> Iterator[Finding]:
    where = http_location(ep)
    by_etag: dict[str, set[str]] = {}
    for ex in responses:
        etag = ex.header("etag")
        if etag and not is_weak(etag):
            by_etag.setdefault(etag, set()).add(ex.content_coding)
    for etag, codings in by_etag.items():
        if len(codings) > 1:
            names = ", ".join(sorted(codings))
            yield Finding(
                "http.compression.same-etag",
                where,
                {"etag": etag, "codings": names},
                {"etag": etag, "codings": sorted(codings)},
            )
    complete = [ex for ex in responses if ex.status == 200 and not ex.truncated and not ex.decode_error]
    hashes = {ex.content_coding: ex.body_sha256 for ex in complete}
    if len(set(hashes.values())) > 1 and not _dynamic(ep):
        sizes = {ex.content_coding: ex.body_size for ex in complete}
        detail = ", ".join(f"{c}: {sizes[c]} bytes" for c in sorted(sizes))
        yield Finding(
            "http.compression.body-mismatch",
            where,
            {"detail": detail},
            {"sha256": {c: h[:16] for c, h in hashes.items()}, "decoded_bytes": sizes},
        )


def _errors(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding]:
    minimum = int(ctx.threshold("compression_min_bytes"))
    for ex in ev.extra:
        if ex.purpose != "coding-error" or not ex.ok or (ex.status or 0) < 400 or ex.body_size < minimum:
            continue
        state = f"compressed with {ex.content_coding}" if ex.content_coding != "identity" else "uncompressed"
        yield Finding(
            "http.compression.error-responses",
            http_location(ex),
            {"status": ex.status, "size": ex.body_size, "state": state},
            {
                "status": ex.status,
                "coding": ex.content_coding,
                "wire_bytes": ex.wire_size,
                "decoded_bytes": ex.body_size,
            },
        )


@check(
    "http.compression.missing",
    "http.compression.missing-large",
    "http.compression.missing-small",
    "http.compression.larger",
    "http.compression.no-vary",
    "http.compression.same-etag",
    "http.compression.body-mismatch",
    "http.compression.error-responses",
    kind="scan",
    requires=(Req.PROBE_COMPRESSION,),
)
def check_compression(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    answered = judged = 0
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or not base.ok or base.status is None or not 200 <= base.status < 300:
            continue
        answered += 1
        judged += _large_enough(base, ctx)
        responses = _responses(ep)
        yield from _missing(ep, base, ctx)
        yield from _coded(ep, responses)
        yield from _consistency(ep, responses)
    for asset in _static_assets(ev, ctx):
        judged += 1
        yield from _missing(asset, asset, ctx)
    yield from _errors(ev, ctx)
    if not answered:
        yield NotApplicable("no endpoint answered with a 2xx response", ("api.compression",))
    elif not judged:
        # Small bodies are rightly sent uncompressed: nothing seen says whether large ones would be.
        minimum = int(ctx.threshold("compression_min_bytes"))
        yield NotApplicable(f"every compressible body seen was under {minimum} bytes (compression_min_bytes): "
                            "compression could not be judged", ("api.compression",))


def _large_enough(ex: Exchange, ctx: CheckContext) -> bool:
    return compressible(ex) and ex.body_size >= int(ctx.threshold("compression_min_bytes"))


def _static_assets(ev: ScanEvidence, ctx: CheckContext) -> list[Exchange]:
    """Static assets downloaded (``static:<url>``) large enough to be judged: an uncompressed 73 KB
    script counts as much as an API body."""
    return [ex for ex in ev.extra if ex.purpose.startswith("static:") and ex.ok and ex.status == 200
            and _large_enough(ex, ctx)]

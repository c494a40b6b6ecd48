"""Response size (the guide's "Response size limits enforced"): non-streamed bodies above the limit."""

from __future__ import annotations

from collections.abc import Iterator

from apiaudit.checks import CheckContext, NotApplicable, check
from apiaudit.http.evidence import Endpoint, Exchange, ScanEvidence
from apiaudit.http.semantics import http_location
from apiaudit.model import Finding
from apiaudit.requirements import Req

# Media types that are read incrementally by design (NDJSON, JSON Lines, JSON text sequences, SSE).
STREAMED_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
        "application/json-seq",
        "text/event-stream",
    }
)


def streamed(ep: Endpoint, ex: Exchange) -> bool:
    if ep.streamed or ex.media_type in STREAMED_TYPES:
        return True
    # Chunked with no Content-Length: the server did not build the whole body before sending it.
    chunked = "chunked" in (ex.header("transfer-encoding") or "").lower()
    return chunked and ex.header("content-length") is None


def body_size(ex: Exchange) -> tuple[int, bool]:
    """(bytes, exact): the decoded size, or the declared length / a lower bound when reading stopped."""
    if not ex.truncated:
        return ex.body_size, True
    declared = ex.header("content-length")
    if (
        ex.content_coding == "identity"
        and declared
        and declared.strip().isascii()
        and declared.strip().isdigit()
    ):
        return int(declared), True
    return max(ex.body_size, ex.wire_size), False


def _text(size: int, exact: bool) -> str:
    mib = size / (1024 * 1024)
    text = f"{mib:.1f} MiB ({size} bytes)" if mib >= 1 else f"{size} bytes"
    return text if exact else f"at least {text} (reading stopped there)"


@check("http.size.too-large", kind="scan", requires=(Req.BASE_ANSWER,))
def check_response_size(ev: ScanEvidence, ctx: CheckContext) -> Iterator[Finding | NotApplicable]:
    limit = int(ctx.threshold("response_size_max_bytes"))
    judged = 0
    for ep in ev.endpoints:
        base = ep.base()
        if base is None or not base.ok or base.status is None or not 200 <= base.status < 300:
            continue
        judged += 1
        size, exact = body_size(base)
        if size > limit and not streamed(ep, base):
            yield Finding(
                "http.size.too-large",
                http_location(ep),
                {
                    "size_text": _text(size, exact),
                    "media_type": base.media_type or "unknown type",
                    "limit": limit,
                },
                {"bytes": size, "exact": exact, "limit": limit, "content_type": base.header("content-type")},
            )
    if not judged:
        yield NotApplicable("no endpoint answered with a 2xx response", ("api.response_size",))

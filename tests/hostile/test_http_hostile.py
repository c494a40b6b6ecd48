"""`apiaudit scan` against the hostile corpus: never hang, never crash, bounded time and memory,
say what happened, and exit per DESIGN.md (3 only when nothing could be audited).

Each case runs the real console script in a subprocess against a real misbehaving server.
Bounds are generous on purpose (no flaky timing): 60 s wall, 500 MB peak RSS. The measured figures
are appended to ``$HOSTILE_FIGURES`` when set (``bench/hostile_figures.py`` prints the table).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from hostile.measure import Run, report_text, run_measured
from hostile.servers import BY_NAME, CORPUS, hostile

WALL_S = 60.0
RSS_MB = 500.0
ANSWERED = (0, 1)  # the server answered with a status: the audit ran
NOTHING = (3,)  # no usable response from the only target: could not audit


@dataclass(frozen=True)
class Expect:
    codes: tuple[int, ...]
    says: str  # regex (case-insensitive) that the report or stderr must match
    extra: tuple[str, ...] = ()


EXPECT: dict[str, Expect] = {
    "gzip-bomb": Expect(ANSWERED, r"decod|decompress|bomb|limit|truncat|too large|exceed"),
    "brotli-bomb": Expect(ANSWERED, r"decod|decompress|bomb|limit|truncat|too large|exceed"),
    "zstd-bomb": Expect(ANSWERED, r"decod|decompress|bomb|limit|truncat|too large|exceed"),
    "gzip-garbage": Expect(ANSWERED, r"decod|decompress|gzip|corrupt|invalid"),
    "body-50mb": Expect(ANSWERED, r"truncat|limit|too large|exceed|max"),
    "endless-chunked": Expect(ANSWERED, r"truncat|limit|too large|exceed|timed out|time"),
    "slowloris": Expect(NOTHING, r"time"),
    "never-answers": Expect(NOTHING, r"time"),
    "reset-mid-body": Expect((0, 1, 3), r"reset|incomplete|closed|peer|readerror"),
    "early-hints-flood": Expect(NOTHING, r"time"),
    "content-length-lie": Expect((0, 1, 3), r"time|incomplete|closed"),
    "chunk-size-overflow": Expect((0, 1, 3), r"chunk|protocol|invalid|error|incomplete"),
    "te-and-content-length": Expect((0, 1, 3), r"."),
    "head-with-body": Expect(ANSWERED, r"."),
    "close-before-headers": Expect(NOTHING, r"disconnect|closed|without|no response|protocol"),
    "invalid-status-line": Expect(NOTHING, r"status|protocol"),
    "garbage-response": Expect(NOTHING, r"disconnect|protocol|status|invalid|without"),
    "header-folding": Expect(ANSWERED, r"."),
    "10k-headers": Expect(ANSWERED, r"."),
    "1mb-header": Expect(NOTHING, r"header|too long|buffer|protocol|too large"),
    "duplicate-content-length": Expect(ANSWERED, r"."),
    "conflicting-content-length": Expect(NOTHING, r"content-length|protocol"),
    "invalid-utf8-header": Expect(ANSWERED, r"."),
    "nul-in-header": Expect(NOTHING, r"header|protocol|illegal|invalid"),
    "redirect-loop": Expect((0, 1, 3), r"loop|redirect"),
    "redirect-off-host": Expect((0, 1, 3), r"off|host|not followed"),
    "redirect-metadata": Expect((0, 1, 3), r"off|host|not followed"),
    "redirect-file-scheme": Expect((0, 1, 3), r"redirect|scheme|not followed"),
    "redirect-ftp-scheme": Expect((0, 1, 3), r"redirect|scheme|not followed"),
    # Only 429s were seen: nothing of the API was audited (issue 13: exit 3, "rate limited (429) on 1/1").
    "retry-after-day": Expect(NOTHING, r"429|retry-after|rate"),
    "retry-after-superscript": Expect(NOTHING, r"429|retry-after|rate"),
    "tls-self-signed": Expect(NOTHING, r"certificate|ssl|tls|verify"),
    "http2-only": Expect(NOTHING, r"protocol|http/2|h2|disconnect|illegal|goaway"),
    "json-deep": Expect(ANSWERED, r"."),
    "json-huge-number": Expect(ANSWERED, r"."),
    "json-utf16": Expect(ANSWERED, r"."),
    "json-is-binary": Expect(ANSWERED, r"."),
    "html-error-page": Expect((0, 1, 3), r"502|html|bad gateway|status"),
    "html-200-on-api": Expect(ANSWERED, r"html|content-type|json|."),
    "openapi-20mb": Expect((0, 1, 2, 3), r"openapi|too large|limit|exceed|truncat"),
    "openapi-ref-loop": Expect(ANSWERED, r"."),
}


# Servers that trickle or stay silent are cut by the overall deadline (3 x --timeout); a short
# timeout keeps these cases quick without changing what they prove.
TRICKLE = {"slowloris", "never-answers", "early-hints-flood", "content-length-lie"}


def scan_args(url: str, *extra: str, timeout: str = "2") -> list[str]:
    return [
        "scan",
        url,
        "--format",
        "json",
        "--samples",
        "0",
        "--timeout",
        timeout,
        "--max-requests",
        "40",
        *extra,
    ]


def record(name: str, run: Run) -> None:
    path = os.environ.get("HOSTILE_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(
                json.dumps(
                    {
                        "case": name,
                        "code": run.code,
                        "wall_s": round(run.wall_s, 2),
                        "rss_mb": round(run.rss_mb, 1),
                        "timed_out": run.timed_out,
                    }
                )
                + "\n"
            )


def assert_sane(run: Run, expect: Expect) -> None:
    assert not run.timed_out, f"hung: killed after {run.wall_s:.0f} s: {run!r}"
    assert not run.has_traceback(), f"traceback escaped: {run!r}"
    assert not run.internal_error(), f"unhandled exception reached the last-resort handler: {run!r}"
    assert run.wall_s < WALL_S, run
    assert run.rss_mb < RSS_MB, run
    assert run.code in expect.codes, f"exit {run.code}, expected one of {expect.codes}: {run!r}"
    if run.code in (0, 1):
        assert run.report() is not None, f"exit {run.code} but stdout is not a JSON report: {run!r}"
    else:
        assert run.stderr.strip(), "a failed audit must say why on stderr"
    assert re.search(expect.says, report_text(run), re.IGNORECASE), (
        f"the report does not say what happened (wanted /{expect.says}/): {run!r}"
    )


def test_corpus_is_complete() -> None:
    assert len(CORPUS) >= 25
    assert set(EXPECT) == set(BY_NAME)


@pytest.mark.parametrize("name", [b.name for b in CORPUS])
def test_hostile_server(name: str) -> None:
    behaviour = BY_NAME[name]
    with hostile(name) as target:
        extra: list[str] = []
        if behaviour.openapi:
            base = target.url.split("/api/")[0]
            extra = ["--openapi", base + behaviour.openapi]
        timeout = "1" if name in TRICKLE else "2"
        run = run_measured(*scan_args(target.url, *extra, timeout=timeout), timeout=WALL_S + 30)
        counters = target.server.counters
        canary = target.helpers.get("canary")
    record(name, run)
    assert_sane(run, EXPECT[name])
    assert set(counters.methods) <= {"GET", "HEAD", "OPTIONS"}, counters.methods
    assert counters.requests <= 40, f"request budget exceeded: {counters.requests} > 40"
    if canary is not None:
        assert canary.counters.requests == 0, "followed a redirect off the target host"
    if name == "retry-after-day":
        # Retry-After: 86400 must be capped, not slept; and after a 429 the scan must not hammer on.
        assert counters.requests <= 10, f"{counters.requests} requests after 429 + Retry-After: 86400"


def test_tls_insecure_scans_self_signed() -> None:
    with hostile("tls-self-signed") as target:
        run = run_measured(*scan_args(target.url, "--insecure"), timeout=WALL_S + 30)
        requests = target.server.counters.requests
    record("tls-self-signed --insecure", run)
    assert_sane(run, Expect(ANSWERED, r"."))
    assert requests >= 1
    rep = run.report() or {}
    assert rep.get("stats", {}).get("http_requests", 0) >= 1, run


@pytest.mark.parametrize("mixup", ["https-url-to-plain-server", "http-url-to-tls-server"])
def test_scheme_mixups_are_clear_errors(mixup: str) -> None:
    name = "tls-self-signed" if mixup.startswith("http-url") else "html-200-on-api"
    with hostile(name) as target:
        url = (
            target.url.replace("https://", "http://")
            if name == "tls-self-signed"
            else target.url.replace("http://", "https://")
        )
        run = run_measured(*scan_args(url, "--insecure"), timeout=WALL_S + 30)
    record(mixup, run)
    assert_sane(run, Expect(NOTHING, r"ssl|tls|protocol|disconnect|wrong version|record|closed|without|timeout"))


def test_http2_only_server_over_tls_is_scanned() -> None:
    """An h2-only TLS server (ALPN offers only h2): the client negotiates HTTP/2 and audits it."""
    from hostile.payloads import h2_only, tls_context
    from hostile.rawserver import RawServer

    server = RawServer(raw=h2_only, tls=tls_context(alpn=["h2"]))
    with server.running() as base:
        run = run_measured(*scan_args(base + "/api/items", "--insecure"), timeout=WALL_S + 30)
    record("http2-only over TLS --insecure", run)
    assert_sane(run, Expect(ANSWERED, r"."))
    assert server.counters.requests >= 1 and set(server.counters.methods) <= {"GET", "HEAD", "OPTIONS"}


def test_many_large_bodies_stay_within_memory_bound() -> None:
    """100 endpoints that each answer a 3.4 MB JSON array: evidence must not keep them all."""
    from hostile.servers import big_json_api

    server = big_json_api()
    with server.running() as base:
        urls = [f"{base}/api/c{i}" for i in range(100)]
        run = run_measured(
            "scan", *urls, "--format", "json", "--samples", "0", "--max-requests", "300", timeout=WALL_S + 60
        )
    record("100 endpoints x 3.4 MB JSON", run)
    assert not run.timed_out and not run.has_traceback() and not run.internal_error(), run
    assert run.code in ANSWERED, run
    assert run.rss_mb < RSS_MB, f"peak RSS {run.rss_mb:.0f} MB for 100 large bodies"


@pytest.mark.parametrize("name", ["invalid-utf8-header", "gzip-garbage", "json-deep", "html-200-on-api"])
def test_saved_evidence_replays_to_the_same_findings(tmp_path: Path, name: str) -> None:
    """Hostile bytes (non-UTF-8 headers, random bodies) survive --save-evidence and --from-evidence."""
    evidence = tmp_path / "ev.json"
    with hostile(name) as target:
        live = run_measured(*scan_args(target.url, "--save-evidence", str(evidence)), timeout=WALL_S + 30)
    assert_sane(live, EXPECT[name])
    replay = run_measured("scan", "--from-evidence", str(evidence), "--format", "json", timeout=WALL_S)
    assert_sane(replay, EXPECT[name])
    rules = sorted(f["rule"] for f in (live.report() or {}).get("findings", []))
    assert rules == sorted(f["rule"] for f in (replay.report() or {}).get("findings", [])), (live, replay)


def test_redirect_off_host_is_followed_only_when_allowed(tmp_path: Path) -> None:
    # The other half of "not off-target unless allowed": http.allow_hosts opens exactly that host.
    (tmp_path / "apiaudit.yaml").write_text("http:\n  allow_hosts: [localhost]\n")
    with hostile("redirect-off-host") as target:
        run = run_measured(*scan_args(target.url), cwd=tmp_path, timeout=WALL_S + 30)
        canary = target.helpers["canary"].counters
    assert_sane(run, Expect((0, 1), r"."))
    assert canary.requests >= 1 and set(canary.methods) <= {"GET", "HEAD", "OPTIONS"}, canary.methods

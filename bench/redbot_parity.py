"""Does apiaudit find what REDbot finds? Caching / validation / content-negotiation notes, per URL.

    /tmp/venv/bin/python bench/redbot_parity.py [--redbot-venv /tmp/apiaudit-bench-redbot]

Serves the benchmark app of ``scan_vs_redbot.py`` plus a few endpoints with classic mistakes,
runs `apiaudit scan` once and REDbot once per URL (under a pseudo-terminal, where REDbot colours
each note by level), and lists every REDbot WARN/BAD note next to the apiaudit rule that covers it.
Exit status 1 when a REDbot note has no apiaudit counterpart. Not part of the test suite.
"""

import argparse
import gzip
import os
import pty
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_vs_redbot import make_app, redbot_bin, run_apiaudit, serve

LEVEL = re.compile(r"\x1b\[1;3([13])m(.*?)\x1b\[0;39m")
# REDbot note summary (start) -> apiaudit rules that say the same thing. Notes that come from
# httplint are matched by summary text against apiaudit's http.lint.* findings instead.
EQUIVALENT: dict[str, tuple[str, ...]] = {
    "This response allows caches to assign their own freshness lifetimes": (
        "http.cache.no-cache-control",
        "http.cache.heuristic-freshness",
    ),
    "The ETag doesn't change between negotiated representations": ("http.compression.same-etag",),
    "This response is missing required headers": ("http.validation.304-missing-headers",),
    "An If-None-Match conditional request returned the full content unchanged": (
        "http.validation.etag-ignored",
    ),
    "An If-Modified-Since conditional request returned the full content unchanged": (
        "http.validation.ims-ignored",
    ),
    "Vary: * effectively makes this response uncacheable": ("http.cache.vary-star",),
    "The compressed response is negotiated, but doesn't have an appropriate Vary": (
        "http.compression.no-vary",
    ),
    "The resource doesn't send Vary consistently": ("http.compression.no-vary",),
    "The response body is different when content negotiation happens": ("http.compression.body-mismatch",),
}


def add_mistakes(app: Any) -> list[str]:
    body = b'{"items": [' + b",".join(b'{"id": %d}' % i for i in range(300)) + b"]}"

    def vary_star() -> Response:
        return Response(
            body, media_type="application/json", headers={"Vary": "*", "Cache-Control": "max-age=60"}
        )

    def gzip_novary(request: Request) -> Response:
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(
                gzip.compress(body),
                media_type="application/json",
                headers={"Content-Encoding": "gzip", "Cache-Control": "max-age=60"},
            )
        return Response(body, media_type="application/json", headers={"Cache-Control": "max-age=60"})

    def ims_ignored() -> Response:
        return Response(
            body,
            media_type="application/json",
            headers={"Last-Modified": "Tue, 01 Sep 2026 10:00:00 GMT", "Cache-Control": "max-age=60"},
        )

    def etag_ignored() -> Response:
        return Response(
            body, media_type="application/json", headers={"ETag": '"fixed"', "Cache-Control": "max-age=60"}
        )

    routes = {
        "/vary-star": vary_star,
        "/gzip-novary": gzip_novary,
        "/ims-ignored": ims_ignored,
        "/etag-ignored": etag_ignored,
    }
    for path, fn in routes.items():
        app.add_api_route(path, fn, methods=["GET"])
    return list(routes)


def redbot_notes(exe: Path, url: str) -> list[tuple[str, str]]:
    """(level, summary) of REDbot's WARN ("3") and BAD ("1") notes, read from its coloured TTY output."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(exe), url], stdout=slave, stderr=subprocess.DEVNULL, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    return [("bad" if m.group(1) == "1" else "warn", m.group(2).strip()) for m in LEVEL.finditer(text)]


def covered(summary: str, findings: list[dict[str, Any]]) -> str | None:
    for start, rules in EQUIVALENT.items():
        if summary.startswith(start):
            hit = [f["rule"] for f in findings if f["rule"] in rules]
            return hit[0] if hit else None
    for f in findings:
        if f["rule"].startswith("http.lint.") and summary.rstrip(".") in f["message"]:
            return f"{f['rule']} ({f['evidence'].get('note')})"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--redbot-venv", type=Path, default=Path("/tmp/apiaudit-bench-redbot"))
    args = ap.parse_args()
    exe = redbot_bin(args.redbot_venv)
    app = make_app(6)
    extra = add_mistakes(app)
    base, server = serve(app)
    urls = [f"{base}/r{i}" for i in range(6)] + [base + p for p in extra]
    try:
        _, report = run_apiaudit(urls, Path(tempfile.mkdtemp()) / "scan.json")
        notes = {url: redbot_notes(exe, url) for url in urls}
    finally:
        server.should_exit = True
    missing = 0
    for url in urls:
        findings = [f for f in report["findings"] if f["location"]["url"] == url]
        for level, summary in notes[url]:
            ours = covered(summary, findings)
            missing += ours is None
            print(f"{url[len(base) :]:14} REDbot {level:4} {summary[:70]:70} -> {ours or 'NOT FOUND'}")
    total = sum(len(n) for n in notes.values())
    print(f"\nREDbot WARN/BAD notes: {total}; covered by apiaudit: {total - missing}; missing: {missing}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the API-level probes cost: requests per endpoint by probe family, and scan wall time, against
the FastAPI test app of tests/http/api (served here by uvicorn on 127.0.0.1).

    /tmp/venv/bin/python bench/scan_api_requests.py

Prints one table per --samples setting. Not part of the test suite.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import apiaudit_cmd, serve_asgi  # noqa: E402

PATHS = [
    "/good/users",
    "/bad/unbounded",
    "/bad/offset",
    "/bad/overlap",
    "/bad/nofields",
    "/bad/session",
    "/cached",
    "/slow-cached",
    "/good/bearer",
    "/page",
]
FAMILIES = (
    ("page-", "pagination"),
    ("fields-", "fields"),
    ("sample-", "latency"),
    ("burst-", "ratelimit"),
    ("coding-", "compression (scan-core)"),
    ("revalidate-", "validation (scan-core)"),
    ("base", "base"),
)


def family(purpose: str) -> str:
    return next((name for prefix, name in FAMILIES if purpose.startswith(prefix)), purpose.split(":")[0])


def main() -> None:
    spec = importlib.util.spec_from_file_location("api_app", ROOT / "tests/http/api/conftest.py")
    assert spec and spec.loader
    app_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_mod)
    for samples in ("0", "5"):
        with serve_asgi(app_mod.make_app(limited=True)) as url, tempfile.TemporaryDirectory() as tmp:
            evidence = Path(tmp) / "ev.json"
            t0 = time.monotonic()
            subprocess.run(
                [
                    *apiaudit_cmd(),
                    "scan",
                    *[url + p for p in PATHS],
                    "--samples",
                    samples,
                    "--format",
                    "json",
                    "--save-evidence",
                    str(evidence),
                    "-o",
                    str(Path(tmp) / "r.json"),
                ],
                check=False,
                capture_output=True,
            )
            wall = time.monotonic() - t0
            ev = json.loads(evidence.read_text())
        per_endpoint = {
            ep["url"].removeprefix(url): Counter(family(x["purpose"]) for x in ep["exchanges"])
            for ep in ev["endpoints"]
        }
        extra = Counter(family(x["purpose"]) for x in ev["extra"])
        total = sum(sum(c.values()) for c in per_endpoint.values()) + sum(extra.values())
        print(
            f"\n--samples {samples}: {total} requests for {len(PATHS)} endpoints, "
            f"{wall:.2f} s wall (CLI start incl.)"
        )
        for path, counts in per_endpoint.items():
            print(
                f"  {path:16} {sum(counts.values()):3}  "
                + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
        print(
            f"  {'(scan-wide)':16} {sum(extra.values()):3}  "
            + ", ".join(f"{k} {v}" for k, v in sorted(extra.items()))
        )


if __name__ == "__main__":
    main()

"""Startup time of the console script: `apiaudit --help`, `--version`, `rules`, `checklist`.

Goal (issue 2): `apiaudit --help` <= 0.25 s. Heavy modules (httpx, psycopg, sqlglot, jinja2, httplint)
are imported lazily inside commands; tests/integration/test_cli.py checks that --help loads none of them.

    python bench/startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def measure(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = shutil.which("apiaudit", path=str(Path(sys.executable).parent)) or "apiaudit"
    baseline = measure([sys.executable, "-c", "pass"], args.runs)
    print(f"{'command':<28} {'median s':>9} {'p90 s':>7}")
    print(f"{'python -c pass':<28} {statistics.median(baseline):9.3f} {sorted(baseline)[int(args.runs * 0.9) - 1]:7.3f}")
    for argv in (["--help"], ["--version"], ["checklist"], ["rules"]):
        t = measure([script, *argv], args.runs)
        print(f"{'apiaudit ' + ' '.join(argv):<28} {statistics.median(t):9.3f} {sorted(t)[int(args.runs * 0.9) - 1]:7.3f}")


if __name__ == "__main__":
    main()

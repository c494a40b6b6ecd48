"""Run the real ``apiaudit`` console script and measure it: exit code, output, wall time, peak RSS.

Peak RSS comes from ``os.wait4`` on that one child (``ru_maxrss``, KiB on Linux), not from
``RUSAGE_CHILDREN``, which is a maximum over every child the test process ever reaped. A run that
outlives ``timeout`` is killed and reported as ``timed_out`` (a hang is a finding, not a stuck suite).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s+File \".*\", line \d+", re.MULTILINE)


@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    wall_s: float
    rss_mb: float
    timed_out: bool

    def report(self) -> dict[str, Any] | None:
        """The JSON report on stdout, or None when stdout is not one JSON document."""
        try:
            data = json.loads(self.stdout)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def has_traceback(self) -> bool:
        return bool(TRACEBACK.search(self.stderr) or TRACEBACK.search(self.stdout))

    def internal_error(self) -> bool:
        return "internal error" in self.stderr

    def __repr__(self) -> str:
        rep = self.report()
        shown = (
            json.dumps(
                {
                    "errors": rep.get("errors"),
                    "stats": rep.get("stats"),
                    "rules": [f.get("rule") for f in rep.get("findings") or []],
                }
            )[:1500]
            if rep is not None
            else self.stdout[:800]
        )
        return (
            f"Run(code={self.code}, wall={self.wall_s:.1f}s, rss={self.rss_mb:.0f}MB, "
            f"timed_out={self.timed_out}, "
            f"stderr={self.stderr[-1200:]!r}, report={shown})"
        )


def apiaudit_cmd() -> list[str]:
    script = shutil.which("apiaudit", path=str(Path(sys.executable).parent)) or shutil.which("apiaudit")
    return [script] if script else [sys.executable, "-m", "apiaudit"]


# Address-space ceiling for every audited run: a runaway allocation fails inside the child (and the
# test fails on its RSS bound) instead of swapping a machine shared with other test runs.
ADDRESS_SPACE_CAP = 4 << 30


# apiaudit runs under a small trampoline: it sets the address-space cap, forks, execs apiaudit in the
# child and reports the child's ru_maxrss. Measured directly, the peak would include pytest's own
# pages: Linux keeps a process's maxrss across exec, and a (v)fork child starts from its parent's mm
# (176 MB on a full run), so every run looked like 176 MB.
_TRAMPOLINE = """
import os, resource, signal, sys
cap, report = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[3], sys.argv[3:])
signal.signal(signal.SIGINT, lambda *a: os.kill(pid, signal.SIGINT))
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as fh:
    fh.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
sys.exit(os.WEXITSTATUS(status))
"""


def run_measured(
    *args: str,
    timeout: float = 90.0,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    stdin: bytes | None = None,
) -> Run:
    fd, rss_file = tempfile.mkstemp(prefix="apiaudit-rss-")
    os.close(fd)
    cmd = [sys.executable, "-c", _TRAMPOLINE, str(ADDRESS_SPACE_CAP), rss_file, *apiaudit_cmd(), *args]
    full_env = {**os.environ}
    full_env.pop("GITHUB_STEP_SUMMARY", None)  # only when a test asks for it
    full_env.update(env or {})
    full_env.pop("APIAUDIT_DEBUG", None)
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        env=full_env,
        cwd=cwd,
        start_new_session=True,
    )
    out: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=_drain, args=(proc.stdout, out, "out"), daemon=True),
        threading.Thread(target=_drain, args=(proc.stderr, out, "err"), daemon=True),
    ]
    for t in readers:
        t.start()
    if stdin is not None and proc.stdin is not None:
        threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    timed_out = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - start > timeout:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
    for t in readers:
        t.join(timeout=5)
    try:
        rss_kib = float(Path(rss_file).read_text() or 0)
    except (OSError, ValueError):  # killed on timeout before it could say
        rss_kib = float(usage.ru_maxrss)
    Path(rss_file).unlink(missing_ok=True)
    return Run(
        list(args),
        proc.returncode,
        out.get("out", b"").decode("utf-8", "replace"),
        out.get("err", b"").decode("utf-8", "replace"),
        wall,
        rss_kib / 1024,
        timed_out,
    )


def _drain(stream: Any, out: dict[str, bytes], key: str) -> None:
    out[key] = stream.read()


def _feed(stream: Any, data: bytes) -> None:
    try:
        stream.write(data)
        stream.close()
    except OSError:
        pass


def report_text(run: Run) -> str:
    """Everything a user would read about what happened: errors, findings, stderr (lower-cased)."""
    rep = run.report() or {}
    parts = [run.stderr]
    for err in rep.get("errors") or []:
        parts.append(json.dumps(err))
    for f in rep.get("findings") or []:
        parts.append(" ".join(str(f.get(k, "")) for k in ("rule", "title", "message")))
        parts.append(json.dumps(f.get("evidence", {})))
    parts.append(json.dumps(rep.get("stats", {})))
    return "\n".join(parts).lower()

"""The command line under stress: Ctrl-C in the middle of a scan against a silent server, output to a
full disk or a closed pipe, hostile URLs turned into a k6 script (a JavaScript injection vector).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

from hostile.measure import TRACEBACK, apiaudit_cmd, run_measured
from hostile.servers import hostile, polite_api

EVIL_URLS = [
    "http://127.0.0.1:8000/api/x';require('k6/x/exec').command('touch',['/tmp/pwn']);'",
    'http://127.0.0.1:8000/api/x"+globalThis.pwned+"',
    'http://127.0.0.1:8000/api/y}\\"];pwned();//',
    "http://127.0.0.1:8000/api/`${__ENV.X}`</script>",
]


def test_ctrl_c_during_a_scan_exits_130_without_traceback(tmp_path: Path) -> None:
    with hostile("never-answers") as target:
        proc = subprocess.Popen(
            [*apiaudit_cmd(), "scan", target.url, "--format", "json", "--timeout", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        time.sleep(2.0)  # the scan is now waiting on the silent server
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            raise AssertionError("still running 20 s after Ctrl-C") from None
    text = err.decode(errors="replace")
    assert proc.returncode == 130, (proc.returncode, text[-2000:])
    assert not TRACEBACK.search(text), text[-3000:]


def test_output_to_a_full_disk_is_a_clear_error(tmp_path: Path) -> None:
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        run = run_measured(
            "scan", f"{base}/api/a", "--samples", "0", "--format", "json", "-o", "/dev/full", cwd=tmp_path, timeout=60
        )
    assert not run.has_traceback() and not run.internal_error(), run
    assert run.code == 2 and "/dev/full" in run.stderr, run


def test_output_to_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    server = polite_api(delay_s=0.0)
    with server.running() as base:
        proc = subprocess.Popen(
            [*apiaudit_cmd(), "scan", f"{base}/api/a", "--samples", "0", "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        assert proc.stdout is not None
        proc.stdout.close()  # like `apiaudit scan ... | head -0`
        _, err = proc.communicate(timeout=60)
    assert not TRACEBACK.search(err.decode(errors="replace")), err.decode(errors="replace")[-2000:]
    assert b"internal error" not in err


def test_k6_script_escapes_hostile_urls(tmp_path: Path) -> None:
    out = tmp_path / "load.js"
    run = run_measured("k6", *EVIL_URLS, "-o", str(out), cwd=tmp_path, timeout=60)
    assert run.code == 0 and not run.has_traceback(), run
    script = out.read_text()
    # Every url: "..." literal must be a well-formed (JSON-compatible) string that decodes to the URL.
    urls = [json.loads(f'"{m}"') for m in re.findall(r'url: "((?:[^"\\]|\\.)*)"', script)]
    assert len(urls) == len(EVIL_URLS), script
    for evil, got in zip(EVIL_URLS, urls, strict=True):
        assert got.split("/api/")[1] in (evil.split("/api/")[1], _quoted(evil.split("/api/")[1])), (evil, got)
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', script)
    code = re.sub(r"'(?:[^'\\]|\\.)*'", "''", code)
    assert "pwned" not in code and "require(" not in code, "target text escaped its string literal"


def _quoted(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/;:@&=+$,!~*'()?#[]")

"""Invalid Unicode from the target never costs the report (issue 12 item 7).

JSON allows ``"\\ud800"`` (a lone surrogate once decoded); a log may carry such escapes or invalid UTF-8.
Before the fix every output format failed with UnicodeEncodeError ("internal error", exit 3): a target
could suppress its own report. Now the model sanitises once and every format is written as valid UTF-8.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hostile.measure import run_measured

FORMATS = ["table", "json", "html", "sarif", "junit", "markdown"]
ITEMS = ",".join('{"id": ' + str(i) + ', "\\udfff\\ud800name": "x\\udc80"}' for i in range(150))
BODY = ('{"\\ud800items": [' + ITEMS + '], "next\\ud800": "/sur?page=\\ud800"}').encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("X-Odd", "\udcff\udcfe".encode("utf-8", "surrogateescape").decode("latin-1"))
        self.end_headers()
        self.wfile.write(BODY)

    do_HEAD = do_GET


@contextlib.contextmanager
def _server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def surrogate_api() -> Iterator[str]:
    with _server() as url:
        yield url


@pytest.fixture(scope="module")
def surrogate_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("logs") / "sur.json"
    lines = [json.dumps({"timestamp": "2026-12-05 01:00:00.000 UTC", "pid": 7, "session_id": "a.1",
                         "error_severity": "LOG", "message": "statement: SELECT * FROM \"t\ud800\" WHERE id = 0"})]
    lines += [json.dumps({"timestamp": f"2026-12-05 01:00:00.{i:03d} UTC", "pid": 7, "session_id": "a.1",
                          "error_severity": "LOG\ud800",
                          "message": f"statement: SELECT \"c\udfff\" FROM \"u\ud800\" WHERE id = {i}"})
              for i in range(1, 9)]
    lines += [json.dumps({"timestamp": f"2026-12-05 01:00:01.{i:03d} UTC", "pid": 7, "session_id": "a.1",
                          "error_severity": "LOG",
                          "message": f"statement: SELECT \"c\udfff\" FROM \"u\ud800\" WHERE id = {i}"})
              for i in range(1, 9)]
    raw = ("\n".join(lines) + "\n").encode() + b"\xed\xa0\x80 \xff\xfe LOG:  statement: SELECT 1\n"
    path.write_bytes(raw)
    return path


def _written(path: Path) -> str:
    text = path.read_bytes().decode("utf-8")  # strict: valid UTF-8 or the test fails
    assert text.strip()
    return text


def _every_format(tmp_path: Path, *args: str) -> dict[str, str]:
    """One run writing all six formats (--output-dir): {file name: its text, decoded strictly}."""
    out = tmp_path / "out"
    fmts = [a for fmt in FORMATS for a in ("--format", fmt)]
    run = run_measured(*args, *fmts, "--output-dir", str(out), "--fail-on", "none", "-q", timeout=60)
    assert not run.has_traceback() and not run.internal_error(), run
    assert run.code == 0, run
    written = {p.name: _written(p) for p in out.iterdir()}
    assert len(written) == len(FORMATS), written.keys()
    return written


def test_scan_report_survives_lone_surrogates(tmp_path: Path, surrogate_api: str) -> None:
    _every_format(tmp_path, "scan", f"{surrogate_api}/sur", "--samples", "0")


def test_log_report_survives_lone_surrogates(tmp_path: Path, surrogate_log: Path) -> None:
    written = _every_format(tmp_path, "db", "--log", str(surrogate_log))
    rep = json.loads(written["report.json"])
    assert rep["workload"] and "\ufffd" in json.dumps(rep["workload"], ensure_ascii=False)
    assert rep["stats"]["log_per_file"][0]["lines_unparsed"] == 1, rep["stats"]  # the raw-bytes line


def test_stdout_report_survives_lone_surrogates(surrogate_api: str) -> None:
    run = run_measured("scan", f"{surrogate_api}/sur", "--samples", "0", "--format", "json", "--fail-on", "none",
                       timeout=60)
    assert run.code == 0 and run.report() is not None, run

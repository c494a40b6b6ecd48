"""Log inputs: paths and globs, ``-`` for stdin, gzip/zstd by magic bytes, format sniffing.

Everything streams: a file is read line by line through a decompressor, never loaded whole.
Invalid UTF-8 is replaced (U+FFFD) and counted by a codec error handler, so valid files pay nothing.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from apiaudit.errors import UsageError

FORMATS = ("auto", "stderr", "csvlog", "jsonlog", "sql")
SNIFF_BYTES = 65_536
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_CSV_HEAD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [^,]*)?,")
_STDERR_HEAD = re.compile(r"(?:^|[\s\]):>])[^\W\d_][^\W_]*:  ")  # "... LOG:  ", also with no prefix

BAD_BYTES = [0]


def _count_bad(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    BAD_BYTES[0] += err.end - err.start
    return "\ufffd", err.end


codecs.register_error("apiaudit-count", _count_bad)


def expand(paths: list[str]) -> list[str]:
    """Expand globs; ``-`` is stdin. A path that matches nothing is a usage error (exit 2)."""
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.append(path)
            continue
        if glob.has_magic(path):
            matches = sorted(p for p in glob.glob(os.path.expanduser(path)) if os.path.isfile(p))
            if not matches:
                raise UsageError(f"--log {path}: no file matches this pattern")
            out.extend(matches)
            continue
        full = os.path.expanduser(path)
        if os.path.isdir(full):
            raise UsageError(f"--log {path}: is a directory (give files or a glob such as {path}/*.log)")
        if not os.path.isfile(full):
            raise UsageError(f"--log {path}: no such file")
        out.append(full)
    if not out:
        raise UsageError("--log: no log file given")
    return out


class _Prepend(io.RawIOBase):
    """A raw stream that first returns ``head`` (already read for sniffing), then the rest."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@contextmanager
def open_binary(path: str) -> Iterator[tuple[bytes, IO[bytes]]]:
    """(first bytes, stream positioned at the start) of a plain, gzip or zstd file or of stdin."""
    raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        magic = raw.read(4)
        stream: IO[bytes] = io.BufferedReader(_Prepend(magic, raw), buffer_size=1 << 20)
        if magic.startswith(_GZIP):
            stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
        elif magic.startswith(_ZSTD):
            import zstandard

            zst = zstandard.ZstdDecompressor().stream_reader(stream)
            stream = io.BufferedReader(zst, buffer_size=1 << 20)
        head = stream.read(SNIFF_BYTES)
        yield head, io.BufferedReader(_Prepend(head, stream), buffer_size=1 << 20)
    finally:
        if path != "-":
            raw.close()


def text(stream: IO[bytes], *, newline: str | None = None) -> io.TextIOWrapper:
    return io.TextIOWrapper(stream, encoding="utf-8", errors="apiaudit-count", newline=newline)


def sniff(head: bytes, path: str) -> str | None:
    """Guess the format from the first bytes: jsonlog, csvlog, stderr, sql; None if not a log."""
    if b"\x00" in head:
        return None
    sample = head.decode("utf-8", "replace")
    lines = [ln for ln in sample.splitlines()[:200] if ln.strip()]
    if not lines:
        return "sql" if path.endswith(".sql") else "stderr"
    first = lines[0].lstrip()
    if first.startswith("{") and '"timestamp"' in first:
        return "jsonlog"
    if _CSV_HEAD.match(first) and first.count(",") >= 10:
        return "csvlog"
    if path.endswith(".sql"):
        return "sql"
    if sum(1 for ln in lines if _STDERR_HEAD.search(ln)) * 4 >= len(lines):
        return "stderr"
    if ";" in sample:
        return "sql"
    return None

"""Log inputs: paths and globs, ``-`` for stdin, gzip/zstd by magic bytes, format sniffing.

Everything streams: a file is read line by line through a decompressor, never loaded whole, and a
line longer than ``MAX_LINE`` is skipped (counted), so memory stays bounded whatever the file holds.
Invalid UTF-8 is replaced (U+FFFD) and counted by a codec error handler, so valid files pay nothing.

Records are split on ``\n`` only, never with universal newlines or ``str.splitlines``: PostgreSQL
writes a bare CR (and VT, FF, FS/GS/RS, NEL, U+2028/U+2029) inside a logged value as it is, so a
reader that split there would let anyone whose input reaches a logged value forge log entries. One
``\r`` right before the ``\n`` (a log copied from Windows) is dropped.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from apiaudit.errors import UsageError

FORMATS = ("auto", "stderr", "csvlog", "jsonlog", "sql")
SNIFF_BYTES = 65_536
MAX_LINE = 64 << 20  # characters of one line; a longer one is skipped and counted as unparsed
ZSTD_INPUT_CHUNK = 16_384  # compressed bytes per decode step: bounds one step's output (~2 MB at 128:1)
_GZIP = b"\x1f\x8b"
_ZSTD = b"\x28\xb5\x2f\xfd"
_CSV_HEAD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [^,]*)?,")
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
# Random bytes are ~10 % C0 controls and mostly invalid UTF-8; text logs have next to no controls, and a
# log in a legacy 8-bit encoding (Latin-1, cp1251 messages) has many U+FFFD but no controls.
BINARY_CONTROLS = 0.02
BINARY_INVALID = 0.5
# "... LOG:  ", also with no prefix, or after any punctuation ending a prefix (Azure's "%t-%c-": "-LOG:  ")
_STDERR_HEAD = re.compile(r"(?:^|(?<!\w))[^\W\d_][^\W_]*:  ")

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
        if not os.path.exists(full):
            raise UsageError(f"--log {path}: no such file")
        if not os.path.isfile(full):  # /dev/zero, a FIFO, a socket: endless or blocking; use - for a pipe
            raise UsageError(f"--log {path}: not a regular file (pipe it to --log - instead)")
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


class Cut(io.RawIOBase):
    """A decompressed stream that ends quietly where the compressed file is truncated or corrupt.

    A log copied while it was being compressed must keep the lines before the cut: the parser then
    flushes its pending statement as at a normal end of file, and ``problem`` says what happened.
    """

    def __init__(self, inner: IO[bytes], kind: str) -> None:
        self._inner, self._kind = inner, kind
        self.problem: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.problem is not None:
            return 0
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, OSError, zlib.error) as exc:  # gzip: EOFError, BadGzipFile (OSError), zlib.error
            self.problem = f"{self._kind} file truncated or corrupt ({type(exc).__name__}: {exc})"
            return 0
        buffer[: len(data)] = data
        return len(data)


class _Zstd(io.RawIOBase):
    """zstd frames decoded one small input chunk at a time; input that ends inside a frame raises EOFError.

    (zstandard's stream_reader stops silently at a cut: a truncated file would look complete.)
    Small input chunks bound the output of one step for ordinary logs (~10-20x ratio).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        import zstandard

        self._raw, self._dctx, self._error = raw, zstandard.ZstdDecompressor(), zstandard.ZstdError
        self._obj = self._dctx.decompressobj()
        self._out = memoryview(b"")
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out.nbytes:
            chunk = self._raw.read(ZSTD_INPUT_CHUNK)
            if not chunk:
                if self._in_frame:
                    raise EOFError("zstd input ended inside a frame")
                return 0
            self._out = memoryview(self._feed(chunk))
        n = min(len(buffer), self._out.nbytes)
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _feed(self, chunk: bytes) -> bytes:
        parts = []
        while chunk:
            try:
                parts.append(self._obj.decompress(chunk))
            except self._error as exc:
                raise OSError(f"corrupt zstd data: {exc}") from exc
            self._in_frame = not self._obj.eof
            chunk = b""
            if self._obj.eof:  # the next frame (zstd files may hold several) starts in unused_data
                chunk = self._obj.unused_data
                self._obj = self._dctx.decompressobj()
        return b"".join(parts)


@contextmanager
def open_binary(path: str) -> Iterator[tuple[bytes, IO[bytes], Cut | None]]:
    """(first bytes, stream positioned at the start, the cut guard of a compressed file) of a plain,
    gzip or zstd file or of stdin. ``guard.problem`` is set when a compressed file ended early."""
    raw: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    try:
        magic = raw.read(4)
        stream: IO[bytes] = io.BufferedReader(_Prepend(magic, raw), buffer_size=1 << 20)
        guard = None
        if magic.startswith(_GZIP):
            guard = Cut(gzip.GzipFile(fileobj=stream, mode="rb"), "gzip")  # type: ignore[arg-type]
        elif magic.startswith(_ZSTD):
            guard = Cut(_Zstd(stream), "zstd")  # type: ignore[arg-type]
        if guard is not None:
            stream = io.BufferedReader(guard, buffer_size=1 << 20)
        head = stream.read(SNIFF_BYTES)
        yield head, io.BufferedReader(_Prepend(head, stream), buffer_size=1 << 20), guard
    finally:
        if path != "-":
            raw.close()


def text(stream: IO[bytes]) -> io.TextIOWrapper:
    """UTF-8 text whose lines end at ``\n`` only (``newline="\n"``: no universal newlines)."""
    return io.TextIOWrapper(stream, encoding="utf-8", errors="apiaudit-count", newline="\n")


class Lines:
    """The lines of ``stream`` split on ``\n`` only, each ending in ``\n`` (the last one may not).

    A ``\r\n`` ending becomes ``\n``; every other CR stays in the line as data. A line longer than
    ``limit`` characters is skipped without being held in memory and counted in ``overlong``.
    """

    def __init__(self, stream: IO[bytes], limit: int = MAX_LINE) -> None:
        self._text = text(stream)
        self.limit = limit
        self.overlong = 0

    def __iter__(self) -> Iterator[str]:
        readline, limit = self._text.readline, self.limit
        while True:
            line = readline(limit)
            if not line:
                return
            if len(line) >= limit and line[-1] != "\n":
                self.overlong += 1
                while line and line[-1] != "\n":  # skip the rest of the line, one bounded piece at a time
                    line = readline(limit)
                continue
            if line[-2:] == "\r\n":
                line = line[:-2] + "\n"
            yield line


_SURROGATE = re.compile("[\ud800-\udfff]")


def no_surrogates(text: str) -> str:
    """``text`` with lone surrogates (a JSON ``"\\ud800"`` escape decodes to one) replaced by U+FFFD: they
    cannot be encoded as UTF-8, so the normaliser or a report writer would fail on them."""
    return _SURROGATE.sub("\ufffd", text)


def split_lines(sample: str) -> list[str]:
    """``sample`` split like :class:`Lines` splits a file (never ``str.splitlines``), without the ``\n``."""
    return [ln[:-1] if ln[-1:] == "\r" else ln for ln in sample.split("\n")]


def _text_or_none(head: bytes) -> str | None:
    """The head as text, or None when it is binary.

    NUL runs are ignored, not fatal: a crashed or preallocated log file holds them among good lines
    (the parser then counts such a line as unparsed). What is left must be text: few C0 controls and
    at most half invalid UTF-8.
    """
    cleaned = head.replace(b"\x00", b"") if b"\x00" in head else head
    if len(cleaned) < len(head) and not cleaned.strip():
        return None
    sample = cleaned.decode("utf-8", "replace")
    if len(_CONTROL.findall(sample)) > BINARY_CONTROLS * len(sample):
        return None
    return None if sample.count("\ufffd") > BINARY_INVALID * len(sample) else sample


def sniff(head: bytes, path: str) -> str | None:
    """Guess the format from the first bytes: jsonlog, csvlog, stderr, sql; None if not a log."""
    sample = _text_or_none(head)
    if sample is None:
        return None
    lines = [ln for ln in split_lines(sample)[:200] if ln.strip()]
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

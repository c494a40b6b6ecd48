"""Bounded content decoding (RFC 9110 §8.4.1): gzip, deflate, br, zstd.

We ask servers for one coding at a time and read raw bytes, so decoding is ours and can be capped:
a decompression bomb stops at ``cap`` decoded bytes instead of exhausting memory. Only the first
``keep`` decoded bytes are kept; the rest is hashed and counted.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 64 * 1024
SUPPORTED = ("identity", "gzip", "x-gzip", "deflate", "br", "zstd")


@dataclass
class Decoded:
    body: bytes  # first ``keep`` bytes
    size: int  # decoded bytes produced (stops at cap)
    sha256: str
    over_cap: bool
    error: str | None = None


def _gzip(data: bytes | bytearray, cap: int, wbits: int) -> Iterator[bytes]:
    d = zlib.decompressobj(wbits)
    view = memoryview(data)
    produced = 0
    for start in range(0, len(data), CHUNK):
        buf = view[start:start + CHUNK].tobytes()
        while buf and produced <= cap:
            out = d.decompress(buf, CHUNK)
            produced += len(out)
            yield out
            buf = d.unconsumed_tail
        if produced > cap or d.eof:
            return
    while produced <= cap:
        out = d.flush(CHUNK) if not d.eof else b""
        if not out:
            return
        produced += len(out)
        yield out


def _deflate(data: bytes | bytearray, cap: int) -> Iterator[bytes]:
    # "deflate" is meant to be zlib-wrapped (RFC 9110 §8.4.1.2) but some servers send raw deflate.
    wbits = zlib.MAX_WBITS if data[:1] and (data[0] & 0x0F) == 8 else -zlib.MAX_WBITS
    yield from _gzip(data, cap, wbits)


def _brotli(data: bytes | bytearray, cap: int) -> Iterator[bytes]:
    import brotli

    d = brotli.Decompressor()
    produced = 0
    for start in range(0, len(data), CHUNK):
        out = d.process(data[start:start + CHUNK], output_buffer_limit=CHUNK)
        # Pending output is drained with empty input, one bounded buffer at a time.
        while out:
            produced += len(out)
            yield out
            if produced > cap or d.is_finished():
                return
            out = d.process(b"", output_buffer_limit=CHUNK)


def _zstd(data: bytes | bytearray, cap: int) -> Iterator[bytes]:
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    produced = 0
    while produced <= cap:
        out = reader.read(CHUNK)
        if not out:
            return
        produced += len(out)
        yield out


def _chunks(data: bytes | bytearray, coding: str, cap: int) -> Iterator[bytes | bytearray]:
    if coding == "identity":
        yield data
    elif coding in ("gzip", "x-gzip"):
        yield from _gzip(data, cap, 16 + zlib.MAX_WBITS)
    elif coding == "deflate":
        yield from _deflate(data, cap)
    elif coding == "br":
        yield from _brotli(data, cap)
    elif coding == "zstd":
        yield from _zstd(data, cap)
    else:
        raise ValueError(f"unsupported content-coding {coding!r}")


def decode(data: bytes | bytearray, coding: str, *, cap: int, keep: int) -> Decoded:
    """Decode ``data`` (one coding, or "identity"); never produces more than ~cap bytes.

    Chunks are hashed through memoryviews and dropped at once: only the ``keep`` head is copied."""
    digest = hashlib.sha256()
    kept = bytearray()
    size = 0
    error = None
    try:
        for chunk in _chunks(data, coding.strip().lower() or "identity", cap):
            view = memoryview(chunk)
            take = min(len(chunk), cap + 1 - size) if size <= cap else 0
            digest.update(view[:take])
            if len(kept) < keep:
                kept += view[: keep - len(kept)]
            view.release()
            size += len(chunk)
            if size > cap:
                break
    except Exception as exc:  # corrupt stream, unknown coding: keep what decoded, say why
        error = f"{coding} decoding failed: {type(exc).__name__}: {exc}"
    return Decoded(bytes(kept), min(size, cap + 1), digest.hexdigest(), size > cap, error)

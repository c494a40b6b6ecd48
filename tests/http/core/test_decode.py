"""Bounded decoding: every coding round-trips, and bombs stop at the cap instead of eating memory."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from apiaudit.http.decode import decode

RAW = b'{"id": 1, "name": "a"},' * 5000
ENCODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.compress,
    "identity": lambda b: b,
}


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_round_trip(coding: str) -> None:
    out = decode(ENCODERS[coding](RAW), coding, cap=10 * len(RAW), keep=len(RAW))
    assert (out.body, out.size, out.over_cap, out.error) == (RAW, len(RAW), False, None)


def test_raw_deflate_accepted() -> None:
    comp = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    data = comp.compress(RAW) + comp.flush()
    assert decode(data, "deflate", cap=10**7, keep=10).size == len(RAW)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_bomb_stops_at_cap(coding: str) -> None:
    bomb = ENCODERS[coding](b"\0" * 20_000_000)  # 20 MB of zeros: a few KB compressed
    out = decode(bomb, coding, cap=1_000_000, keep=1000)
    assert out.over_cap
    assert out.size <= 1_000_001
    assert len(out.body) == 1000


def test_keep_bounds_stored_body() -> None:
    out = decode(gzip.compress(RAW), "gzip", cap=10**7, keep=100)
    assert len(out.body) == 100 and out.size == len(RAW)


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd", "compress"])
def test_garbage_is_an_error_not_an_exception(coding: str) -> None:
    out = decode(b"this is not compressed", coding, cap=1000, keep=1000)
    assert out.error and coding in out.error

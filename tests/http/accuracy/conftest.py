"""Fixtures of the issue-14 accuracy tests: the app of ``tests/scan_accuracy.py`` under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import serve_asgi  # type: ignore[attr-defined]
from scan_accuracy import make_app, make_plain_app


@pytest.fixture(scope="module")
def realapp() -> Iterator[str]:
    with serve_asgi(make_app()) as base:
        yield base


@pytest.fixture(scope="module")
def plainapp() -> Iterator[str]:
    with serve_asgi(make_plain_app()) as base:
        yield base

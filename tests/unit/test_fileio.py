"""apiaudit.fileio: bounded reads and symlink-safe atomic writes (the rules README "Safety" states)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from apiaudit.fileio import UnsafePath, atomic_append, atomic_write, bounded_read


def test_bounded_read_refuses_what_is_not_a_small_regular_file(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.write_bytes(b"x" * 100)
    assert bounded_read(small, limit=100) == b"x" * 100
    with pytest.raises(UnsafePath, match="larger than 99 bytes"):
        bounded_read(small, limit=99)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafePath, match="FIFO"):
        bounded_read(fifo)  # opened non-blocking: no writer, no hang
    with pytest.raises(UnsafePath, match="device"):
        bounded_read("/dev/zero")
    with pytest.raises(UnsafePath, match="directory"):
        bounded_read(tmp_path)
    with pytest.raises(FileNotFoundError):
        bounded_read(tmp_path / "missing")


def test_unnamed_destination_that_is_a_link_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / "out" / "report.json"
    link.parent.mkdir()
    link.symlink_to(victim)
    with pytest.raises(UnsafePath, match="symbolic link"):
        atomic_write(link, "report", named=False)
    with pytest.raises(UnsafePath, match="symbolic link"):
        atomic_append(link, "report", named=False)
    assert victim.read_text() == "precious" and link.is_symlink()
    assert sorted(p.name for p in link.parent.iterdir()) == ["report.json"]


def test_named_link_is_followed_and_the_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write(link, "new \ud800", named=True)
    assert link.is_symlink() and real.read_text() == "new ?" and (real.stat().st_mode & 0o777) == 0o600
    atomic_append(link, "+more", named=True)
    assert real.read_text() == "new ?+more"


def test_named_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError):  # nobody reading: ENXIO at once
        atomic_write(fifo, "x", named=True)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(100):  # until the reader has opened its end
        try:
            atomic_write(fifo, "through the pipe", named=True)
            break
        except OSError:
            time.sleep(0.05)
    reader.join(timeout=10)
    assert got == [b"through the pipe"] and fifo.is_fifo()
    with pytest.raises(UnsafePath, match="FIFO"):
        atomic_write(fifo, "x", named=False)


def test_directory_destination_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, "x", named=True)
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "f", "x", named=True)

"""File IO that a hostile path cannot turn against the auditor: bounded reads and symlink-safe writes.

Reads (config, rules, reports, baselines, evidence, OpenAPI files): only regular files are read, the size is
checked with ``fstat`` before a byte is read and the read stops one byte past the limit, so ``/dev/zero``, a
FIFO with no writer or a 10 GB sparse file fail at once with bounded memory. A FIFO is opened non-blocking,
so opening it cannot hang either.

Writes (reports, baselines, evidence, the step summary, the demo's files): the text goes to a temporary file
in the destination folder, which then replaces the destination with ``os.replace``. A rename never follows
a symbolic link, so a link planted at the destination cannot redirect the write. The rule for links:

* a destination that is a symbolic link is refused (:class:`UnsafePath`), unless
* it is exactly the path the user named (``--output``, ``--write-baseline``, ``--save-evidence``,
  ``$GITHUB_STEP_SUMMARY``): then the link is the user's own and the file it points to is replaced.

Files apiaudit names itself inside a folder the user gave (``--output-dir DIR/report.json``, the demo's
reports) are never written through a link. A named destination that is a device or a FIFO (``-o /dev/stdout``,
``/dev/null``) is written in place, never renamed over; a FIFO nobody reads fails at once (ENXIO).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

MiB = 1 << 20
MAX_READ = 64 * MiB  # reports and evidence files; the callers pass smaller limits where they have one


class UnsafePath(OSError):
    """A path apiaudit refuses to read or write (not a regular file, too large, a planted symlink)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.strerror = message


def bounded_read(path: str | os.PathLike[str], *, limit: int = MAX_READ) -> bytes:
    """The bytes of the regular file ``path``; :class:`UnsafePath` when it is not one or holds more than
    ``limit`` bytes; ``OSError`` when it cannot be opened."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(f"not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise UnsafePath(f"larger than {_size(limit)} ({_size(st.st_size)})")
        chunks, size = [], 0
        while size <= limit:  # the file may grow after fstat: stop one byte past the limit
            chunk = os.read(fd, min(MiB, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnsafePath(f"larger than {_size(limit)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def bounded_text(path: str | os.PathLike[str], *, limit: int = MAX_READ) -> str:
    """:func:`bounded_read` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return bounded_read(path, limit=limit).decode("utf-8")


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, named: bool) -> None:
    """Replace ``path`` with ``data`` through a temporary file in the same folder.

    ``named``: the user gave exactly this path (then a symbolic link there is followed on purpose);
    otherwise a symbolic link at ``path`` is refused with :class:`UnsafePath`.
    """
    target = Path(path)
    if target.is_symlink():
        if not named:
            raise UnsafePath("is a symbolic link (refused: apiaudit only writes through a link you name)")
        target = Path(os.path.realpath(target))
    # "replace": a lone surrogate that slipped past the model boundary costs one "?", never the report
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    if _special(path, named):  # /dev/stdout, /dev/null, a FIFO the user named: written, never replaced
        _write_in_place(path, raw, append=False)
        return
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fchmod(fh.fileno(), _mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_append(path: str | os.PathLike[str], data: str, *, named: bool, limit: int = 16 * MiB) -> None:
    """Append ``data`` to the text file ``path`` the same safe way: read it (bounded), write both anew."""
    target = Path(path)
    if not named and target.is_symlink():
        raise UnsafePath("is a symbolic link")
    raw = data.encode("utf-8", "replace")
    if _special(target, named):
        _write_in_place(target, raw, append=True)
        return
    old = bounded_read(os.path.realpath(target), limit=limit) if target.exists() else b""
    atomic_write(target, old + raw, named=named)


def _special(path: str | os.PathLike[str], named: bool) -> bool:
    """Whether ``path`` exists and is not a regular file (a directory raises; so does any special file
    apiaudit named itself)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISREG(st.st_mode):
        return False
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "is a directory")
    if not named:
        raise UnsafePath(f"is {_kind(st.st_mode)}, not a regular file")
    return True


def _write_in_place(path: str | os.PathLike[str], raw: bytes, *, append: bool) -> None:
    """Write to a device or FIFO; opened non-blocking so a FIFO nobody reads fails (ENXIO) instead of hanging."""
    flags = os.O_WRONLY | os.O_NONBLOCK | (os.O_APPEND if append else 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        os.set_blocking(fd, True)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _mode(target: Path) -> int:
    """Keep an existing file's permissions; a new file gets 0666 minus the umask (as ``open`` would)."""
    try:
        st = os.stat(target)
        if stat.S_ISREG(st.st_mode):
            return stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _size(n: int) -> str:
    return f"{n / MiB:.0f} MiB" if n >= MiB else f"{n} bytes"

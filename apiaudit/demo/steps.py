"""The demo's progress display: one line per step with its time; a spinner while a step runs on a terminal."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from rich.console import Console
from rich.markup import escape


class Steps:
    def __init__(self, console: Console) -> None:
        self.console = console

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        started = time.perf_counter()
        status = self.console.status(escape(text)) if self.console.is_terminal else contextlib.nullcontext()
        try:
            with status:
                yield
        except BaseException:
            self.console.print(f"[red]✗[/] {escape(text)}")
            raise
        self.console.print(f"[green]✓[/] {escape(text)} [dim]({time.perf_counter() - started:.1f}s)[/]")

    def note(self, text: str, style: str = "yellow") -> None:
        self.console.print(f"[{style}]![/] {escape(text)}")

    def info(self, text: str) -> None:
        self.console.print(escape(text))

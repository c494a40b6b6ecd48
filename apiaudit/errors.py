"""The exception tree; each error knows its exit code (DESIGN.md "Exit codes").

    ApiauditError
    ├── UsageError        exit 2  bad flag, bad value, bad URL/DSN
    │   └── ConfigError   exit 2  bad apiaudit.yaml or rules/*.yaml (names file:line)
    └── AuditError        exit 3  could not audit: target unreachable, auth refused, nothing to audit
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_CANNOT_AUDIT = 3
EXIT_INTERRUPTED = 130


class ApiauditError(Exception):
    exit_code = EXIT_USAGE


class UsageError(ApiauditError):
    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration or rules file is wrong. ``where`` is ``file:line`` when known."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class AuditError(ApiauditError):
    exit_code = EXIT_CANNOT_AUDIT

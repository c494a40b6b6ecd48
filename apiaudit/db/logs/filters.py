"""--log-database / --log-user / --log-application: audit one application's statements in a shared log.

A server log holds every database's statements. Each message's database, user and application come
from the log itself — the stderr prefix escapes ``%d``, ``%u``, ``%a``, csvlog/jsonlog columns — or,
for a session whose prefix lacks them, from its ``connection authorized: user=… database=…
application_name=…`` line (log_connections = on). When the DSN names a database and no
--log-database is given, the filter defaults to that database (so no other database's statement is
EXPLAINed against it); a message whose database cannot be known is then kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Who = tuple[str | None, str | None, str | None]  # database, user, application_name as logged
_CONNECTION = re.compile(r"\b(user|database|application_name)=(\S*)")


@dataclass(frozen=True)
class LogFilter:
    database: str | None = None
    user: str | None = None
    application: str | None = None
    defaulted: bool = False  # the database comes from the DSN, not from --log-database

    def keep(self, who: Who) -> bool | None:
        """True/False when every filtered field is known; None when one is not logged."""
        verdict: bool | None = True
        for want, got in zip((self.database, self.user, self.application), who, strict=True):
            if want is None:
                continue
            if got is None:
                verdict = None
            elif got != want:
                return False
        return verdict

    def describe(self) -> str:
        parts = [f"{name} {value!r}" for name, value in (("database", self.database), ("user", self.user),
                                                           ("application", self.application)) if value]
        return ", ".join(parts)


def from_options(options: dict[str, Any]) -> LogFilter | None:
    """The filter asked for (``database``/``user``/``application``), else the DSN's database."""
    database, user, app = (options.get(k) or None for k in ("database", "user", "application"))
    if database or user or app:
        return LogFilter(database=database, user=user, application=app)
    default = options.get("dsn_database")
    return LogFilter(database=default, defaulted=True) if default else None


def cli_options(*, database: str | None, user: str | None, application: str | None) -> dict[str, Any]:
    """``logs`` options from the command line; they win over apiaudit.yaml."""
    given = {"database": database, "user": user, "application": application}
    return {k: v for k, v in given.items() if v}


def connection_who(msg: str) -> Who:
    """``connection authorized: user=app database=shop application_name=web`` → (shop, app, web)."""
    fields = dict(_CONNECTION.findall(msg))  # application_name is left out when it is empty
    return fields.get("database", ""), fields.get("user", ""), fields.get("application_name", "")


def dsn_database(dsn: str | None) -> str | None:
    """The database the DSN names explicitly (libpq's default, the user name, does not count)."""
    if not dsn:
        return None
    from psycopg import conninfo

    try:
        name = conninfo.conninfo_to_dict(dsn).get("dbname")
    except Exception:  # checked_dsn has already refused malformed DSNs
        return None
    return str(name) if name else None

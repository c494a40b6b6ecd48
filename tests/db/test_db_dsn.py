"""DSN checks never echo a malformed DSN: an unencoded '@', '/', '#' or space in a URL password
makes libpq read part of it as host, port or path (H20)."""

from __future__ import annotations

import pytest

from apiaudit.db.dsn import checked_dsn
from apiaudit.errors import UsageError
from apiaudit.redact import redact_text

SECRET = "zzDsnSecret91"


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://app:p@ss{SECRET}@127.0.0.1:5432/x",
        f"postgresql://app:pa/ss{SECRET}@127.0.0.1:5432/x",
        f"postgresql://app:p ss{SECRET}@127.0.0.1/x",
        f"postgres://app:p#{SECRET}@127.0.0.1/x",
        f"postgresql://app:{SECRET}",  # '@host' forgotten: libpq reads the password as the port
        f"host=127.0.0.1 user=app password='it''s {SECRET}'",
        f"host=127.0.0.1 user=app password='{SECRET}",
    ],
)
def test_malformed_dsn_errors_hold_no_password(dsn: str) -> None:
    with pytest.raises(UsageError) as err:
        checked_dsn(dsn)
    assert SECRET not in str(err.value) and "not shown" in str(err.value)
    if "://" in dsn and "@" in dsn:  # the password up to the last '@' is known to the redactor from now on
        assert SECRET not in redact_text(dsn.replace("@127", " at 127"))


def test_well_formed_dsns_pass_and_their_password_is_redacted() -> None:
    url = f"postgresql://app:p%40ss{SECRET}@127.0.0.1:5432/x?sslmode=disable"
    assert checked_dsn(url) == url
    assert SECRET not in redact_text(f"connect failed for p@ss{SECRET}")
    # '@' inside the query string is not userinfo.
    assert checked_dsn("postgresql://127.0.0.1/x?user=a@b") == "postgresql://127.0.0.1/x?user=a@b"
    with pytest.raises(UsageError, match="invalid port"):
        checked_dsn("postgresql://app@127.0.0.1:70000/x")

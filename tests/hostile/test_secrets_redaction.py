"""Secrets on the paths where parsing fails: a target whose password holds characters users forget
to percent-encode cannot be parsed, so the password was never registered; the error must still not
print it. Plus properties of the redaction itself (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiaudit import redact
from apiaudit.redact import clear_secrets, redact_text, register_secret
from hostile.measure import run_measured

MARK = "zzSECRETmark42"
# Passwords with the characters users forget to percent-encode ('/', '@', ' ', quotes): the target
# cannot be parsed, and the error must still not print the password (DESIGN.md "Secrets").
MALFORMED_TARGETS = {
    "dsn-slash": ["db", f"postgresql://app:pa/ss{MARK}@127.0.0.1:1/x"],
    "dsn-at": ["db", f"postgresql://app:p@ss{MARK}@127.0.0.1:1/x"],
    "dsn-space": ["db", f"postgresql://app:p ss{MARK}@127.0.0.1:1/x"],
    "kv-quoted-space": ["db", f"host=127.0.0.1 port=1 user=app password='it''s {MARK}'"],
    "kv-unclosed-quote": ["db", f"host=127.0.0.1 port=1 user=app password='{MARK}"],
    "redis-slash": ["cache", f"redis://:pa/ss{MARK}@127.0.0.1:1/0"],
    "redis-at": ["cache", f"redis://:p@ss{MARK}@127.0.0.1:1/0"],
    "http-slash": ["scan", f"http://user:pa/ss{MARK}@127.0.0.1:1/"],
    "http-at": ["scan", f"http://user:p@ss{MARK}@127.0.0.1:1/"],
}


@pytest.mark.parametrize("case", sorted(MALFORMED_TARGETS))
def test_malformed_target_errors_hold_no_password(tmp_path: Path, case: str) -> None:
    run = run_measured(*MALFORMED_TARGETS[case], "--format", "json", "--verbose", cwd=tmp_path, timeout=60)
    assert run.code in (2, 3), run
    assert not run.has_traceback() and not run.internal_error(), run
    assert MARK not in run.stdout + run.stderr, run


PASSWORD = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=6, max_size=24)


@settings(max_examples=300, deadline=None)
@given(password=PASSWORD, scheme=st.sampled_from(["postgresql", "redis", "http", "https"]))
def test_redaction_hides_any_url_password(password: str, scheme: str) -> None:
    """Without registration (a URL that failed to parse): the URL rule alone must hide the password."""
    url = f"{scheme}://app:{password}@db.internal:5432/x"
    if password in url.replace(password, "", 1) or password in "***":
        return  # the password also occurs as ordinary text; nothing to prove
    out = redact_text(f"error: invalid URL {url!r} (details)")
    assert password not in out, out


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=4, max_size=30).filter(lambda s: len(s.strip()) >= 4), noise=st.text(max_size=40))
def test_registered_secrets_never_survive_redaction(secret: str, noise: str) -> None:
    saved = set(redact._SECRETS)  # the registry is process-wide: leave it as found
    try:
        register_secret(secret)
        out = redact_text(noise + secret + noise)
        assert secret.strip() not in out, out
    finally:
        clear_secrets()
        redact._SECRETS.update(saved)

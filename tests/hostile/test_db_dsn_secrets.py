"""Conninfo secrets (password, sslpassword: the client key's passphrase) never appear in any output
of `apiaudit db`: report targets in every format, stdout, stderr, saved evidence, error paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from apiaudit import pgcluster
from hostile.measure import run_measured

FORMATS = ["json", "table", "html", "sarif", "junit", "markdown"]


def _dsns(pg: pgcluster.Cluster) -> list[tuple[str, str, bool]]:
    """(dsn, secret, reaches the database)."""
    host = f"host=127.0.0.1 port={pg.port} user=postgres"
    return [
        (f"postgresql://postgres@127.0.0.1:{pg.port}/postgres?sslpassword=SSLPW_SECRET_1", "SSLPW_SECRET_1", True),
        (f"{host} dbname=postgres sslpassword=SSLPW_SECRET_2", "SSLPW_SECRET_2", True),
        (f"{host} dbname=postgres sslpassword='SSL PW SECRET 3'", "SSL PW SECRET 3", True),
        (f"{host} dbname=postgres password=PW_CONTROL_4", "PW_CONTROL_4", True),
        (f"postgresql://postgres:PW%41SECRET_5@127.0.0.1:{pg.port}/postgres", "PWASECRET_5", True),
        (f"{host} dbname=nosuchdb sslpassword=SSLPW_SECRET_6", "SSLPW_SECRET_6", False),
        (f"postgresql://postgres@127.0.0.1:{pg.port}/nosuchdb?sslpassword=SSLPW_SECRET_7", "SSLPW_SECRET_7", False),
    ]


@pytest.mark.parametrize("case", range(7))
def test_conninfo_secrets_never_shown(pg: pgcluster.Cluster, tmp_path: Path, case: int) -> None:
    dsn, secret, reaches = _dsns(pg)[case]
    out = tmp_path / "out"
    evidence = tmp_path / "ev.json"
    args = ["db", dsn, "--output-dir", str(out), "--save-evidence", str(evidence), "--verbose"]
    for fmt in FORMATS:
        args += ["--format", fmt]
    run = run_measured(*args, timeout=120)
    assert not run.has_traceback(), run
    assert run.code in ((0, 1) if reaches else (3,)), run
    texts = [run.stdout, run.stderr]
    if reaches:
        files = sorted(out.iterdir())
        assert len(files) == len(FORMATS), files
        texts += [p.read_text(errors="replace") for p in files]
        texts.append(evidence.read_text())
        assert "***" in (out / "report.json").read_text()  # the target is shown, masked
    assert not [t for t in texts if secret in t], "secret leaked"

"""The distributions as PyPI would get them: built by `python -m build`, accepted by `twine check`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_build_and_twine_check(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    dists = sorted(out.iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in dists] == [".gz", ".whl"], dists
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    names = set(zipfile.ZipFile(dists[1]).namelist())
    # what the README and docs point users at ships inside the wheel
    for config in (ROOT / "sample_configs").glob("*.yaml"):
        assert f"apiaudit/sample_configs/{config.name}" in names
    assert "apiaudit/rules/checklist.yaml" in names

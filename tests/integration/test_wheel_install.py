"""A plain, non-editable install (the wheel) carries rules/ and the report templates with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next(out.glob("apiaudit-*.whl"))


def test_wheel_contains_rules_and_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "apiaudit/rules/checklist.yaml" in names
    assert "apiaudit/rules/thresholds.yaml" in names
    shipped = {Path(n).name for n in names if n.startswith("apiaudit/rules/")}
    assert shipped >= {p.name for p in (ROOT / "rules").glob("*.yaml")}


def test_installed_wheel_finds_its_rules_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = venv / "bin" / "pip"
    proc = subprocess.run([str(pip), "install", "-q", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # Dependencies come from the test environment; apiaudit itself only from the fresh venv.
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    script = venv / "bin" / "apiaudit"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import apiaudit.rules as r; print(r.rules_dir())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert where.returncode == 0, where.stderr
    assert str(venv) in where.stdout, "rules must come from the installed package, not the source tree"
    checklist = subprocess.run([str(script), "checklist", "--format", "json"], capture_output=True, text=True,
                               env=env, cwd=tmp_path, timeout=60)
    assert checklist.returncode == 0, checklist.stderr
    assert len(json.loads(checklist.stdout)) == 21
    rules = subprocess.run([str(script), "rules", "--format", "json"], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=60)
    assert rules.returncode == 0 and len(json.loads(rules.stdout)) > 0


def test_wheel_ships_every_data_file_of_the_package(wheel: Path) -> None:
    """SQL files, HTML templates, JSON schemas and the demo schema must reach an installed apiaudit."""
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [p for p in (ROOT / "apiaudit").rglob("*") if p.is_file() and p.suffix in {".sql", ".j2", ".html",
                                                                                        ".json", ".css", ".yaml"}]
    missing = [str(p.relative_to(ROOT)) for p in data if str(p.relative_to(ROOT)) not in names]
    assert missing == []

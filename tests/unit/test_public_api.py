"""The public API stays narrow (as httpx tests its exported members)."""

from __future__ import annotations

import pytest

import apiaudit
from apiaudit.errors import UsageError


def test_exported_members() -> None:
    assert sorted(apiaudit.__all__) == sorted(
        ["ChecklistStatus", "Finding", "Report", "ReportFinding", "Severity", "__version__", "audit"]
    )
    for name in apiaudit.__all__:
        assert hasattr(apiaudit, name)


def test_audit_with_nothing_to_audit_is_a_usage_error(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="nothing to audit"):
        apiaudit.audit()

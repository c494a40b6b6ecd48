"""apiaudit: audit an API, its PostgreSQL database and its cache against the performance checklist.

The public API is small: :func:`audit` and the models a report is made of. Everything else is internal.
"""

__version__ = "0.1.0"

from apiaudit.api import audit
from apiaudit.model import (
    ChecklistStatus,
    Finding,
    Report,
    ReportFinding,
    Severity,
)

__all__ = [
    "ChecklistStatus",
    "Finding",
    "Report",
    "ReportFinding",
    "Severity",
    "__version__",
    "audit",
]

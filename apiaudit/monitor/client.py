"""A read-only, bounded client of the Prometheus HTTP API (``/api/v1/query``, ``rules``, ``targets``,
``metadata``): GET only, a per-request timeout, a response-size cap and the command's deadline."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urljoin

import httpx

from apiaudit.deadline import Deadline
from apiaudit.errors import AuditError
from apiaudit.redact import redact_text

MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # a query over thousands of routes still fits; a hostile answer does not


class PromError(Exception):
    """One API call failed: the check that needed it is not assessed, with this reason."""


class PromClient:
    def __init__(self, base: str, *, headers: dict[str, str] | None = None, timeout_s: float = 10.0,
                 deadline: Deadline | None = None, auth: tuple[str, str] | None = None) -> None:
        self.base = base.rstrip("/") + "/"
        self.deadline = deadline
        self.calls = 0
        self._http = httpx.Client(headers=headers or {}, timeout=timeout_s, auth=auth, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """``data`` of one API answer; PromError with a one-line reason otherwise."""
        if self.deadline is not None and self.deadline.expired():
            raise PromError(self.deadline.reached("(request not sent)"))
        url = urljoin(self.base, path.lstrip("/"))
        self.calls += 1
        try:
            with self._http.stream("GET", url, params=params) as resp:
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise PromError(f"{path}: answer larger than {MAX_RESPONSE_BYTES} bytes")
                status = resp.status_code
        except httpx.HTTPError as exc:
            raise PromError(redact_text(f"{path}: {type(exc).__name__}: {exc}")) from None
        if status in (401, 403):
            raise PromError(f"{path}: HTTP {status} (authentication refused: --bearer / monitoring.bearer_token)")
        try:
            doc = json.loads(bytes(body))
        except ValueError:
            raise PromError(f"{path}: HTTP {status}, not a Prometheus API answer") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            error = doc.get("error") if isinstance(doc, dict) else None
            raise PromError(redact_text(f"{path}: HTTP {status}: {error or 'no success status'}"))
        return doc.get("data")

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's vector: [{"metric": {...}, "value": float}] (NaN values left out)."""
        data = self.get("api/v1/query", {"query": expr})
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            return []
        out = []
        for row in data.get("result") or []:
            try:
                value = float(row["value"][1])
            except (KeyError, IndexError, TypeError, ValueError):
                continue
            if value == value:  # not NaN (histogram_quantile of an empty rate)
                out.append({"metric": dict(row.get("metric") or {}), "value": value})
        return out


def reachable(client: PromClient) -> None:
    """One cheap call first: a wrong URL or token is exit 3 with one line, not a report of nothing."""
    try:
        client.get("api/v1/status/buildinfo")
    except PromError as exc:
        raise AuditError(f"could not audit Prometheus at {redact_text(client.base)}: {exc}") from None

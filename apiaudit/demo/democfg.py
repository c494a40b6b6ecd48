"""The demo's apiaudit.yaml: the sample API's endpoints with their hints (collection, resource class).

Written next to the reports as ``apiaudit.yaml`` so that, with ``--keep-running``, the user can re-run
``apiaudit scan -c apiaudit-demo/apiaudit.yaml`` by hand.
"""

from __future__ import annotations

from typing import Any

import yaml

from apiaudit.config import Config, parse_config
from apiaudit.demo.endpoints import STATIC_CSS, STATIC_JS
from apiaudit.rules import load_rules
from apiaudit.yamlfile import load_text

# (path, hints) — resource classes follow GUIDE.md's TTL table (short 1-5 min, medium 10-30 min, long 1-24 h).
ENDPOINTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/api/customers", {"collection": True, "resource_class": "short"}),
    ("/api/products", {"collection": True, "resource_class": "short"}),
    ("/api/export/products", {"collection": True, "resource_class": "medium"}),
    ("/api/posts", {"collection": True, "resource_class": "short"}),
    ("/api/posts/7", {"collection": False, "resource_class": "medium"}),
    ("/api/categories", {"collection": True, "resource_class": "long"}),
    ("/api/orders/recent", {"collection": True}),
    ("/api/customers/42/orders", {"collection": True}),
    (
        "/api/customers/lookup",
        {"collection": False, "resource_class": "sensitive", "params": {"email": "customer42@example.com"}},
    ),
    ("/api/recommendations", {"collection": True}),
)


def config_data(api_url: str, dsn: str | None, log_file: str | None) -> dict[str, Any]:
    targets: dict[str, Any] = {"api": [api_url]}
    if dsn:
        targets["database"] = dsn
    if log_file:
        targets["logs"] = [log_file]
    return {
        "targets": targets,
        "endpoints": [{"path": path, **hints} for path, hints in ENDPOINTS],
        "static": [api_url + STATIC_JS, api_url + STATIC_CSS],
        "http": {"metrics_path": "/metrics"},
    }


def config_yaml(data: dict[str, Any]) -> str:
    header = (
        "# apiaudit configuration for the demo's sample API (written by `apiaudit demo`).\n"
        "# With `apiaudit demo --keep-running`, try: apiaudit scan -c apiaudit-demo/apiaudit.yaml\n"
    )
    return header + str(yaml.safe_dump(data, sort_keys=False))


def demo_config(data: dict[str, Any]) -> Config:
    """Validate the demo settings through the same parser as a user's apiaudit.yaml."""
    return parse_config(load_text(config_yaml(data), "apiaudit-demo/apiaudit.yaml"), load_rules())

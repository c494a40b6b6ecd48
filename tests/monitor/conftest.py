"""Fixtures of the monitor tests: see tests/prometheus_server.py."""

from prometheus_server import monitored  # noqa: F401  (a fixture)

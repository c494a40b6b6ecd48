"""Bounds every cache collector honours (config ``cache:`` section and ``--sample-keys``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    sample_keys: int = 1000  # total keys sampled per server
    scan_count: int = 100  # SCAN COUNT hint, also the pipeline batch size
    time_cap_s: float = 5.0  # wall-clock cap on sampling per server
    timeout_s: float = 5.0  # connect and per-command socket timeout
    metadump_lines: int = 0  # Memcached metadump lines to read (0 = same as sample_keys)

    @property
    def dump_lines(self) -> int:
        return self.metadump_lines or self.sample_keys

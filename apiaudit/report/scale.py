"""The value axis of the bar charts: linear with 1/2/5 steps, or logarithmic for wide ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass

LABEL_W = 300  # x where the plot starts (left of it: the row labels)
LOG_RATIO = 200  # switch to a log axis when the largest value is this many times the smallest


@dataclass(frozen=True)
class Scale:
    """Maps values to x; logarithmic when values span orders of magnitude (response sizes)."""

    top: float
    plot_w: float
    log: bool = False

    @classmethod
    def fit(cls, top: float, plot_w: float, *, allow_log: bool, low: float) -> Scale:
        if allow_log and low > 0 and top / low >= LOG_RATIO:
            return cls(10.0 ** math.ceil(math.log10(top)), plot_w, log=True)
        return cls(nice_ceiling(top), plot_w)

    def x(self, value: float) -> float:
        value = min(max(value, 0.0), self.top)
        if self.log:
            return LABEL_W + self.plot_w * (math.log10(1 + value) / math.log10(1 + self.top))
        return LABEL_W + self.plot_w * (value / self.top)

    def ticks(self) -> list[float]:
        if not self.log:
            return [self.top * i / 4 for i in range(5)]
        exp = round(math.log10(self.top))
        step = max(1, math.ceil(exp / 6))
        return [0.0] + [10.0**e for e in range(step, exp + 1, step)]


def nice_ceiling(value: float) -> float:
    """Smallest 1/2/5 x 10^k at or above ``value`` (axis end); 1 for an all-zero chart."""
    if value <= 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10.0**exp
        if candidate >= value:
            return candidate
    return 10.0 ** (exp + 1)

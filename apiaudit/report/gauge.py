"""The score gauge and section score bars of the HTML report (inline SVG, escaped text)."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from apiaudit.report.series import number

GRADE_COLORS = {"A": "#1e8449", "B": "#28b463", "C": "#d4ac0d", "D": "#ca6f1e", "F": "#c0392b"}


def gauge(score: Any, grade: Any, *, size: int = 150) -> str:
    """Ring gauge of the overall score (0-100) with the grade inside; grey ring when not scored."""
    value = number(score)
    r = size / 2 - 12
    c = 2 * math.pi * r
    color = GRADE_COLORS.get(str(grade), "#7f8c8d")
    arc = ""
    if value is not None:
        filled = c * min(value, 100) / 100
        arc = (
            f'<circle cx="{size / 2}" cy="{size / 2}" r="{r:.1f}" fill="none" stroke="{color}" '
            f'stroke-width="14" stroke-dasharray="{filled:.1f} {c:.1f}" '
            f'transform="rotate(-90 {size / 2} {size / 2})"/>'
        )
    big = "n/a" if value is None else f"{value:.0f}"
    small = f"grade {escape(str(grade))}" if value is not None and grade else "not scored"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="gauge" role="img" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" font-family="sans-serif"><title>score {big}</title>'
        f'<circle cx="{size / 2}" cy="{size / 2}" r="{r:.1f}" fill="none" stroke="#e5e8e8" '
        f'stroke-width="14"/>{arc}'
        f'<text x="{size / 2}" y="{size / 2 + 6}" text-anchor="middle" font-size="38" font-weight="bold" '
        f'fill="{color}">{big}</text>'
        f'<text x="{size / 2}" y="{size / 2 + 30}" text-anchor="middle" font-size="14" fill="#555">'
        f"{small}</text></svg>"
    )


def score_bar(score: Any, *, width: int = 160) -> str:
    """A small horizontal bar for a section score (0-100); empty track when not scored."""
    value = number(score)
    fill = ""
    if value is not None:
        color = next(
            col for floor, col in ((80, "#28b463"), (60, "#d4ac0d"), (0, "#c0392b")) if value >= floor
        )
        filled = width * min(value, 100) / 100
        fill = f'<rect x="0" y="0" width="{filled:.1f}" height="10" rx="5" fill="{color}"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar" width="{width}" height="10" '
        f'viewBox="0 0 {width} 10" aria-hidden="true"><rect x="0" y="0" width="{width}" height="10" rx="5" '
        f'fill="#e5e8e8"/>{fill}</svg>'
    )

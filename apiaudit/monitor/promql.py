"""Just enough PromQL reading to tell which metric names an alert expression uses (no evaluation)."""

from __future__ import annotations

import re

# Functions, aggregations and keywords of PromQL (prometheus docs, "Querying: functions/operators").
_KEYWORD_TEXT = """
abs absent absent_over_time acos acosh and asin asinh atan atanh avg avg_over_time bool bottomk by ceil changes
clamp clamp_max clamp_min count count_over_time count_values day_of_month day_of_week day_of_year days_in_month
deg delta deriv exp floor group group_left group_right histogram_avg histogram_count histogram_fraction
histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters hour idelta ignoring increase
inf irate label_join label_replace last_over_time limitk ln log10 log2 mad_over_time max max_over_time min
min_over_time minute month nan offset on or pi predict_linear present_over_time quantile quantile_over_time rad
rate resets round scalar sgn sin sinh sort sort_by_label sort_by_label_desc sort_desc sqrt stddev
stddev_over_time stdvar stdvar_over_time sum sum_over_time tan tanh time timestamp topk unless vector without
year start end atan2
"""
KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.I)
_RANGES = re.compile(r"\[[^\]]*\]")
_NAME = re.compile(r"(?<![\w:.])([A-Za-z_:][A-Za-z0-9_:]*)(?![\w:(])")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def metric_names(expr: str) -> set[str]:
    """Metric names in ``expr``: identifiers outside strings, label matchers, grouping lists and
    ranges that are not PromQL functions or keywords (``{__name__="x"}`` selectors are read too)."""
    named = set(re.findall(r'__name__\s*=\s*"([^"]+)"', expr))
    text = _STRINGS.sub(" ", expr)
    text = _BRACES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _RANGES.sub(" ", text)
    calls = {m.group(1) for m in _CALL.finditer(text)}
    names = {n for n in _NAME.findall(text) if n.lower() not in KEYWORDS and n not in calls}
    return {n for n in names if not re.fullmatch(r"\d.*|[eE]\d+", n)} | named

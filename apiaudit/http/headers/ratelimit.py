"""Rate-limit headers of every generation, normalised to :class:`Quota`.

Generations (``Quota.generation``):

* ``ietf`` — draft-ietf-httpapi-ratelimit-headers-08 and later: ``RateLimit: "default";r=50;t=30``
  and ``RateLimit-Policy: "default";q=100;w=60`` (RFC 8941 Lists; r = remaining, t = seconds to
  reset, q = quota, w = window).
* ``ietf-dict`` — draft-07: ``RateLimit: limit=100, remaining=50, reset=30`` (an RFC 8941
  Dictionary) with ``RateLimit-Policy: 100;w=60``.
* ``draft`` — drafts 00-06: ``RateLimit-Limit`` / ``RateLimit-Remaining`` / ``RateLimit-Reset``
  (delay seconds), optional ``RateLimit-Policy``.
* ``x-ratelimit`` — the de-facto ``X-RateLimit-Limit/-Remaining/-Reset`` (GitHub, Twitter: reset as
  a UNIX epoch; many others: delay seconds; also ``X-RateLimit-Reset-After``).
"""

from __future__ import annotations

from dataclasses import dataclass

from apiaudit.http.headers.fields import HeaderInput, http_date, joined, non_negative_int
from apiaudit.http.headers.sfv import Item, SFVError, parse_dictionary, parse_list

# An X-RateLimit-Reset at or above this is a UNIX epoch, not a delay: 2001-09-09, while a delay that
# large would be 31 years. With a Date header we compare against the origin's own clock instead.
EPOCH_FLOOR = 1_000_000_000


@dataclass(frozen=True)
class Quota:
    generation: str
    limit: int | None = None
    remaining: int | None = None
    reset_s: float | None = None  # seconds from the response until the quota resets
    reset_kind: str | None = None  # "delay" | "epoch"
    window_s: int | None = None
    policy: str | None = None
    problems: tuple[str, ...] = ()  # malformed parts that were ignored

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, ())}


def parse_ratelimits(headers: HeaderInput) -> list[Quota]:
    """One :class:`Quota` per generation present in ``headers`` (empty when none). Never raises."""
    date = http_date(joined(headers, "date"))
    out = []
    for parser in (_ietf, _draft, _x_ratelimit):
        quota = parser(headers, date)
        if quota is not None:
            out.append(quota)
    return out


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _delay(value: int | None) -> float | None:
    return float(value) if value is not None else None


def _policies(text: str | None, problems: list[str]) -> dict[str, Item]:
    """RateLimit-Policy items keyed by name (draft-08 strings) or by position (draft-07 integers)."""
    if text is None:
        return {}
    try:
        items = parse_list(text)
    except SFVError as exc:
        problems.append(f"RateLimit-Policy: {exc}")
        return {}
    return {(it.value if isinstance(it.value, str) else str(i)): it for i, it in enumerate(items)}


def _ietf(headers: HeaderInput, date: float | None) -> Quota | None:
    field, policy_text = joined(headers, "ratelimit"), joined(headers, "ratelimit-policy")
    if field is None:
        return None
    problems: list[str] = []
    policies = _policies(policy_text, problems)
    try:
        items = parse_list(field)
        if items and isinstance(items[0].value, str) and not isinstance(items[0].value, bool):
            return _ietf_list(items, policies, problems)
    except SFVError:
        pass
    try:
        d = parse_dictionary(field)
    except SFVError as exc:
        return Quota("ietf", problems=(*problems, f"RateLimit: {exc}"))
    first = next(iter(policies.values()), None)
    limit = _int(d["limit"].value) if "limit" in d else None
    reset = _int(d["reset"].value) if "reset" in d else None
    return Quota(
        "ietf-dict", limit=limit if limit is not None else (_int(first.value) if first else None),
        remaining=_int(d["remaining"].value) if "remaining" in d else None,
        reset_s=_delay(reset), reset_kind="delay" if reset is not None else None,
        window_s=_int(first.params.get("w")) if first else None, problems=tuple(problems),
    )


def _ietf_list(items: list[Item], policies: dict[str, Item], problems: list[str]) -> Quota:
    # Several limits may apply; the one with the fewest remaining units is the one that will bite.
    def remaining(it: Item) -> int:
        r = _int(it.params.get("r"))
        return r if r is not None else 1 << 62

    item = min(items, key=remaining)
    name = str(item.value)
    policy = policies.get(name)
    reset = _int(item.params.get("t"))
    return Quota(
        "ietf", limit=_int(policy.params.get("q")) if policy else None, remaining=_int(item.params.get("r")),
        reset_s=_delay(reset), reset_kind="delay" if reset is not None else None,
        window_s=_int(policy.params.get("w")) if policy else None, policy=name, problems=tuple(problems),
    )


def _draft(headers: HeaderInput, date: float | None) -> Quota | None:
    limit, remaining, reset = (joined(headers, f"ratelimit-{n}") for n in ("limit", "remaining", "reset"))
    if limit is None and remaining is None and reset is None:
        return None
    problems: list[str] = []
    # Drafts 00-02 allowed "RateLimit-Limit: 100, 100;w=60"; the first list member is the limit.
    first = limit.split(",")[0].split(";")[0] if limit else None
    lim, rem, res = non_negative_int(first), non_negative_int(remaining), non_negative_int(reset)
    for name, text, parsed in (("Limit", limit, lim), ("Remaining", remaining, rem), ("Reset", reset, res)):
        if text is not None and parsed is None:
            problems.append(f"RateLimit-{name}: not a non-negative integer: {text[:40]!r}")
    window = None
    policies = _policies(joined(headers, "ratelimit-policy"), problems)
    if policies:
        window = _int(next(iter(policies.values())).params.get("w"))
    return Quota("draft", limit=lim, remaining=rem, reset_s=float(res) if res is not None else None,
                 reset_kind="delay" if res is not None else None, window_s=window, problems=tuple(problems))


def _x_ratelimit(headers: HeaderInput, date: float | None) -> Quota | None:
    names = ("limit", "remaining", "reset", "reset-after")
    limit, remaining, reset, reset_after = (joined(headers, f"x-ratelimit-{n}") for n in names)
    if limit is None and remaining is None and reset is None and reset_after is None:
        return None
    problems: list[str] = []
    lim, rem = non_negative_int(limit), non_negative_int(remaining)
    for name, text, parsed in (("Limit", limit, lim), ("Remaining", remaining, rem)):
        if text is not None and parsed is None:
            problems.append(f"X-RateLimit-{name}: not a non-negative integer: {text[:40]!r}")
    reset_s, kind = _x_reset(reset, reset_after, date, problems)
    return Quota("x-ratelimit", limit=lim, remaining=rem, reset_s=reset_s, reset_kind=kind,
                 problems=tuple(problems))


def _x_reset(reset: str | None, reset_after: str | None, date: float | None,
             problems: list[str]) -> tuple[float | None, str | None]:
    """Tell an epoch reset (GitHub) from a delay-seconds reset, and turn both into a delay."""
    if reset_after is not None:
        try:
            return max(0.0, float(reset_after)), "delay"
        except ValueError:
            problems.append(f"X-RateLimit-Reset-After: not a number: {reset_after[:40]!r}")
    if reset is None:
        return None, None
    try:
        value = float(reset.strip())
    except ValueError:
        problems.append(f"X-RateLimit-Reset: not a number: {reset[:40]!r}")
        return None, None
    if value != value or value < 0 or value == float("inf"):
        problems.append(f"X-RateLimit-Reset: not a number: {reset[:40]!r}")
        return None, None
    # With the origin's Date we compare to its own clock: a "delay" of half the epoch is decades.
    if value >= EPOCH_FLOOR or (date is not None and value > date / 2):
        return (max(0.0, value - date) if date is not None else None), "epoch"
    return value, "delay"

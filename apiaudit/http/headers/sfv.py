"""RFC 8941 Structured Field Values: a strict parser for Lists, Dictionaries and Items.

Follows the parsing algorithms of RFC 8941 §4.2: on any syntax error the whole field is rejected
(:class:`SFVError`), as §4.2 requires ("fail parsing"). Values come out as plain Python values:
int, float (Decimal), str (String), :class:`Token`, bytes (Byte Sequence) and bool; parameters as
a dict. Inner Lists are Python lists of :class:`Item`.
"""

from __future__ import annotations

import base64
import binascii
import string
from dataclasses import dataclass, field

__all__ = ["Item", "SFVError", "Token", "parse_dictionary", "parse_item", "parse_list"]


class SFVError(ValueError):
    """The field value is not a valid structured field (RFC 8941 §4.2: fail parsing)."""


class Token(str):
    """An sf-token (distinct from an sf-string)."""


BareItem = int | float | str | bytes | bool


@dataclass(frozen=True)
class Item:
    value: BareItem | list[Item]  # a list only for an Inner List
    params: dict[str, BareItem] = field(default_factory=dict)


_TCHAR = set("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
_TOKEN_CHARS = _TCHAR | {":", "/"}
_KEY_FIRST = set(string.ascii_lowercase + "*")
_KEY_CHARS = set(string.ascii_lowercase + string.digits + "_-.*")
_B64 = set(string.ascii_letters + string.digits + "+/=")


class _Reader:
    def __init__(self, text: str) -> None:
        if any(ord(c) > 0x7E or (ord(c) < 0x20 and c != "\t") for c in text):
            raise SFVError("non-ASCII or control character")
        self.s = text.strip(" \t")
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self) -> str:
        ch = self.peek()
        self.i += 1
        return ch

    def done(self) -> bool:
        return self.i >= len(self.s)

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.i += 1

    def member_separator(self) -> bool:
        """After a member: True if another member follows (§4.2.1 steps 2.3-2.6)."""
        self.skip(" \t")
        if self.done():
            return False
        if self.take() != ",":
            raise SFVError(f"expected ',' at {self.i - 1}")
        self.skip(" \t")
        if self.done():
            raise SFVError("trailing comma")
        return True


def parse_list(text: str) -> list[Item]:
    r = _Reader(text)
    out: list[Item] = []
    if r.done():
        return out
    while True:
        out.append(_item_or_inner(r))
        if not r.member_separator():
            return out


def parse_dictionary(text: str) -> dict[str, Item]:
    r = _Reader(text)
    out: dict[str, Item] = {}
    if r.done():
        return out
    while True:
        key = _key(r)
        if r.peek() == "=":
            r.take()
            out[key] = _item_or_inner(r)
        else:
            out[key] = Item(True, _params(r))
        if not r.member_separator():
            return out


def parse_item(text: str) -> Item:
    r = _Reader(text)
    item = Item(_bare(r), _params(r))
    if not r.done():
        raise SFVError("trailing characters after item")
    return item


def _item_or_inner(r: _Reader) -> Item:
    if r.peek() != "(":
        return Item(_bare(r), _params(r))
    r.take()
    inner: list[Item] = []
    while True:
        r.skip(" ")
        if r.peek() == ")":
            r.take()
            return Item(inner, _params(r))
        inner.append(Item(_bare(r), _params(r)))
        if r.peek() not in (" ", ")"):
            raise SFVError("bad inner list")


def _params(r: _Reader) -> dict[str, BareItem]:
    out: dict[str, BareItem] = {}
    while r.peek() == ";":
        r.take()
        r.skip(" ")
        key = _key(r)
        value: BareItem = True
        if r.peek() == "=":
            r.take()
            value = _bare(r)
        out[key] = value
    return out


def _key(r: _Reader) -> str:
    if r.peek() not in _KEY_FIRST or not r.peek():
        raise SFVError(f"bad key at {r.i}")
    start = r.i
    while r.peek() and r.peek() in _KEY_CHARS:
        r.i += 1
    return r.s[start:r.i]


def _bare(r: _Reader) -> BareItem:
    ch = r.peek()
    if ch == "-" or (ch != "" and ch.isdigit()):
        return _number(r)
    if ch == '"':
        return _string(r)
    if ch == ":":
        return _bytes(r)
    if ch == "?":
        r.take()
        flag = r.take()
        if flag not in ("0", "1"):
            raise SFVError("bad boolean")
        return flag == "1"
    if ch and (ch.isalpha() or ch == "*"):
        start = r.i
        while r.peek() and r.peek() in _TOKEN_CHARS:
            r.i += 1
        return Token(r.s[start:r.i])
    raise SFVError(f"unexpected {ch!r} at {r.i}")


def _number(r: _Reader) -> int | float:
    start = r.i
    if r.peek() == "-":
        r.take()
    if not r.peek().isdigit() or not r.peek():
        raise SFVError("bad number")
    while r.peek() and (r.peek().isdigit() or r.peek() == "."):
        r.i += 1
    text = r.s[start:r.i]
    digits = text.lstrip("-")
    if "." not in digits:
        if len(digits) > 15:  # §3.3.1: at most 15 digits
            raise SFVError("integer too long")
        return int(text)
    whole, _, frac = digits.partition(".")
    if "." in frac or not frac or len(whole) > 12 or len(frac) > 3:  # §3.3.2
        raise SFVError("bad decimal")
    return float(text)


def _string(r: _Reader) -> str:
    r.take()
    out: list[str] = []
    while True:
        ch = r.take()
        if ch == "":
            raise SFVError("unterminated string")
        if ch == '"':
            return "".join(out)
        if ch == "\\":
            nxt = r.take()
            if nxt not in ('"', "\\"):
                raise SFVError("bad escape")
            out.append(nxt)
        elif ch == "\t":
            raise SFVError("tab in string")
        else:
            out.append(ch)


def _bytes(r: _Reader) -> bytes:
    r.take()
    start = r.i
    while r.peek() and r.peek() != ":":
        if r.peek() not in _B64:
            raise SFVError("bad byte sequence")
        r.i += 1
    if r.take() != ":":
        raise SFVError("unterminated byte sequence")
    try:
        return base64.b64decode(r.s[start:r.i - 1] + "==", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise SFVError("bad base64") from exc

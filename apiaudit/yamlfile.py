"""Read YAML safely and keep the line of every key, so errors can name ``file:line``.

Only PyYAML's safe loader is used (no Python objects). Alias expansion is bounded: a walk that
visits more nodes than ``MAX_NODES`` (a "billion laughs" document) is refused instead of expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from apiaudit.errors import ConfigError
from apiaudit.fileio import bounded_read

MAX_NODES = 200_000
MAX_BYTES = 5 * 1024 * 1024

Path_ = tuple[str | int, ...]
# libyaml's composer when available (10x faster); scalars are built by one shared safe constructor.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


@dataclass
class YamlDoc:
    """A loaded document plus the line (1-based) of each key path."""

    name: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)

    def where(self, *path: str | int) -> str:
        """``file:line`` for the deepest known prefix of ``path``."""
        p: Path_ = tuple(path)
        while p and p not in self.lines:
            p = p[:-1]
        line = self.lines.get(p, 1)
        return f"{self.name}:{line}"


def load_text(text: str, name: str) -> YamlDoc:
    if len(text) > MAX_BYTES:
        raise ConfigError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB", where=name)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except RecursionError:
        raise ConfigError("invalid YAML: nested too deeply", where=name) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"invalid YAML: {problem}", where=f"{name}{line}") from None
    doc = YamlDoc(name=name, data=None)
    if node is None:
        return doc
    budget = [MAX_NODES]
    doc.data = _convert(node, (), doc, budget)
    return doc


MAX_DEPTH = 100  # no real config nests deeper; bounding it keeps the walk off the recursion limit


def load_file(path: str | Path) -> YamlDoc:
    p = Path(path)
    try:
        raw = bounded_read(p, limit=MAX_BYTES)
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", where=str(p)) from None
    return load_text(text, str(p))


def _convert(node: yaml.Node, path: Path_, doc: YamlDoc, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise ConfigError(
            f"document expands to more than {MAX_NODES} nodes (alias bomb?)", where=doc.name
        )
    if len(path) > MAX_DEPTH:
        raise ConfigError(f"nested more than {MAX_DEPTH} levels deep", where=_at(doc, node))
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise ConfigError("YAML merge keys (<<) are not supported", where=_at(doc, key_node))
            if not isinstance(key_node, yaml.ScalarNode):  # `? [a, b]`, `? {k: v}`: refused, never walked
                raise ConfigError("mapping keys must be scalars", where=_at(doc, key_node))
            key = _scalar(key_node, doc)
            if key in out:
                raise ConfigError(f"duplicate key {key!r}", where=_at(doc, key_node))
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, (*path, key), doc, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            items.append(_convert(item, (*path, i), doc, budget))
        return items
    assert isinstance(node, yaml.ScalarNode)  # the composer yields only these three node kinds
    return _scalar(node, doc)


def _scalar(node: yaml.ScalarNode, doc: YamlDoc) -> Any:
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, IndexError, OverflowError) as exc:
        # explicit tags on bad scalars (`!!int abc`, `!!timestamp x`) fail inside the constructor
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"invalid value {node.value!r}: {problem}", where=_at(doc, node)) from None
    finally:
        _CONSTRUCTOR.constructed_objects.clear()
        _CONSTRUCTOR.recursive_objects.clear()


def _at(doc: YamlDoc, node: yaml.Node) -> str:
    return f"{doc.name}:{node.start_mark.line + 1}"

"""Safe YAML reading that keeps where every value came from.

PyYAML's composer gives a node tree with line/column marks and never builds Python objects
from tags, so nothing in the file can execute code. We turn that tree into plain data
ourselves: mappings become dicts, sequences lists, and every scalar stays the text the user
wrote (quoted or not) so that ids such as ``0012``, ``NO`` or ``12:30`` are never reinterpreted
the YAML 1.1 way; the typed schema converts numbers and dates where it expects them.
Plain ``null``/``~``/empty scalars become ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem, ScenarioError

__all__ = ["Located", "display_path", "load_yaml", "scenario_text"]

MAX_BYTES = 32_000_000
MAX_NODES = 200_000  # values once aliases are expanded, or one per two bytes of the file
MAX_DEPTH = 64
_STANDARD_TAGS = {
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
_NULLS = {"", "~", "null", "Null", "NULL"}
_SCALAR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


def _libyaml_limits_nesting() -> bool:
    """libyaml refuses nesting deeper than 1,000 levels from 0.2.5 on; an older one would
    let PyYAML's compiled composer recurse without limit."""
    try:
        from yaml import _yaml

        version = tuple(int(x) for x in _yaml.get_version_string().split(".")[:3])
    except (ImportError, AttributeError, ValueError):
        return False
    return version >= (0, 2, 5)


def _plain_tags(base: type) -> type:
    """``base`` without YAML 1.1's implicit typing: every untagged scalar is text (we keep
    the text anyway) and no regular expression runs per value, which was half of composing;
    ``<<`` keeps its merge tag so that the builder can refuse it."""

    def resolve(self: Any, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return "tag:yaml.org,2002:merge" if value == "<<" and implicit[0] else _SCALAR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    return type(f"Plain{base.__name__}", (base,), {"resolve": resolve})


# libyaml's composer when PyYAML was built with it and it bounds the nesting (several
# times faster; the pure-Python one stops at Python's recursion limit); both keep line and
# column marks
_FAST = hasattr(yaml, "CSafeLoader") and _libyaml_limits_nesting()
_LOADER = _plain_tags(yaml.CSafeLoader if _FAST else yaml.SafeLoader)
# and its emitter (4x faster on an imported 5,000-activity plan; the same text)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """Plain data read from a YAML file, with the position of every value and key.

    Attributes:
        data: dicts, lists, strings and ``None``.
        file: the file name used in messages.
        values: field path -> (line, col) of the value at that path.
        keys: field path -> (line, col) of the mapping key that introduced it.
    """

    data: Any
    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Best known position for ``path``: the path itself or its nearest ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if not key and p in self.keys:
                return self.keys[p]
            p = p[:-1]
        return self.values.get((), (1, 1))


def node_limit(text: str) -> int:
    """The most values a file may hold: :data:`MAX_NODES`, or one per two characters of a
    larger file (no file holds more without aliases, so only an alias bomb reaches it)."""
    return max(MAX_NODES, len(text) // 2)


class _Builder:
    def __init__(self, file: str, limit: int = MAX_NODES) -> None:
        self.limit = limit
        self.out = Located(None, file)
        self.found: list[tuple[yaml.Node, Path_, str]] = []
        self.count = 0

    def problem(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.found.append((node, path, message))

    @property
    def problems(self) -> list[Problem]:
        """Found problems, paths shown with ids (known once the whole file is read)."""
        return [
            Problem(
                self.out.file,
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                display_path(self.out.data, path),
                message,
            )
            for node, path, message in self.found
        ]

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.count += 1
        if self.count > self.limit:
            raise ScenarioError(
                [
                    Problem(
                        self.out.file,
                        0,
                        0,
                        "",
                        f"more than {self.limit} values (are anchors/aliases expanding?)",
                    )
                ]
            )
        if depth > MAX_DEPTH:
            raise ScenarioError(
                [
                    Problem(
                        self.out.file,
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                        display_path(None, path),
                        f"nesting deeper than {MAX_DEPTH} levels",
                    )
                ]
            )
        self.out.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if node.tag not in _STANDARD_TAGS:
            self.problem(node, path, f"tag {node.tag!r} is not allowed; plain YAML values only")
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        value = str(node.value)
        plain = getattr(node, "style", None) is None
        return None if plain and value in _NULLS else value

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            merge = key_node.tag == "tag:yaml.org,2002:merge"
            if not isinstance(key_node, yaml.ScalarNode) or merge:
                self.problem(key_node, path, "keys must be plain names (no lists, maps or '<<')")
                continue
            key = str(key_node.value)
            sub = (*path, key)
            if key in result:
                first = self.out.keys[sub]
                self.problem(
                    key_node,
                    sub,
                    f"duplicate key '{key}' (first given at line {first[0]}); give each key once",
                )
                continue
            self.out.keys[sub] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, sub, depth + 1)
        return result


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """How many nodes the document has once every alias is expanded, computed without
    expanding (each distinct node once, iteratively, capped just above the limit)."""
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in size:
            continue
        kids = _children(node)
        if ready:
            size[id(node)] = min(1 + sum(size[id(k)] for k in kids), limit + 1)
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
    return size[id(root)]


def _runaway_alias(text: str, limit: int) -> tuple[int, int, str]:
    """The first alias (line, column, anchor name) at which the values read so far, every
    alias expanded, pass ``limit`` (from the parser's events: the composed tree does
    not keep where an alias was written)."""
    count = 0
    size: dict[str, int] = {}
    open_anchors: list[tuple[str | None, int]] = []
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent):
            count += size.get(str(event.anchor), 1)
            if count > limit:
                mark = event.start_mark
                where = (mark.line + 1, mark.column + 1) if mark else (0, 0)
                return *where, str(event.anchor)
        elif isinstance(event, yaml.ScalarEvent):
            count += 1
            if event.anchor:
                size[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            count += 1
            open_anchors.append((event.anchor, count))
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start = open_anchors.pop()
            if anchor:
                size[anchor] = count - start + 1
    return 0, 0, "?"  # not reached: the composed tree passed the limit


def display_path(data: Any, loc: tuple[Any, ...]) -> str:
    """``projects[crm].tasks[build].duration``: list items shown by their id when they have one."""
    text, node = "", data
    for part in loc:
        child = None
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            child = node[part]
            ident = child.get("id") if isinstance(child, dict) else None
            text += f"[{ident}]" if isinstance(ident, str) and ident else f"[{part}]"
        else:
            child = node.get(part) if isinstance(node, dict) else None
            text += f".{part}" if text else str(part)
        node = child
    return text


def _fail(file: str, message: str, line: int = 0, col: int = 0) -> ScenarioError:
    return ScenarioError([Problem(file, line, col, "", message)])


def _read_text(path: Path, name: str) -> str:
    """The file as text: readable, within the size limit, UTF-8 (a BOM is dropped)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise _fail(name, f"cannot read file: {e.strerror}") from e
    if len(raw) > MAX_BYTES:
        raise _fail(name, f"file is {len(raw):,} bytes; the limit is {MAX_BYTES:,}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        message = (
            f"file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start}); "
            "save it as UTF-8"
        )
        raise _fail(name, message, line, col) from e


def _compose(text: str, name: str) -> yaml.Node:
    """The YAML node tree (no Python objects are built), syntax errors located."""
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(x for x in (e.context, e.problem) if x)
        lines = text.splitlines()
        if mark and mark.line < len(lines) and "\t" in lines[mark.line][: mark.column + 1]:
            what += " (tabs cannot indent YAML; use spaces)"
        raise _fail(name, f"YAML syntax error: {what}", line, col) from e
    except yaml.YAMLError as e:
        raise _fail(name, f"YAML error: {e}") from e
    except RecursionError as e:
        raise _fail(name, "nesting too deep") from e
    if node is None:
        raise _fail(name, "file is empty")
    # aliases would expand it: refuse before expanding (no '&' in the file: no anchors, so
    # no aliases, and the builder's own count suffices)
    limit = node_limit(text)
    if "&" in text and _expanded_size(node, limit) > limit:
        line, col, anchor = _runaway_alias(text, limit)
        message = (
            f"alias *{anchor} takes the file past {limit:,} values once expanded; "
            "anchors and aliases may not multiply the file"
        )
        raise _fail(name, message, line, col)
    return node


def load_yaml(path: Path, *, display: str | None = None) -> Located:
    """Read ``path`` as one YAML document into :class:`Located` plain data.

    Raises:
        ScenarioError: unreadable file, bad encoding, YAML syntax, tags, duplicate keys,
            size or nesting beyond the limits.
    """
    name = display or str(path)
    text = _read_text(path, name)
    node = _compose(text, name)
    builder = _Builder(name, node_limit(text))
    builder.out.data = builder.build(node, (), 0)
    if builder.found:
        raise ScenarioError(builder.problems)
    return builder.out


def scenario_text(data: Any, notes: list[str], source: str) -> str:
    """A scenario file's text for plain ``data`` (an imported plan): the mapping notes as
    comments at the top, then the data in block style, keys in their order."""
    head = [f"# Imported from {source} by pmosim import.", "#"]
    head += [f"# note: {n}" for n in notes] or ["# Nothing was left out."]
    body = yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n\n" + body

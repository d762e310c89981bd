"""The one YAML loader of the spec tooling: safe, and it remembers where every node was written.

:func:`load_located` parses a file once and returns the data (mappings are :class:`LineMap`, which know
their own 1-based line) together with the line of every JSON pointer, so a check can name the file and the
line of anything it finds (``Located.line("/paths/~1accounts/get")``). A syntax error is a
:class:`~futurebank.spec.rules.SpecFileError` for rule ``R-44-yaml-syntax``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from futurebank.spec.rules import SpecFileError


class LineMap(dict[str, Any]):
    """A dict that also knows the 1-based line it was read from."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):  # a SafeLoader subclass: no arbitrary objects
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    mapping = LineMap({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape_pointer(str(t)) for t in tokens)


def resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@dataclass
class Located:
    """A YAML document, where it came from, and the 1-based line of every JSON pointer in it."""

    path: Path
    data: Any
    lines: dict[str, int]

    def line(self, pointer: str) -> int:
        # the nearest enclosing node that has a line
        while pointer and pointer not in self.lines:
            pointer = pointer.rsplit("/", 1)[0]
        return self.lines.get(pointer, 1)


def _node_lines(root: yaml.Node) -> dict[str, int]:
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, pointer: str) -> None:
        lines[pointer] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = pointer_join(pointer, str(key.value))
                walk(value, child)
                lines[child] = key.start_mark.line + 1  # a member is where its key is written
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, pointer_join(pointer, index))

    walk(root, "")
    return lines


def load_located(path: Path) -> Located:
    """Parse ``path`` once: its data with :class:`LineMap` mappings and the line of every pointer."""
    loader = _LineLoader(path.read_text(encoding="utf-8"))
    try:
        root = loader.get_single_node()
        if root is None:
            return Located(path, None, {})
        return Located(path, loader.construct_document(root), _node_lines(root))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise SpecFileError(
            path, line, "R-44-yaml-syntax", str(getattr(exc, "problem", None) or exc)
        ) from None
    finally:
        loader.dispose()


def load_with_lines(path: Path) -> Any:
    """The data of ``path``; every mapping in it is a :class:`LineMap`."""
    return load_located(path).data

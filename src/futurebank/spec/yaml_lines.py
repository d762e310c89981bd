"""Load YAML while remembering where each mapping started, so errors can name file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LineMap(dict[str, Any]):
    """A dict that also knows the 1-based line it was read from."""

    line: int = 0


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    mapping = LineMap({str(k): v for k, v in loader.construct_mapping(node, deep=True).items()})
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class SpecFileError(ValueError):
    """A spec data file breaks a rule; the message names file, line and rule."""

    def __init__(self, path: Path | str, line: int, rule: str, detail: str) -> None:
        super().__init__(f"{path}:{line}: [{rule}] {detail}")
        self.path, self.line, self.rule, self.detail = str(path), line, rule, detail


def load_with_lines(path: Path) -> Any:
    try:
        return yaml.load(
            path.read_text(encoding="utf-8"), Loader=_LineLoader
        )  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 0
        raise SpecFileError(path, line, "yaml-syntax", str(exc.problem)) from None

"""A stricter YAML reading than PyYAML's defaults, keeping line numbers.

PyYAML silently keeps the last of two duplicate keys, reads `NO`/`yes`/`on` as booleans (YAML 1.1)
and turns `2025-02-30` into a ValueError with no line. Here: duplicate keys are errors, only
`true`/`false` are booleans, and dates stay text for the caller to check with a line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml


# libyaml's parser where PyYAML has it (several times faster); the same resolvers either way.
class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# Drop the YAML 1.1 bool and timestamp resolvers; add YAML 1.2's plain true/false.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


@dataclass(frozen=True)
class YamlProblem:
    line: int | None      # 1-based, within the YAML text
    message: str


@dataclass(frozen=True)
class Located:
    """A YAML value with the 1-based line it starts on."""

    value: Any
    line: int


def load(text: str, first_line: int = 1) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML document whose first line is `first_line` of its file.

    Returns (tree of Located values, problems), every line counted in the file.
    """
    loader = _StrictLoader(text)
    offset = first_line - 1
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        return None, [YamlProblem(mark.line + 1 + offset if mark else None, f"YAML syntax error: {what}")]
    except yaml.YAMLError as exc:
        return None, [YamlProblem(None, f"YAML syntax error: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        return None, []
    problems: list[YamlProblem] = []
    return _convert(loader, node, problems, offset), problems


def _convert(loader: _StrictLoader, node: yaml.Node, problems: list[YamlProblem], offset: int) -> Located:
    line = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Located] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1 + offset
            if not isinstance(key, str):
                problems.append(YamlProblem(key_line, f"key {key!r} must be text"))
                continue
            if key in out:
                problems.append(YamlProblem(
                    key_line, f"duplicate key {key!r} (first given on line {out[key].line})"))
                continue
            value = _convert(loader, value_node, problems, offset)
            out[key] = Located(value.value, key_line)
        return Located(out, line)
    if isinstance(node, yaml.SequenceNode):
        return Located([_convert(loader, item, problems, offset) for item in node.value], line)
    try:
        return Located(loader.construct_object(node, deep=True), line)
    except yaml.YAMLError as exc:
        problems.append(YamlProblem(line, f"cannot read value: {exc}"))
        return Located(None, line)


def plain(located: Located | Any) -> Any:
    """Strip line information from a tree of Located values."""
    value = located.value if isinstance(located, Located) else located
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value

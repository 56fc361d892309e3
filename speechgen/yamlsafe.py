"""A stricter YAML reading than PyYAML's defaults, keeping line numbers, in bounded time and memory.

PyYAML silently keeps the last of two duplicate keys, reads `NO`/`yes`/`on` as booleans (YAML 1.1)
and turns `2025-02-30` into a ValueError with no line. Here: duplicate keys are errors, only
`true`/`false` are booleans, and dates stay text for the caller to check with a line number.

The tree is built here from the parser's events, not by PyYAML's composer and constructors, so
that whatever the text, the answer is a tree or a list of problems with lines, never an
exception, and never more work than the text's size allows:

- nesting deeper than `MAX_DEPTH` stops the reading at once (libyaml's scanner slows down with
  every open bracket, and its composer recurses on the C stack);
- aliases are counted by the size of what they repeat: a text whose aliases would repeat more
  than `MAX_ALIASED` values or `MAX_ALIASED_CHARS` characters (the "billion laughs") is refused,
  and an alias inside the value it names (`&a [*a]`) is refused rather than made into a loop;
- only plain text, numbers, `true`/`false`, empty values, lists and mappings are read: an
  explicit tag such as `!!timestamp`, `!!binary`, `!!set` or `!python/...` is an error, as is a
  value a tag does not fit (`!!int abc`), a number too long to be one, a merge key `<<` and a key
  that is not plain text (`? [a, b]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024        # the largest YAML text read unless the caller sets `limit` (a front matter)
MAX_DEPTH = 32                 # lists and mappings inside each other
MAX_ALIASED = 100_000          # values that aliases repeat, all aliases together
MAX_ALIASED_CHARS = MAX_BYTES  # characters of text that aliases repeat
MAX_NUMBER_CHARS = 64          # a number longer than this is not a number anyone means

_TOO_DEEP = f"lists and mappings are nested more than {MAX_DEPTH} levels deep"
_NESTING_LIMIT = re.compile(r"nesting depth|too deep", re.IGNORECASE)   # libyaml's own limit, any wording so far

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _TAG + "seq", _TAG + "map"


# libyaml's parser where PyYAML has it (several times faster); the same resolvers either way.
class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


# Drop the YAML 1.1 bool and timestamp resolvers, and the merge (`<<`), value (`=`) and `!!yaml`
# ones: those are plain text here. Add YAML 1.2's plain true/false.
_DROPPED = {_TAG + t for t in ("bool", "timestamp", "merge", "value", "yaml")}
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|false)$"), list("tf"))


def _open_brackets(text: str, mark: Any) -> int:
    """Flow brackets still open where the library stopped: deeper than ours means our limit was
    the fault, whatever words the library used (a quoted bracket can only make this count high
    on a text that has a syntax error anyway)."""
    index = getattr(mark, "index", None)
    if not isinstance(index, int) or index <= 0:
        return 0
    head = text[:index]
    return head.count("[") + head.count("{") - head.count("]") - head.count("}")


@dataclass(frozen=True)
class YamlProblem:
    line: int | None      # 1-based, within the YAML text
    message: str


@dataclass(frozen=True)
class Located:
    """A YAML value with the 1-based line it starts on."""

    value: Any
    line: int


class _Stop(Exception):
    """Reading cannot go on (too deep, too large): the problem is already recorded."""


@dataclass
class _Open:
    """A list or mapping whose end has not been read yet."""

    value: list | dict
    line: int
    anchor: str | None
    token: int = 0                         # which definition of `anchor` this is
    size: tuple[int, int] = (1, 0)         # (values, characters) inside, aliases expanded
    key: Located | None = None             # a mapping's key waiting for its value
    key_ok: bool = True                    # False: the waiting key was refused (value dropped)


def load(text: str, first_line: int = 1, limit: int = MAX_BYTES) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML document whose first line is `first_line` of its file.

    Returns (tree of Located values, problems), every line counted in the file. `limit`: the
    longest text read (recipients.yaml may be longer than a front matter).
    """
    if len(text) > limit:
        return None, [YamlProblem(first_line, f"YAML text of {len(text):,} characters; the limit is "
                                  f"{limit:,}")]
    return _Reader(text, first_line - 1).read()


class _Reader:
    def __init__(self, text: str, offset: int):
        self.text = text
        self.offset = offset
        self.problems: list[YamlProblem] = []
        self.anchors: dict[str, tuple[Located, tuple[int, int]]] = {}  # name -> (value, size)
        # An anchor may be given again; an alias names its latest definition, which may still be
        # open (the alias is inside it) or finished.
        self.latest: dict[str, int] = {}
        self.open_tokens: set[int] = set()
        self.tokens = 0
        self.aliased = (0, 0)                 # (values, characters) repeated by aliases so far
        self.stack: list[_Open] = []

    def line(self, mark: Any) -> int:
        return (mark.line if mark is not None else 0) + 1 + self.offset

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(YamlProblem(line, message))

    def read(self) -> tuple[Any, list[YamlProblem]]:
        loader = _StrictLoader(self.text)
        root: list[tuple[Located, tuple[int, int]]] = []
        documents = 0
        try:
            while loader.check_event():
                event = loader.get_event()
                documents += isinstance(event, yaml.DocumentStartEvent)
                if documents > 1:
                    self.problem(self.line(event.start_mark),
                                 "YAML syntax error: expected a single document, but found another")
                    raise _Stop
                done = self.event(event, loader)
                if done is not None:
                    if self.stack:
                        self.attach(*done)
                    else:
                        root.append(done)
        except _Stop:
            pass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or exc.context or "invalid YAML"
            line = self.line(mark) if mark else None
            if _NESTING_LIMIT.search(what) or _open_brackets(self.text, mark) > MAX_DEPTH:
                # libyaml >= PyYAML 6.0.4 scans ahead and stops at its own depth limit before the
                # parser hands over the 33rd level: the same fault, said in the same words as ours.
                self.problem(line, _TOO_DEEP)
            else:
                self.problem(line, f"YAML syntax error: {what}")
        except yaml.YAMLError as exc:
            self.problem(None, f"YAML syntax error: {exc}")
        finally:
            loader.dispose()
        if self.problems:
            return None, self.problems
        return (root[0][0] if root else None), []

    # --- events --------------------------------------------------------------------------------

    def event(self, event: Any, loader: Any) -> tuple[Located, tuple[int, int]] | None:
        """Handle one event; a finished value comes back as (value, expanded size)."""
        if isinstance(event, yaml.ScalarEvent):
            located = Located(self.scalar(event, loader), self.line(event.start_mark))
            size = (1, len(event.value))
            self.count(size, located.line)
            return self.finish(located, size, event.anchor, self.define(event.anchor))
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            line = self.line(event.start_mark)
            if len(self.stack) >= MAX_DEPTH:
                self.problem(line, _TOO_DEEP)
                raise _Stop
            mapping = isinstance(event, yaml.MappingStartEvent)
            self.check_collection_tag(event, _MAP if mapping else _SEQ, line)
            self.count((1, 0), line)
            token = self.define(event.anchor)
            self.open_tokens.add(token)
            self.stack.append(_Open({} if mapping else [], line, event.anchor, token))
            return None
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node = self.stack.pop()
            self.open_tokens.discard(node.token)
            return self.finish(Located(node.value, node.line), node.size, node.anchor, node.token)
        if isinstance(event, yaml.AliasEvent):
            line = self.line(event.start_mark)
            token = self.latest.get(event.anchor)
            if token is None:
                self.problem(line, f"alias *{event.anchor} names no earlier &{event.anchor}")
                raise _Stop
            if token in self.open_tokens:
                self.problem(line, f"alias *{event.anchor} is inside the value &{event.anchor} "
                             "names: a value cannot contain itself")
                raise _Stop
            value, size = self.anchors[event.anchor]
            self.count(size, line, alias=True)
            return Located(value.value, line), size
        return None          # stream and document events

    def define(self, anchor: str | None) -> int:
        """A new definition of `anchor` (or of no anchor): the one its aliases name from now on."""
        self.tokens += 1
        if anchor is not None:
            self.latest[anchor] = self.tokens
        return self.tokens

    def finish(self, located: Located, size: tuple[int, int], anchor: str | None,
               token: int) -> tuple[Located, tuple[int, int]]:
        if anchor is not None and self.latest.get(anchor) == token:
            self.anchors[anchor] = (located, size)
        return located, size

    def count(self, size: tuple[int, int], line: int, *, alias: bool = False) -> None:
        """Add a value (or what an alias repeats) to every list and mapping it is in."""
        for node in self.stack:
            node.size = (node.size[0] + size[0], node.size[1] + size[1])
        if not alias:
            return
        self.aliased = values, chars = (self.aliased[0] + size[0], self.aliased[1] + size[1])
        if values > MAX_ALIASED or chars > MAX_ALIASED_CHARS:
            self.problem(line, f"aliases repeat more than {MAX_ALIASED:,} values or "
                         f"{MAX_ALIASED_CHARS:,} characters (each *alias repeats what its &anchor "
                         "holds); write the values out")
            raise _Stop

    def attach(self, located: Located, size: tuple[int, int]) -> None:
        parent = self.stack[-1]
        if isinstance(parent.value, list):
            parent.value.append(located)
            return
        if parent.key is None:
            parent.key, parent.key_ok = located, self.key_ok(located)
            return
        key, ok = parent.key, parent.key_ok
        parent.key = None
        if not ok:
            return
        if key.value in parent.value:
            self.problem(key.line, f"duplicate key {key.value!r} (first given on line "
                         f"{parent.value[key.value].line})")
            return
        parent.value[key.value] = Located(located.value, key.line)

    def key_ok(self, key: Located) -> bool:
        if isinstance(key.value, (list, dict)):
            self.problem(key.line, "a key must be plain text, not a list or mapping (complex keys "
                         "written with `?` are not read)")
            return False
        if key.value == "<<":
            self.problem(key.line, "merge keys (`<<`) are not read; write each key out")
            return False
        if not isinstance(key.value, str):
            self.problem(key.line, f"key {key.value!r} must be text")
            return False
        return True

    # --- values --------------------------------------------------------------------------------

    def check_collection_tag(self, event: Any, expected: str, line: int) -> None:
        if event.tag not in (None, "!", expected):
            self.problem(line, f"the YAML tag {_short(event.tag)} is not read here; "
                         "write a plain list or mapping")

    def scalar(self, event: Any, loader: Any) -> Any:
        value: str = event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = loader.resolve(yaml.ScalarNode, value, event.implicit)
        line = self.line(event.start_mark)
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            if value.lower() in ("true", "false"):
                return value.lower() == "true"
            return self.bad(line, f"{_clip(value)!r} is not true or false (tag !!bool)")
        if tag in (_INT, _FLOAT):
            kind = "whole number" if tag == _INT else "number"
            if len(value) > MAX_NUMBER_CHARS:
                return self.bad(line, f"a number of {len(value):,} characters is too long "
                                f"(the limit is {MAX_NUMBER_CHARS}); put it in quotes if it is text")
            node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark)
            construct = (yaml.constructor.SafeConstructor.construct_yaml_int if tag == _INT
                         else yaml.constructor.SafeConstructor.construct_yaml_float)
            try:
                return construct(loader, node)
            except (ValueError, TypeError, IndexError, OverflowError):
                return self.bad(line, f"{_clip(value)!r} is not a {kind} (tag {_short(tag)})")
        return self.bad(line, f"the YAML tag {_short(tag)} is not read here; write the value as "
                        "plain text (in quotes if need be)")

    def bad(self, line: int, message: str) -> None:
        self.problem(line, message)
        return None


def _short(tag: str | None) -> str:
    tag = tag or "!"
    return "!!" + tag[len(_TAG):] if tag.startswith(_TAG) else (tag if tag.startswith("!") else f"!<{tag}>")


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def plain(located: Located | Any) -> Any:
    """Strip line information from a tree of Located values."""
    value = located.value if isinstance(located, Located) else located
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value

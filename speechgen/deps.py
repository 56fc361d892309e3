"""What an output read while it was made: its dependencies, recorded as it reads, not listed by hand.

While the build renders a template it opens a `recording()`; the template environment calls
`note()` for every attribute or item a template reads from a model object (and for every object
it prints). A read names a *token*: `speech:2025/x`, `version:/…/x.id.md`, `archive:tahun/2025/…`,
`copy:…`, `recipient:…`, `pdf:…`, `page:…`, each with the field read (`speech:2025/x#date`), or
`site.<field>`. The build keeps the tokens with the
output; the next build asks a `Resolver` for each token's digest in the new site, and reuses the
output only if every one is unchanged. A token whose object is gone digests to "absent".

A field digests shallow: its value, or for objects and lists of objects, which objects in which
order (a listing that then reads an object's field has noted that field too). An object printed
whole, or a method called on it, digests deep (every field, nested objects included).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar

from speechgen.graph import Archive, Copy, Page, Site
from speechgen.model import PdfInfo, Recipient, Speech, Version

_ABSENT = object()
_recorder: ContextVar[set[str] | None] = ContextVar("speechgen_recorder", default=None)


@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the tokens noted in this block (one render)."""
    tokens: set[str] = set()
    reset = _recorder.set(tokens)
    try:
        yield tokens
    finally:
        _recorder.reset(reset)


def note(obj: object, attribute: object = None) -> None:
    tokens = _recorder.get()
    if tokens is None:
        return
    if isinstance(obj, Site):
        if isinstance(attribute, str):
            tokens.add(f"site.{attribute}")
        return
    name = token(obj)
    if name is not None:
        # a field read is a dependency on that field; anything else on the whole object
        tokens.add(f"{name}#{attribute}" if isinstance(attribute, str) and not attribute.startswith("_")
                   else name)


def token(obj: object) -> str | None:
    """The name of a model object across builds, or None for anything else."""
    kind = type(obj)
    name = _NAMING.get(kind, _UNSEEN)
    if name is _UNSEEN:                 # a type not seen yet: a model class's subclass, or no model
        name = _NAMING[kind] = next((n for model, n in _NAMES.items() if issubclass(kind, model)), None)
    return name(obj) if name is not None else None


# Each model class's token, looked up by the object's own type: most values a template reads are
# plain strings, numbers, markup and containers, answered by one lookup instead of a test per
# model class. `_NAMING` learns every other type's answer the first time it is asked.
_NAMES = {
    Speech: lambda obj: f"speech:{obj.id}",
    Version: lambda obj: f"version:{source_name(obj.source)}",
    Page: lambda obj: f"page:{obj.dest}",
    Archive: lambda obj: f"archive:{obj.dest}",
    Copy: lambda obj: f"copy:{obj.speech.id}/{obj.recipient.id}",
    Recipient: lambda obj: f"recipient:{obj.id}",
    PdfInfo: lambda obj: f"pdf:{obj.dest}",
    Site: lambda obj: "site",
}


def source_name(source: object) -> str:
    """A speech source by its place in the project (`<year>/<name>.<lang>.md` under speeches/),
    never its absolute path: a checkout elsewhere (a CI runner with a restored cache) names it
    the same."""
    text = str(source)
    cut = text.rfind("/", 0, text.rfind("/"))
    return text[cut + 1:]


_PLAIN = frozenset({str, int, float, bool, type(None)})
_NAMING: dict[type, Callable[[object], str] | None] = {**_NAMES, **dict.fromkeys(_PLAIN)}
_UNSEEN = object()


def shallow(value: object) -> str:
    """A value as the objects it names: model objects by token, containers item by item, functions
    by name, everything else by repr. What a renderer hands a template directly is keyed by this."""
    kind = type(value)
    if kind is str:
        return f"str#{_text_digest(value)}" if len(value) > LONG_TEXT else repr(value)
    if kind in _PLAIN:
        return repr(value)
    name = token(value)
    if name is not None:
        return name
    if isinstance(value, (tuple, list)):
        return "[" + ",".join(shallow(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{shallow(k)}:{shallow(v)}" for k, v in value.items()) + "}"
    if callable(value) and not dataclasses.is_dataclass(value):
        return f"<{getattr(value, '__qualname__', type(value).__name__)}>"
    if isinstance(value, str) and len(value) > LONG_TEXT:
        return f"{type(value).__name__}#{_text_digest(value)}"     # a body: by digest, once per object
    return repr(value)


LONG_TEXT = 1024                 # characters past which a text is keyed by its digest


def _text_digest(text: str) -> str:
    cached = _DIGESTS.get(id(text))
    if cached is not None and cached[0] is text:
        return cached[1]
    found = hashlib.sha256(text.encode("utf-8")).hexdigest()
    _DIGESTS[id(text)] = (text, found)
    if len(_DIGESTS) > 64:
        _DIGESTS.pop(next(iter(_DIGESTS)))
    return found


_DIGESTS: dict[int, tuple[str, str]] = {}


def fields(obj: object) -> str:
    """A model object's own fields, shallow: what it is, not the content of what it points to."""
    return shallow({f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)})  # type: ignore[arg-type]


def digest(text: str | bytes) -> str:
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


class Resolver:
    """Digests of tokens in one build's site. Deep digests are kept per object for the build."""

    def __init__(self, site: Site, pdfs: Mapping[tuple[str, str], PdfInfo]) -> None:
        self.site = site
        self.pdfs = pdfs
        self._deep: dict[int, str] = {}
        self._tokens: dict[str, str] = {}
        self._index: dict[str, object] | None = None

    def _objects(self) -> dict[str, object]:
        if self._index is None:
            index: dict[str, object] = {}
            site = self.site
            for item in (*site.speeches, *site.pages, *site.years, *site.speakers, *site.occasions,
                         *site.copies, *site.recipients, *self.pdfs.values()):
                index[token(item)] = item          # type: ignore[index]
            for speech in site.speeches:
                for version in speech.versions.values():
                    index[token(version)] = version    # type: ignore[index]
            self._index = index
        return self._index

    def token_digest(self, name: str) -> str:
        known = self._tokens.get(name)
        if known is None:
            known = self._tokens[name] = self._token_digest(name)
        return known

    def _token_digest(self, name: str) -> str:
        if name.startswith("site."):
            attribute = name[5:]
            value = getattr(self.site, attribute, None)
            if value is None:
                return "absent"
            if callable(value):
                # A method: its answer depends on the config (keyed apart) and the fields it reads.
                fields = getattr(value, "reads", ())
                return digest(shallow(tuple(getattr(self.site, f) for f in fields)))
            return digest(shallow(value))
        name, _, attribute = name.partition("#")
        obj = self._objects().get(name)
        if obj is None:
            return "absent"
        if not attribute:
            return self.deep(obj)
        value = getattr(obj, attribute, _ABSENT)
        if value is _ABSENT:
            return "absent"
        if callable(value):
            return self.deep(obj)
        return digest(shallow(value))

    def deep(self, obj: object) -> str:
        """Every field of a model object, nested objects by their own (memoized) deep digest."""
        known = self._deep.get(id(obj))
        if known is None:
            known = digest(type(obj).__name__ + self._canon(obj))
            self._deep[id(obj)] = known
        return known

    def _canon(self, value: object) -> str:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            if token(value) is not None and not isinstance(value, Site):
                parts = (f"{f.name}={self._child(getattr(value, f.name))}"
                         for f in dataclasses.fields(value))
                return "(" + ",".join(parts) + ")"
            return repr(value)
        if isinstance(value, (tuple, list)):
            return "[" + ",".join(self._child(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ",".join(f"{k!r}:{self._child(v)}" for k, v in value.items()) + "}"
        return repr(value)

    def _child(self, value: object) -> str:
        if token(value) is not None and not isinstance(value, Site):
            return self.deep(value)
        return self._canon(value)

    def combined(self, tokens: Iterable[str]) -> str:
        """One digest over tokens and their digests."""
        return digest("\n".join(f"{t}={self.token_digest(t)}" for t in sorted(tokens)))

"""The Jinja environment: the project's templates/ first, the bundled theme after.

A project template may extend the bundled one of the same name as "!default/speech.html".
Autoescape is on for every template and undefined variables are errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from babel.dates import format_date as babel_format_date
from markupsafe import Markup, escape

from speechgen import deps
from speechgen.errors import Problems
from speechgen.labels import LABELS, words_keys

THEME_DIR = Path(__file__).parent / "theme"

LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


class Words:
    """The interface words a site shows: speechgen's own sets (`labels.LABELS`) with the project's
    (`Config.words`, `[words.<lang>]` in speechgen.toml) over them. A page in a language shows
    that language's words, its base language's ('fr' for 'fr-CA'), else English; a word its
    language's set lacks is shown in English. Words shown in another language than the page's are
    marked with their own `lang` (`html`, `count`), so a screen reader says them in that voice."""

    def __init__(self, project: tuple = ()) -> None:
        self.sets = {lang: dict(table) for lang, table in LABELS.items()}
        for lang, pairs in project:
            self.sets.setdefault(lang, {}).update(pairs)
        self.digest = hashlib.sha256(repr(project).encode()).hexdigest()[:16]

    def __repr__(self) -> str:          # as cache keys see it (`deps.shallow`): the same set, the same text
        return f"Words({self.digest})"

    def language(self, lang: str) -> str:
        """The language of the words a page in `lang` shows (docs/readers.md; the build warns)."""
        if lang in self.sets:
            return lang
        base = lang.split("-")[0]
        return base if base in self.sets else "en"

    def found(self, lang: str, key: str) -> tuple[str, str]:
        """A word for a page in `lang`, and the language it is in."""
        own = self.language(lang)
        text = self.sets[own].get(key)
        return (text, own) if text else (self.sets["en"][key], "en")

    def label(self, lang: str, key: str) -> str:
        """A word as plain text (attributes, <title>)."""
        return self.found(lang, key)[0]

    def html(self, lang: str, key: str) -> Markup:
        """A word as HTML for the text of a page in `lang`: escaped, and inside `<span lang="en">`
        when it is not in the page's language."""
        return _marked(lang, *self.found(lang, key))

    def count_label(self, lang: str, n: int, key: str) -> tuple[str, str]:
        """The word for `n` things, by the plural rules of the words' language ('speech' for 1 in
        English), and the language it is in."""
        own = self.language(lang)
        form = plural_category(own, n)
        text = self.sets[own].get(f"{key}_{form}") or self.sets[own].get(key)
        if text:
            return text, own
        return self.sets["en"].get(f"{key}_{plural_category('en', n)}") or self.sets["en"][key], "en"

    def count(self, lang: str, n: int, key: str) -> Markup:
        """'1 speech', '3 speeches', '3 pidato' as HTML for a page in `lang`."""
        return Markup("{} {}").format(n, _marked(lang, *self.count_label(lang, n, key)))

    def others(self, lang: str, languages) -> list[str]:
        """The site's other interface languages, in the site's order, each once: the words a
        two-language label shows after the page's own (none on a one-language site)."""
        own = self.language(lang)
        out: list[str] = []
        for code in languages:
            words = self.language(code)
            if words != own and words not in out:
                out.append(words)
        return out

    def untranslated(self, languages) -> list[str]:
        """The site's languages without words of their own (their pages use English words)."""
        return [code for code in languages if self.language(code) == "en" and code.split("-")[0] != "en"]

    def missing(self, lang: str) -> list[str]:
        """The words a language's set lacks (shown in English)."""
        own = self.sets[self.language(lang)]
        return [key for key in words_keys() if key not in own]

    def warning(self, languages) -> str | None:
        """The build's and check's warning about languages without words, or without some."""
        said = []
        untranslated = self.untranslated(languages)
        if untranslated:
            said.append(f"no interface words for {', '.join(untranslated)}: headings, buttons and labels on "
                        f"{'its' if len(untranslated) == 1 else 'their'} pages are in English (speechgen has "
                        f"words for {', '.join(LABELS)}; give a language its own in [words.<lang>] of speechgen.toml)")
        for code in dict.fromkeys(self.language(c) for c in languages):
            if code not in untranslated and code != "en" and (gaps := self.missing(code)):
                total = len(words_keys())
                said.append(f"[words.{code}] has {total - len(gaps)} of {total} "
                            f"words; the others are shown in English: {', '.join(gaps[:8])}"
                            + (" ..." if len(gaps) > 8 else ""))
        return "; ".join(said) or None


def _marked(lang: str, text: str, own: str) -> Markup:
    if own == lang.split("-")[0] or own == lang:
        return escape(text)
    return Markup('<span lang="{}">{}</span>').format(own, escape(text))


BUILTIN = Words()


@functools.lru_cache(maxsize=8)
def site_words(project: tuple = ()) -> Words:
    """The words of a site whose config gives `project` (`Config.words`): one `Words` per set."""
    return Words(project) if project else BUILTIN


# speechgen's own words, for callers without a site (a site's: `site_words(config.words)`).
def words_language(lang: str) -> str:
    return BUILTIN.language(lang)


def label(lang: str, key: str) -> str:
    return BUILTIN.label(lang, key)


def words(lang: str, key: str) -> Markup:
    return BUILTIN.html(lang, key)


def count_label(lang: str, n: int, key: str) -> str:
    return BUILTIN.count_label(lang, n, key)[0]


def count(lang: str, n: int, key: str) -> Markup:
    return BUILTIN.count(lang, n, key)


def other_words(lang: str, languages) -> list[str]:
    return BUILTIN.others(lang, languages)


def untranslated(languages) -> list[str]:
    return BUILTIN.untranslated(languages)


def words_warning(languages) -> str | None:
    return BUILTIN.warning(languages)


# The words in a template: the render's own set (`interface_words` in its context: a page's, a
# book's, a card sheet's), else speechgen's.
def _context_words(context) -> Words:
    found = context.get("interface_words")
    return found if isinstance(found, Words) else BUILTIN


@jinja2.pass_context
def _template_label(context, lang: str, key: str) -> str:
    return _context_words(context).label(lang, key)


@jinja2.pass_context
def _template_html(context, lang: str, key: str) -> Markup:
    return _context_words(context).html(lang, key)


@jinja2.pass_context
def _template_count(context, lang: str, n: int, key: str) -> Markup:
    return _context_words(context).count(lang, n, key)


def plural_category(lang: str, n: int) -> str:
    """CLDR's plural category of `n` in `lang` ('one', 'two', 'few', 'many', 'other', 'zero')."""
    try:
        return _locale(lang).plural_form(abs(n))
    except ValueError:
        return "other"


def direction(lang: str) -> str:
    """'rtl' or 'ltr': the writing direction of a language by CLDR (Babel's character order);
    'ltr' for a code CLDR does not know."""
    try:
        return "rtl" if _locale(lang).character_order == "right-to-left" else "ltr"
    except ValueError:
        return "ltr"


@functools.lru_cache(maxsize=64)
def _locale(lang: str):
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None


def lang_attrs(code: str, within: str) -> Markup:
    """` lang="ar" dir="rtl"` for an element in `code` inside a page (or block) in `within`: its
    `lang`, and its `dir` when its direction differs, which also isolates it from the text
    around it (an inline element with `dir` is bidi-isolated). Asked about 25 times a page for
    the same few pairs: plain strings' answers are kept (Markup's `format` is slow)."""
    if type(code) is str and type(within) is str:
        return _lang_attrs(code, within)
    return _lang_attrs.__wrapped__(code, within)      # a Markup or other value from a project template


@functools.lru_cache(maxsize=256)
def _lang_attrs(code: str, within: str) -> Markup:
    attrs = Markup(' lang="{}"').format(code)
    if direction(code) != direction(within):
        attrs += Markup(' dir="{}"').format(direction(code))
    return attrs


# The house style for the interface's own languages; every other language gets CLDR's long date.
DATE_PATTERNS = {"id": "d MMMM y", "en": "d MMMM y"}


def format_date(value: dt.date, lang: str) -> str:
    """'15 Agustus 2025', '15 August 2025', '15 de agosto de 2025' (CLDR month names via Babel)."""
    return babel_format_date(value, DATE_PATTERNS.get(lang, "long"), locale=lang.replace("-", "_"))


# Indonesia's zones by their offset, as Indonesians write a time ("09.00 WIB"); another offset as UTC±hh:mm.
ZONE_NAMES = {7 * 3600: "WIB", 8 * 3600: "WITA", 9 * 3600: "WIT", 0: "UTC"}


def format_moment(value: dt.datetime, lang: str) -> str:
    """'16 Agustus 2025, 09.00 WIB', '16 August 2025, 9:00 AM WIB': the date as `format_date`,
    the time in the language's own short form (CLDR via Babel), in the moment's own offset."""
    from babel.dates import format_time

    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    zone = ZONE_NAMES.get(seconds)
    if zone is None:
        sign, rest = ("+" if seconds >= 0 else "-"), abs(seconds)
        zone = f"UTC{sign}{rest // 3600:02d}:{rest % 3600 // 60:02d}"
    clock = format_time(value.replace(tzinfo=None), "short", locale=lang.replace("-", "_"))
    return f"{format_date(value.date(), lang)}, {clock} {zone}"


def grouped(hex_digits: str) -> str:
    """A SHA-256 in groups of four, upper case, as printed: 'AB12 CD34 ...'."""
    return " ".join(hex_digits[i:i + 4].upper() for i in range(0, len(hex_digits), 4))


def language_name(lang: str) -> str:
    """A language's name in itself, as a menu shows it: from the table above, else from CLDR,
    its first letter capitalised as CLDR's context transforms do for a menu or list
    ('Français', 'Español'; a script without case is left as it is)."""
    if lang in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[lang]
    try:
        name = _locale(lang).get_display_name() or lang
    except ValueError:
        return lang
    return name[:1].upper() + name[1:]


# What one render of a template may take: a page, a book's HTML or a card sheet part. A project
# template that loops without end, recurses or builds a huge text stops with its file and line.
RENDER_SECONDS = 30.0
MAX_TEMPLATE_INT = 10_000_000          # a number passed to a filter or function (width, count, ...)
MAX_TEMPLATE_TEXT = 16 * 1024 * 1024   # characters (or items) one `*` may make
_render = threading.local()


class TemplateLimit(jinja2.TemplateRuntimeError):
    """A template went past a render limit (time, size, recursion)."""


def _check_deadline() -> None:
    deadline = getattr(_render, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        _render.deadline = None          # said once; the error unwinds the render
        raise TemplateLimit(f"the template took longer than {RENDER_SECONDS:g} s to render "
                            "(a loop without end?)")


def _check_arguments(args, kwargs) -> None:
    _check_deadline()
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEMPLATE_INT:
            raise TemplateLimit(f"the number {value:,} is larger than a template may pass "
                                f"({MAX_TEMPLATE_INT:,})")


def _guarded(function):
    """A filter as templates call it: Jinja calls filters directly, past the sandbox's `call`, so
    `"x"|center(10**9)` is stopped here."""
    @functools.wraps(function)                 # keeps Jinja's pass_context & co. marks
    def guarded(*args, **kwargs):
        _check_arguments(args, kwargs)
        return function(*args, **kwargs)
    return guarded


class _Range:
    """`range()` in a template: the sandbox's size limit, and the render's time limit on every
    1,024 steps, so nested loops cannot run for ever."""

    def __init__(self, *args: int) -> None:
        self.values = safe_range(*args)

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        for n, value in enumerate(self.values):
            if not n & 1023:
                _check_deadline()
            yield value


class _Template(jinja2.Template):
    """A render with a deadline; Python's own limits (recursion, overflow, memory) said as a
    template error at the template's line, like any other."""

    def render(self, *args, **kwargs):
        outer = getattr(_render, "deadline", None)
        if outer is None:
            _render.deadline = time.monotonic() + RENDER_SECONDS
        try:
            return super().render(*args, **kwargs)
        except (RecursionError, OverflowError, MemoryError) as exc:
            what = {RecursionError: "recursion deeper than Python allows (a macro that calls itself without end?)",
                    OverflowError: f"a number too large: {exc}",
                    MemoryError: "more memory than a page may take"}[type(exc)]
            raise TemplateLimit(what).with_traceback(exc.__traceback__) from None
        finally:
            if outer is None:
                _render.deadline = None


class _Environment(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (templates are the site's code, but reach no Python internals), with every
    read of a model object noted for the build's dependency record, and a render's limits."""

    template_class = _Template
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        _check_deadline()
        if operator == "**" and isinstance(right, int) and right > 64 and not (
                isinstance(left, int) and abs(left) <= 1):
            raise TemplateLimit(f"{left!r} ** {right!r}: a number too large for a template")
        if operator == "*":
            for text, times in ((left, right), (right, left)):
                if isinstance(text, (str, list, tuple)) and isinstance(times, int) \
                        and len(text) * times > MAX_TEMPLATE_TEXT:
                    raise TemplateLimit(f"a text or list of {len(text) * times:,} characters or items: "
                                        "more than a page may hold")
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        deps.note(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        deps.note(obj, argument)
        return super().getitem(obj, argument)


def _finalize(value):
    deps.note(value)            # an object printed whole has been read whole
    return value


@dataclass(frozen=True)
class Templates:
    """Every template the build may use, read once: the renderers never touch the disk."""

    env: jinja2.Environment
    digest: str                  # SHA-256 over every file, the project's and the theme's
    print_css: str               # the project's templates/print.css ("" without one)


def load_templates(project_templates: Path | None, problems: Problems,
                   compiled: jinja2.BytecodeCache | None = None) -> Templates:
    """The project's templates/ over the bundled theme; only regular files whose real path is
    inside their folder (a symlink out of the project is refused, naming the file). `compiled`:
    where templates compiled by an earlier build are kept (the build's memo), or None."""
    project_files = _read_folder(project_templates, problems) if project_templates is not None else {}
    theme_files = _read_folder(THEME_DIR / "templates", problems)
    digest = hashlib.sha256()
    for origin, files in (("project", project_files), ("theme", theme_files)):
        for name, data in sorted(files.items()):
            digest.update(f"{origin}/{name}".encode() + b"\0" + hashlib.sha256(data).digest())
    key = (str(project_templates), digest.hexdigest())
    known = _COMPILED.get(key)
    if known is not None:                # the same templates as a build before in this process (serve)
        known.env.bytecode_cache = compiled          # this build's memo (`check` keeps nothing)
        return known
    bundled = _MemoryLoader(_texts(theme_files), str(THEME_DIR / "templates"))
    env = _Environment(
        loader=jinja2.ChoiceLoader([_MemoryLoader(_texts(project_files), "templates"),
                                    jinja2.PrefixLoader({"!default": bundled}), bundled]),
        autoescape=True,                 # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        bytecode_cache=compiled,
    )
    env.globals["range"] = _Range
    env.filters["date"] = format_date
    env.filters["moment"] = format_moment
    env.filters["grouped"] = grouped
    env.globals["label"] = _template_label
    env.globals["label_html"] = _template_html          # names a template's own variables are unlikely to take
    env.globals["count_words"] = _template_count
    env.globals["direction"] = direction
    env.globals["lang_attrs"] = lang_attrs
    env.globals["language_name"] = language_name
    env.filters.update({name: _guarded(function) for name, function in env.filters.items()})
    css = project_files.get(PRINT_CSS, b"").decode("utf-8", "replace")
    templates = Templates(env, digest.hexdigest(), css)
    _COMPILED.clear()                    # only the latest: an edited template never piles up
    _COMPILED[key] = templates
    return templates


# The environment of the last templates read, by their folder and digest: a preview server's
# rebuild finds its templates compiled already. Jinja keeps what it compiled inside the environment.
_COMPILED: dict[tuple[str, str], Templates] = {}


PRINT_CSS = "print.css"          # PROJECT/templates/print.css, applied after the theme's print.css
MAX_TEMPLATE_BYTES = 4 * 1024 * 1024


def _read_folder(folder: Path, problems: Problems) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    if folder.is_symlink() or not folder.is_dir():
        problems.add(folder, None, "must be a folder inside the project, not a link or a file")
        return {}
    real = folder.resolve()
    files: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        name = path.relative_to(folder).as_posix()
        if path.is_symlink() and not path.resolve().is_relative_to(real):
            problems.add(path, None, "links to a file outside the templates folder; templates are "
                         "read only from inside the project")
            continue
        if not path.is_file():
            problems.add(path, None, "is not a regular file")
            continue
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            problems.add(path, None, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
            continue
        files[name] = path.read_bytes()
    return files


class _MemoryLoader(jinja2.BaseLoader):
    """Templates read once; messages name them as files (`templates/speech.html:3`)."""

    def __init__(self, texts: dict[str, str], folder: str) -> None:
        self.texts = texts
        self.folder = folder

    def get_source(self, environment, template):
        if template not in self.texts:
            raise jinja2.TemplateNotFound(template)
        return self.texts[template], f"{self.folder}/{template}", lambda: True

    def list_templates(self):
        return sorted(self.texts)


def _texts(files: dict[str, bytes]) -> dict[str, str]:
    out = {}
    for name, data in files.items():
        try:
            out[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue             # not a template (an image a print template shows, say)
    return out


def check_templates(env: jinja2.Environment, names: list[str], problems: Problems) -> None:
    """Compile every template up front, so a syntax error names its file and line before any work."""
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            problems.add(exc.filename or name, exc.lineno,
                         f"template syntax error: {exc.message}")
        except jinja2.TemplateNotFound as exc:
            problems.add(name, None, f"template not found: {exc.name}")


TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".css", ".j2")


def template_error(exc: Exception, page: str) -> tuple[str, int | None, str]:
    """Where in a template a render error happened: (file, line, message)."""
    import traceback

    filename, line = "templates", None
    for frame in traceback.extract_tb(exc.__traceback__):   # the innermost template's frame, never speechgen's
        if frame.filename.endswith(TEMPLATE_SUFFIXES):
            filename, line = frame.filename, frame.lineno
    message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    if isinstance(exc, jinja2.UndefinedError):
        message = f"undefined variable: {message}"
    return filename, line, f"{message} (while rendering {page})"

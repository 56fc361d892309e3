"""`speechgen.toml` -> a frozen, typed `Config`. Every problem is reported at once; unknown keys are errors."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from speechgen.errors import ConfigError, Problem, Problems
from speechgen.labels import word_problem

CONFIG_NAME = "speechgen.toml"
MAX_CONFIG_BYTES = 256 * 1024       # a settings file; anything larger is not one
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?\Z")
PAGE_SIZES = ("A4", "A5", "B5", "Letter")
PDF_VARIANTS = ("pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/a-2a", "pdf/a-3a", "pdf/ua-1", "none")


@dataclass(frozen=True)
class SiteConfig:
    title: str
    base_url: str
    default_language: str = "id"
    languages: tuple[str, ...] = ("id", "en")
    publisher: str = ""
    description: str = ""


@dataclass(frozen=True)
class PdfConfig:
    enabled: bool = True
    page_size: str = "A4"
    variant: str = "pdf/a-3u"    # the books meet 3u (every font maps its glyphs to Unicode), not only 3b
    ua: bool = False             # claim PDF/UA-1 as well as the PDF/A variant (docs/pdf.md)
    timeout: float = 120.0
    emblem: str = ""             # PNG or JPEG under static/, on the cover
    fonts: tuple[str, ...] = ()  # font files under static/ that PDFs may also draw with


@dataclass(frozen=True)
class QrConfig:
    enabled: bool = True
    logo: str = ""
    error_correction: str = "M"
    card_size: str = "A6"
    module_min_mm: float = 0.4


@dataclass(frozen=True)
class SigningConfig:
    certificate: str = ""        # the publisher's public certificate (PEM) in the project; "" = unsigned
    timestamp_url: str = ""      # an RFC 3161 time-stamping authority: editions become PAdES B-LTA; "" = B-B
    tsa_certificate: str = ""    # the root (PEM, in the project) of a TSA not under the publisher's CA


@dataclass(frozen=True)
class Config:
    root: Path
    site: SiteConfig
    pdf: PdfConfig = field(default_factory=PdfConfig)
    qr: QrConfig = field(default_factory=QrConfig)
    signing: SigningConfig = field(default_factory=SigningConfig)
    # the project's interface words, [words.<lang>]: ((lang, ((key, word), ...)), ...), sorted
    words: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @property
    def speeches_dir(self) -> Path:
        return self.root / "speeches"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @property
    def ledger_file(self) -> Path:
        """The editions ledger: every released PDF (speechgen.editions)."""
        return self.root / "editions.txt"

    @property
    def editions_dir(self) -> Path:
        """Released editions' bytes and sources, as the ledger lists them."""
        return self.root / "editions"

    @property
    def recipients_file(self) -> Path:
        return self.root / "recipients.yaml"

    @property
    def path(self) -> Path:
        return self.root / CONFIG_NAME


class Unreadable(Exception):
    """A file that is not an ordinary file of a sane size; the message says why, without a path."""


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, read without ever hanging or holding
    more than `limit` + 1 bytes: a FIFO, a device (a link to /dev/zero), a socket or a folder is
    refused from its stat before it is opened for real, and a file larger than the limit (a
    sparse 2 GB file) from its size, before a byte is read. Raises `Unreadable` or OSError."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise Unreadable(f"is not a regular file but {_file_kind(info.st_mode)}; only ordinary "
                         "files are read")
    if info.st_size > limit:
        raise Unreadable(f"file is {info.st_size:,} bytes; the limit is {limit:,}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)              # the file opened, not the one looked at a moment before
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"is not a regular file but {_file_kind(info.st_mode)}; only ordinary "
                             "files are read")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:                     # it grew while being read
        raise Unreadable(f"file is more than {limit:,} bytes; the limit is {limit:,}")
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    for check, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket")):
        if check(mode):
            return name
    return "a special file"


# A key's expected Python type and an optional check returning an error message or None.
Check = Callable[[Any], "str | None"]
_Key = tuple[type | tuple[type, ...], Check | None]


def _one_of(options: tuple[str, ...]) -> Check:
    return lambda v: None if v in options else f"must be one of {', '.join(options)}"


def _base_url(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http(s) URL such as https://pidato.example.go.id/arsip/"
    if parts.username or parts.password:
        return "must not contain a user name or password"
    if parts.query or parts.fragment:
        return "must not contain a query (?) or fragment (#)"
    return None


def language_problem(code: object) -> str | None:
    """The one rule for a language code, wherever one is written: a BCP 47 tag (`id`, `en`,
    `es-419`, `zh-Hant`) that CLDR knows, so dates and names can be written in it. Interface words
    missing in a language come in English."""
    if not isinstance(code, str) or not LANG_RE.match(code):
        return f"{code!r} is not a language code such as id, en or es-419"
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return f"{code!r} is not a language CLDR knows (dates and names could not be written in it)"
    return None


def _languages(value: list) -> str | None:
    if not value:
        return "must be a non-empty list of language codes such as [\"id\", \"en\"]"
    for code in value:
        problem = language_problem(code)
        if problem:
            return f"lists {problem}"
    if len(set(value)) != len(value):
        return "lists a language twice"
    return None


def _timeout(value: float) -> str | None:
    return None if 0 < value <= 3600 else "must be more than 0 and at most 3600 seconds"


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"

def _timestamp_url(value: str) -> str | None:
    """An RFC 3161 time-stamping authority's address: http or https (a timestamp is signed by the
    TSA, so plain http is as safe as https, and most TSAs answer on http)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or value != value.strip():
        return ("must be the http:// or https:// address of an RFC 3161 time-stamping authority "
                "(otoritas cap waktu), e.g. http://timestamp.example.go.id/tsa")
    if parts.username or parts.password:
        return "must not hold a user name or password (the URL is committed with the project)"
    return None


SCHEMA: dict[str, dict[str, _Key]] = {
    "site": {
        "title": (str, lambda v: None if v.strip() else "must not be empty"),
        "base_url": (str, _base_url),
        "default_language": (str, lambda v: language_problem(v) and "must be one of the languages, such as id"),
        "languages": (list, _languages),
        "publisher": (str, None),
        "description": (str, None),
    },
    "pdf": {
        "enabled": (bool, None),
        "page_size": (str, _one_of(PAGE_SIZES)),
        "variant": (str, _one_of(PDF_VARIANTS)),
        "ua": (bool, None),
        "timeout": ((int, float), _timeout),
        "emblem": (str, None),
        "fonts": (list, lambda v: None if all(isinstance(x, str) and x for x in v) else "must be a list of file paths"),
    },
    "qr": {
        "enabled": (bool, None),
        "logo": (str, None),
        "error_correction": (str, _one_of(("L", "M", "Q", "H"))),
        "card_size": (str, _one_of(("A6", "A7"))),
        "module_min_mm": ((int, float), _positive),
    },
    "signing": {
        "certificate": (str, lambda v: None if v.strip() else "must name a PEM file in the project, e.g. publisher.pem"),
        "timestamp_url": (str, _timestamp_url),
        "tsa_certificate": (str, lambda v: None if v.strip() else "must name a PEM file in the project, e.g. tsa-root.pem"),
    },
}
REQUIRED = {"site": ("title", "base_url")}

SECTIONS = {"site": SiteConfig, "pdf": PdfConfig, "qr": QrConfig, "signing": SigningConfig}
WORDS = "words"            # [words.<lang>]: the project's interface words (labels.py)


def _key_line(text: str, section: str, key: str | None) -> int | None:
    """tomllib gives no positions; find the line of `[section]` / `key =` for the message."""
    in_section = key is None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            if in_section and key is not None:
                return None
            if stripped.strip("[] ") == section:
                if key is None:
                    return number
                in_section = True
        elif in_section and key is not None and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def key_line(path: Path, section: str, key: str | None) -> int | None:
    """The line of `key =` in `[section]` of a config file, for checks made after loading."""
    try:
        return _key_line(read_capped(path, MAX_CONFIG_BYTES).decode("utf-8"), section, key)
    except (OSError, Unreadable, UnicodeDecodeError):
        return None


def project_above(folder: Path) -> Path | None:
    """The nearest folder above `folder` (a real folder, resolved) that holds speechgen.toml, as
    git finds its repository: parent after parent, not across a file system boundary."""
    try:
        if not folder.is_dir():
            return None
        device = folder.stat().st_dev
        for parent in folder.parents:
            if parent.stat().st_dev != device:
                return None
            if (parent / CONFIG_NAME).is_file():
                return parent
    except (OSError, ValueError):
        return None
    return None


def load_config(root: Path) -> Config:
    """Read and validate `root/speechgen.toml`, reporting every problem at once; without one
    there, the nearest folder above `root` that has one is the project (`project_above`)."""
    try:
        root = root.resolve()
        path = root / CONFIG_NAME
        found = path.exists() or path.is_symlink()
    except (OSError, ValueError, RuntimeError) as exc:
        # A NUL in the name, a name longer than the system allows, a loop of links.
        reason = ("the path contains a NUL character" if isinstance(exc, ValueError)
                  else getattr(exc, "strerror", None) or str(exc))
        shown = os.fsencode(str(root)).decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        if len(shown) > 200:
            shown = shown[:200] + "…"
        raise ConfigError(Problem(shown, None, f"cannot open the project folder: {reason}")) from None
    try:
        str(root).encode("utf-8")
    except UnicodeEncodeError:      # its pages, keys and messages all name it: refused at once
        shown = os.fsencode(str(root)).decode("utf-8", "backslashreplace")
        raise ConfigError(Problem(shown, None, "the project folder's path is not UTF-8; rename the "
                                  "folder (or the folders above it)")) from None
    if not found and (above := project_above(root)) is not None:
        root, path, found = above, above / CONFIG_NAME, True
    problems = Problems(root)
    if not found:
        problems.add(path, None, f"not found in {root} or any folder above it: a speechgen project needs "
                     f"{CONFIG_NAME} (tidak ditemukan; buat dengan `speechgen init DIR`)")
        problems.raise_if_any(ConfigError)
    try:
        raw = read_capped(path, MAX_CONFIG_BYTES)
    except (Unreadable, OSError) as exc:
        # Named as written, not followed: a link may lead to /dev/zero or back to itself.
        reason = str(exc) if isinstance(exc, Unreadable) else f"cannot be read: {exc.strerror or exc}"
        problems.extend([Problem(CONFIG_NAME, None, reason)])
        problems.raise_if_any(ConfigError)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        problems.add(path, None, f"not UTF-8 at byte {exc.start}")
        problems.raise_if_any(ConfigError)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 has the position only in the text: "... (at line 2, column 13)".
        found = re.search(r"\(at line (\d+), column \d+\)$", str(exc))
        line = getattr(exc, "lineno", None) or (int(found[1]) if found else None)
        message = getattr(exc, "msg", None) or re.sub(r"\s*\(at line \d+, column \d+\)$", "", str(exc))
        problems.add(path, line, f"malformed TOML: {message}")
        problems.raise_if_any(ConfigError)

    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    words: dict[str, tuple[tuple[str, str], ...]] = {}
    for section, body in data.items():
        if section == WORDS:
            words = _project_words(body, text, path, problems)
            continue
        if section not in SCHEMA:
            problems.add(path, _key_line(text, section, None),
                         f"unknown section [{section}]; expected one of: {', '.join([*SCHEMA, WORDS])}")
            continue
        if not isinstance(body, dict):
            problems.add(path, _key_line(text, section, None), f"[{section}] must be a table")
            continue
        for key, value in body.items():
            line = _key_line(text, section, key)
            spec = SCHEMA[section].get(key)
            if spec is None:
                problems.add(path, line, f"unknown key {key!r} in [{section}]; expected one of: "
                             f"{', '.join(SCHEMA[section])}")
                continue
            kind, check = spec
            if not isinstance(value, kind) or (kind in (int, (int, float)) and isinstance(value, bool)):
                expected = kind.__name__ if isinstance(kind, type) else "number"
                problems.add(path, line, f"[{section}] {key} must be a {expected}, not {value!r}")
                continue
            message = check(value) if check else None
            if message:
                problems.add(path, line, f"[{section}] {key} {message}")
                continue
            values[section][key] = tuple(value) if isinstance(value, list) else value
    for section, keys in REQUIRED.items():
        for key in keys:
            if key not in data.get(section, {}):
                problems.add(path, _key_line(text, section, None), f"[{section}] {key} is required")
    site = values["site"]
    default = site.get("default_language", SiteConfig.default_language)
    if default not in site.get("languages", SiteConfig.languages):
        problems.add(path, _key_line(text, "site", "default_language"),
                     f"[site] default_language {default!r} is not in languages")
    for lang in words:
        if lang not in site.get("languages", SiteConfig.languages):
            problems.add(path, _key_line(text, f"{WORDS}.{lang}", None) or _key_line(text, WORDS, None),
                         f"[{WORDS}.{lang}]: {lang!r} is not in [site] languages")
    problems.raise_if_any(ConfigError)

    if not site["base_url"].endswith("/"):
        site["base_url"] += "/"
    return Config(
        root=root,
        site=SiteConfig(**site),
        pdf=PdfConfig(**values["pdf"]),
        qr=QrConfig(**values["qr"]),
        signing=SigningConfig(**values["signing"]),
        words=tuple(sorted(words.items())),
    )


def _project_words(body: object, text: str, path: Path, problems: Problems) -> dict:
    """[words.<lang>] tables: the project's interface words by language, each checked against
    speechgen's own (`labels.word_problem`: a known key, text, the same placeholders)."""
    if not isinstance(body, dict):
        problems.add(path, _key_line(text, WORDS, None), f"[{WORDS}] must hold a table for each language, as [{WORDS}.fr]")
        return {}
    found = {}
    for lang, table in body.items():
        header = f"{WORDS}.{lang}"
        if not isinstance(table, dict):
            problems.add(path, _key_line(text, WORDS, lang) or _key_line(text, header, None),
                         f"[{header}] must be a table of words, as download_pdf = \"...\"")
            continue
        pairs = []
        for key, value in table.items():
            message = word_problem(key, value)
            if message:
                problems.add(path, _key_line(text, header, key), f"[{header}] {message}")
            else:
                pairs.append((key, value))
        found[lang] = tuple(sorted(pairs))
    return found

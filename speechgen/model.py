"""The validated model: frozen dataclasses. No I/O but the long texts' store (`speechgen.texts`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from speechgen import texts

# A text as the reader parsed it for comparing editions (`reader.numbered_blocks`): its title
# (number 0), then each block of the body, as (paragraph number, "ul"/"ol"/"", plain text).
Blocks = tuple[tuple[int, str, str], ...]


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Correction:
    """A `corrections:` entry of a released speech: the next edition's date and why it was made.
    The note is one text, or one per language (`(lang, text)` pairs; lang "" for the one text)."""

    date: dt.date
    notes: tuple[tuple[str, str], ...]
    line: int = 0                # line of the entry in its source file

    def note(self, lang: str) -> str:
        """The note in `lang`, else the one text, else the first given."""
        by_lang = dict(self.notes)
        return by_lang.get(lang) or by_lang.get("") or (self.notes[0][1] if self.notes else "")


@dataclass(frozen=True)
class Withdrawal:
    """`withdrawn:` on a released speech: out of listings, feeds, sitemap and search from `date`,
    its pages, copies and editions kept with this notice. The note as in `Correction`."""

    date: dt.date
    notes: tuple[tuple[str, str], ...]
    line: int = 0                # line of `withdrawn:` in the source that gives it
    source: Path | None = None   # that source (the first of its files to give it)

    def note(self, lang: str) -> str:
        return Correction(self.date, self.notes).note(lang)


@dataclass(frozen=True, init=False)
class Version:
    """One language version of a speech: one source file `<stem>.<lang>.md`.

    Its two long texts (the file as written, the rendered body) are held by digest in
    `speechgen.texts`, so a model of a large archive stays small; `source_text` and `body_html`
    read them back."""

    lang: str
    title: str
    speaker: str
    date: dt.date
    source: Path                 # absolute path of the Markdown file
    source_sha: str              # SHA-256 of the file as written (embedded in the archival PDF)
    body_sha: str                # SHA-256 of the rendered, sanitised Markdown
    headings: tuple[Heading, ...] = ()
    subtitle: str = ""
    occasion: str = ""
    place: str = ""
    summary: str = ""            # plain-text opening, for feeds and meta descriptions
    images: tuple[str, ...] = () # project-relative files the body references
    text_sha: str = ""           # SHA-256 of the text a reader reads (see `reader.text_digest`)
    corrections: tuple[Correction, ...] = ()
    embargo: dt.datetime | None = None   # `embargo:` of this file: in no public output before it
    embargo_line: int = 0

    def __init__(self, lang: str, title: str, speaker: str, date: dt.date, source: Path,
                 source_text: str, body_html: str, headings: tuple[Heading, ...] = (),
                 subtitle: str = "", occasion: str = "", place: str = "", summary: str = "",
                 images: tuple[str, ...] = (), text_sha: str = "",
                 corrections: tuple[Correction, ...] = (), embargo: dt.datetime | None = None,
                 embargo_line: int = 0) -> None:
        values = dict(lang=lang, title=title, speaker=speaker, date=date, source=source,
                      source_sha=texts.STORE.put(source_text), body_sha=texts.STORE.put(body_html),
                      headings=headings, subtitle=subtitle, occasion=occasion, place=place,
                      summary=summary, images=images, text_sha=text_sha, corrections=corrections,
                      embargo=embargo, embargo_line=embargo_line)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def known(cls, **fields) -> "Version":
        """A version whose two long texts are already in `speechgen.texts` (or expected there),
        named by `source_sha` and `body_sha`: the build's remembered reading of a source."""
        version = cls.__new__(cls)
        defaults = {f.name: f.default for f in dataclasses.fields(cls)
                    if f.default is not dataclasses.MISSING}
        for name, value in {**defaults, **fields}.items():
            object.__setattr__(version, name, value)
        return version

    @property
    def source_text(self) -> str:
        return texts.STORE.get(self.source_sha)

    @property
    def body_html(self) -> str:
        return texts.STORE.get(self.body_sha)


@dataclass(frozen=True)
class Speech:
    """A speech with all its language versions (files sharing a folder and stem)."""

    year: str
    slug: str
    versions: dict[str, Version]          # by language code, default language first
    recipients: tuple[str, ...] = ()      # recipient ids or group names as written
    status: str = "published"
    withdrawn: Withdrawal | None = None   # withdrawn: kept, but listed nowhere
    aliases: tuple[str, ...] = ()         # ids it had before a rename ("2025/old-slug"), oldest first

    @property
    def listed(self) -> bool:
        """Shown in listings, feeds, sitemap and search: every speech but a withdrawn one."""
        return self.withdrawn is None

    @property
    def id(self) -> str:
        return f"{self.year}/{self.slug}"

    @property
    def date(self) -> dt.date:
        return self.primary.date

    @property
    def primary(self) -> Version:
        return next(iter(self.versions.values()))

    @property
    def speaker(self) -> str:
        return self.primary.speaker

    @property
    def occasion(self) -> str:
        return self.primary.occasion

    def opens(self, lang: str) -> dt.datetime | None:
        """The moment a language version may be read: its own `embargo:`, else the first
        language's (one embargo, written in the first language's file, holds every language), else None."""
        given = self.embargo_source(lang)
        return given.embargo if given is not None else None

    def embargo_source(self, lang: str) -> Version | None:
        """The version whose `embargo:` holds `lang` back (its file and line), or None."""
        for version in (self.versions[lang], self.primary):
            if version.embargo is not None:
                return version
        return None


@dataclass(frozen=True)
class Recipient:
    id: str
    name: str
    group: str = ""
    short_name: str = ""
    address: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Sources:
    """Everything read from a project, validated."""

    speeches: tuple[Speech, ...]
    recipients: tuple[Recipient, ...] = ()
    static_files: tuple[Path, ...] = ()
    drafts: tuple[str, ...] = ()           # draft sources left out (project-relative paths)


@dataclass(frozen=True)
class Artifact:
    """One output file: a path relative to the output folder and its bytes."""

    dest: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class PdfInfo:
    """What a rendered PDF is: where it is and how a reader can check it."""

    dest: str
    sha256: str
    pages: int
    bytes: int

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sha256)

    @property
    def size_label(self) -> str:
        if self.bytes >= 1024 * 1024:
            return f"{self.bytes / (1024 * 1024):.1f} MB"
        return f"{max(1, round(self.bytes / 1024))} KB"


@dataclass(frozen=True)
class Edition:
    """One edition of one speech in one language: released (frozen bytes kept in the project,
    recorded in the ledger) or the unreleased one this build renders."""

    number: int                  # 1, 2, ...
    date: dt.date                # the speech's date for edition 1, its correction's date after
    sha256: str
    bytes: int
    pages: int
    dest: str                    # where the site serves this edition's bytes for good ("" if unreleased)
    released: bool = True
    notes: tuple[tuple[str, str], ...] = ()   # the correction that made it (none for edition 1)
    text_sha: str = ""           # what the text digested to (reader.text_digest)
    source_sha: str = ""         # key in `texts.STORE` of its source as released (for the diff)
    revisions: tuple[str, ...] = ()   # SHA-256 of its earlier revisions, the one released first (`renew`)

    def note(self, lang: str) -> str:
        return Correction(self.date, self.notes).note(lang)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sha256)

    @property
    def released_fingerprint(self) -> str:
        """The fingerprint of the bytes as released (what a printed card shows for good); the
        served file, renewed since, begins with those bytes."""
        return fingerprint(self.revisions[0] if self.revisions else self.sha256)

    @property
    def size_label(self) -> str:
        return PdfInfo(self.dest, self.sha256, self.pages, self.bytes).size_label


def fingerprint(sha256: str) -> str:
    """Short form of a SHA-256 printed on pages and cards: 'a1b2 c3d4 e5f6 0718'."""
    return " ".join(sha256[i:i + 4] for i in range(0, 16, 4))

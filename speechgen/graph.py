"""The one place that decides URLs and output paths, and catches two things claiming one path."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from speechgen.config import Config
from speechgen.errors import Problems, SourceError
from speechgen.markdown import slugify
from speechgen.model import Recipient, Sources, Speech, Version

COPY_FOLDER = "salinan"      # <year>/<slug>/salinan/<recipient>/: "copy for"
SIDE_BY_SIDE_FOLDER = "berdampingan"   # <year>/<slug>/berdampingan/: all languages, paragraph by paragraph
SEARCH_DEST = "cari/index.html"
ACCESSIBILITY_DEST = "aksesibilitas/index.html"


@dataclass(frozen=True)
class Archive:
    """A listing of speeches: by year, by speaker or by occasion."""

    kind: str                    # "year" | "speaker" | "occasion"
    key: str                     # the year, or the speaker's / occasion's name
    dest: str
    speeches: tuple[Speech, ...]


@dataclass(frozen=True)
class Copy:
    """One recipient institution's copy of one speech."""

    speech: Speech
    recipient: Recipient
    number: int                  # serial on the card: 1..total
    total: int


@dataclass(frozen=True)
class Page:
    dest: str
    template: str
    kind: str
    lang: str
    title: str
    speech: Speech | None = None
    version: Version | None = None
    archive: Archive | None = None
    copy: Copy | None = None
    indexed: bool = True         # listed in sitemap and search


@dataclass(frozen=True)
class Site:
    config: Config
    speeches: tuple[Speech, ...]
    recipients: tuple[Recipient, ...]
    pages: tuple[Page, ...]
    years: tuple[Archive, ...]
    speakers: tuple[Archive, ...]
    occasions: tuple[Archive, ...]
    copies: tuple[Copy, ...] = ()
    static_files: tuple = field(default=())

    # --- URLs: every other stage asks these --------------------------------------------------
    def speech_dest(self, speech: Speech, lang: str) -> str:
        return speech_dest(speech, lang, self.config.site.default_language)

    def pdf_dest(self, speech: Speech, lang: str) -> str:
        return f"{speech.year}/{speech.slug}/{speech.slug}.{lang}.pdf"

    def copy_dest(self, copy: Copy) -> str:
        return copy_dest(copy)

    def qr_dest(self, copy: Copy, ext: str) -> str:
        return posixpath.join(posixpath.dirname(self.copy_dest(copy)), f"qr.{ext}")

    def side_by_side_dest(self, speech: Speech) -> str:
        return f"{speech.year}/{speech.slug}/{SIDE_BY_SIDE_FOLDER}/index.html"

    def cards_dest(self, speech: Speech, ext: str = "pdf") -> str:
        return f"{speech.year}/{speech.slug}/kartu-qr.{ext}"

    def url(self, dest: str) -> str:
        """Absolute public URL of an output path (folders end in '/')."""
        return self.config.site.base_url + pretty(dest)

    def archive(self, kind: str, key: str) -> Archive:
        listing = {"year": self.years, "speaker": self.speakers, "occasion": self.occasions}[kind]
        return next(a for a in listing if a.key == key)

    def copies_of(self, speech: Speech) -> tuple[Copy, ...]:
        return tuple(c for c in self.copies if c.speech.id == speech.id)


def speech_dest(speech: Speech, lang: str, default_language: str) -> str:
    # Depends on the language alone, so adding a translation later never moves a printed URL.
    if lang == default_language:
        return f"{speech.year}/{speech.slug}/index.html"
    return f"{speech.year}/{speech.slug}/{lang}/index.html"


def copy_dest(copy: Copy) -> str:
    # Printed on cards and mailed: must never move, so it depends on year, slug and id alone.
    return f"{copy.speech.year}/{copy.speech.slug}/{COPY_FOLDER}/{copy.recipient.id}/index.html"


def pretty(dest: str) -> str:
    """'2025/x/index.html' -> '2025/x/' for public URLs."""
    if dest == "index.html":
        return ""
    return dest[: -len("index.html")] if dest.endswith("/index.html") else dest


def relative(from_dest: str, to_dest: str) -> str:
    """A link from one output file to another that works on any host, sub-path, or from disk."""
    target, _, anchor = to_dest.partition("#")
    rel = posixpath.relpath(target, posixpath.dirname(from_dest) or ".")
    return rel + (f"#{anchor}" if anchor else "")


def root_prefix(from_dest: str) -> str:
    """'2025/x/index.html' -> '../../': the way from an output file back to the site's root."""
    depth = from_dest.count("/")
    return "../" * depth if depth else "./"


def make_site(config: Config, sources: Sources) -> Site:
    default = config.site.default_language
    speeches = sources.speeches
    problems = Problems(config.root)
    claimed: dict[str, str] = {}

    def claim(dest: str, owner: str) -> None:
        key = dest.lower()  # case-insensitive hosts and file systems would merge these
        if key in claimed and claimed[key] != owner:
            problems.add(owner, None, f"claims the URL {pretty(dest)!r} that {claimed[key]} also "
                         "claims; give one of them another slug")
        claimed.setdefault(key, owner)

    pages: list[Page] = []
    for speech in speeches:
        for lang, version in speech.versions.items():
            dest = speech_dest(speech, lang, default)
            claim(dest, str(version.source))
            pages.append(Page(dest, "speech.html", "speech", lang, version.title,
                              speech=speech, version=version))
        if len(speech.versions) > 1:   # the same text again: kept out of sitemap and search
            dest = f"{speech.year}/{speech.slug}/{SIDE_BY_SIDE_FOLDER}/index.html"
            claim(dest, f"side-by-side view of {speech.id}")
            pages.append(Page(dest, "side-by-side.html", "side-by-side", speech.primary.lang,
                              speech.primary.title,
                              speech=speech, version=speech.primary, indexed=False))

    years = _group(speeches, "year", lambda s: s.year, lambda k: f"tahun/{k}/index.html")
    speakers = _group(speeches, "speaker", lambda s: s.speaker, _slug_dest("pembicara"))
    occasions = _group([s for s in speeches if s.occasion], "occasion",
                       lambda s: s.occasion, _slug_dest("acara"))
    for archive in years + speakers + occasions:
        claim(archive.dest, f"{archive.kind} {archive.key!r}")
        pages.append(Page(archive.dest, "archive.html", archive.kind, default, archive.key,
                          archive=archive))
    pages.insert(0, Page("index.html", "home.html", "home", default, config.site.title))
    pages.append(Page("404.html", "404.html", "404", default, "404", indexed=False))
    for dest, template, kind in ((SEARCH_DEST, "search.html", "search"),
                                 (ACCESSIBILITY_DEST, "accessibility.html", "accessibility")):
        claim(dest, f"the {kind} page")
        pages.append(Page(dest, template, kind, default, kind))
    copies = tuple(c for s in speeches for c in _copies(s, sources.recipients))
    if config.qr.enabled:
        for c in copies:   # a recipient's own page: noindex, canonical is the public speech page
            dest = copy_dest(c)
            claim(dest, f"the copy of {c.speech.id} for {c.recipient.id!r}")
            pages.append(Page(dest, "copy.html", "copy", c.speech.primary.lang, c.speech.primary.title,
                              speech=c.speech, version=c.speech.primary, copy=c, indexed=False))
    problems.raise_if_any(SourceError)
    return Site(config, speeches, sources.recipients, tuple(pages), years, speakers, occasions,
                copies=copies, static_files=sources.static_files)


def _copies(speech: Speech, recipients: tuple[Recipient, ...]) -> list[Copy]:
    """Front matter names recipient ids or groups; each institution gets one copy, in file order."""
    wanted = set(speech.recipients)
    chosen = [r for r in recipients if r.id in wanted or r.group in wanted]
    return [Copy(speech, r, n, len(chosen)) for n, r in enumerate(chosen, 1)]


def _slug_dest(folder: str):
    taken: dict[str, str] = {}

    def dest(key: str) -> str:
        base = slugify(key)
        slug, n = base, 2
        while taken.get(slug, key) != key:   # two names with one slug get -2, -3
            slug, n = f"{base}-{n}", n + 1
        taken[slug] = key
        return f"{folder}/{slug}/index.html"
    return dest


def _group(speeches, kind, key_of, dest_of) -> tuple[Archive, ...]:
    groups: dict[str, list[Speech]] = {}
    for speech in speeches:
        groups.setdefault(key_of(speech), []).append(speech)
    keys = sorted(groups, reverse=(kind == "year"))
    return tuple(Archive(kind, k, dest_of(k), tuple(groups[k])) for k in keys)
